// ServerStore: everything canvass-server keeps, behind one aggregate of small storage modules
// (storage/modules.h: settings and sessions, device registry, record log, projection queue,
// users, cases, webhook outbox), each written once over a narrow SQL interface (storage/sql.h)
// with two backends — SQLite (embedded default, WAL) and PostgreSQL (several stateless servers
// sharing one database). A backend gives only connection handling, Exec/Query/Transact and a
// dialect table; every rule and message lives in the modules, so both backends keep the same
// contract (tests/unit/storage_contract_test.cpp runs it on both).
//
// The contract that matters is AppendRecords(): it stores a device's verified records in one
// transaction, treats an identical (device, seq, hash) as already stored, and refuses a fork or a
// gap without storing anything. Uniqueness of (device, seq) is enforced by the database itself,
// and the device's chain head is read and updated under a row lock (PostgreSQL) or a write
// transaction (SQLite), so two servers can never both accept a record.
// Thread-safe: the HTTP server calls it from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "canvass/response_log.h"
#include "canvass/status.h"
#include "storage/modules.h"
#include "storage/rows.h"
#include "storage/sql.h"

namespace canvass::server {

// The record inside `stored`, as the server counts it: location and channel those of its device
// (AttributeToDevice). Corruption if the envelope or the record does not decode.
Result<ResponseRecord> DecodeStoredRecord(const StoredRecord& stored);

namespace internal {
// Owns the database; a base ahead of the modules, so that it exists before they refer to it.
struct OwnedSqlDb {
  explicit OwnedSqlDb(std::unique_ptr<SqlDb> db) : owned_db(std::move(db)) {}
  std::unique_ptr<SqlDb> owned_db;
};
}  // namespace internal

// The modules' methods, under today's names: store->AppendRecords(...), store->FindCase(...).
class ServerStore : private internal::OwnedSqlDb,
                    public SettingsStore,
                    public DeviceRegistry,
                    public RecordLog,
                    public ProjectionQueue,
                    public UserStore,
                    public CaseStore,
                    public WebhookOutbox {
 public:
  // `db` migrated already (MigrateSchema).
  explicit ServerStore(std::unique_ptr<SqlDb> db);
  std::string Kind() const { return owned_db->dialect().name; }  // "sqlite" or "postgresql"
  Status Ping();
  SqlDb& sql() { return *owned_db; }
};

struct StoreOptions {
  // SQLite only: the database file never grows past this many MiB (0: no limit). A write that
  // needs more fails with Unavailable ("the database is full") and stores nothing; the WAL and
  // its -shm file come on top. A limit below the current size acts as a full database.
  std::uint32_t sqlite_max_db_mb = 0;
};

// Opens (creating and migrating) the store named by `spec`: "sqlite" (DATA_DIR/canvass.db) or a
// postgresql:// URL.
Result<std::unique_ptr<ServerStore>> OpenStore(const std::string& spec, const std::string& data_dir,
                                               const StoreOptions& options = {});
Result<std::unique_ptr<ServerStore>> OpenSqliteStore(const std::string& path,
                                                     std::uint32_t max_db_mb = 0);
Result<std::unique_ptr<ServerStore>> OpenPostgresStore(const std::string& url);

}  // namespace canvass::server
