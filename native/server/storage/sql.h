// The narrow SQL interface the storage modules (storage/modules.h) are written against, in the
// manner of LevelDB's Env: a backend gives connection handling, three primitives (Exec, Query,
// Transact) and a dialect table; every storage rule is written once above it.
//
// - SQL text uses `?` placeholders; the PostgreSQL backend numbers them ($1, $2, ...).
// - Arguments are views (SqlArg): what they point to must outlive the call. Text arguments must be
//   storable (IsStorableText): a call with one that is not fails with InvalidArgument on every
//   backend before it reaches the database.
// - A row callback must not run statements of its own.
// Backends: storage/sqlite_db.cpp (one connection behind a mutex; statements prepared once and
// cached), storage/postgres_db.cpp (a pool of libpq connections; Transact retries a transaction
// that hit a serialisation failure, deadlock or unique violation). Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/status.h"

namespace canvass::server {

// What differs between the SQL the backends speak.
struct SqlDialect {
  const char* name;           // "sqlite" or "postgresql" (ServerStore::Kind)
  const char* blob;           // column type of bytes: BLOB, BYTEA
  const char* integer;        // of 64-bit integers: INTEGER, BIGINT
  const char* boolean;        // of flags: INTEGER, BOOLEAN
  const char* json;           // of survey definitions, exact bytes: TEXT (SQLite keeps them), BYTEA
  const char* without_rowid;  // table option for tables keyed by their primary key
  const char* serial_key;     // an id column numbering rows in insertion order
  const char* row_id_column;  // for a table without one: "" (SQLite has rowid) or a column
  const char* row_id;         // that column's name: rowid, id
  const char* byte_length;    // of a BLOB: LENGTH, octet_length
  const char* for_update;     // locks the rows a SELECT reads ("" where the writer is single)
  const char* schema_lock;    // taken before migrating ("" if the transaction suffices)
  const char* share_lock_records;  // holds appends while a projection is registered
  bool json_as_blob;               // survey definitions are bound as bytes
  // Several writers at once (PostgreSQL): claims use FOR UPDATE ... SKIP LOCKED. Otherwise there
  // is one writer (SQLite's lock), and work is done outside it where it can be.
  bool concurrent_writers;

  // " FOR UPDATE OF <alias> SKIP LOCKED", or "" for a single writer.
  std::string ClaimRows(const char* alias) const;
  // `schema` with {BLOB}, {INT}, {BOOL}, {JSON}, {WITHOUT_ROWID}, {SERIAL_KEY} and {ROW_ID}
  // replaced by this dialect's spelling.
  std::string Schema(std::string_view schema) const;
};

// A bound parameter: a view of its value, typed.
struct SqlArg {
  enum class Type : std::uint8_t { kNull, kInt, kBool, kText, kBlob };
  Type type = Type::kNull;
  std::int64_t number = 0;
  std::string_view bytes;

  static SqlArg Null() { return {}; }
  static SqlArg Int(std::int64_t v) { return {Type::kInt, v, {}}; }
  static SqlArg Bool(bool v) { return {Type::kBool, v ? 1 : 0, {}}; }
  static SqlArg OptInt(const std::optional<std::int64_t>& v) { return v ? Int(*v) : Null(); }
  static SqlArg Text(std::string_view s) { return {Type::kText, 0, s}; }
  static SqlArg Blob(std::string_view s) { return {Type::kBlob, 0, s}; }
  template <std::size_t N>
  static SqlArg Blob(const std::array<std::uint8_t, N>& a) {
    return Blob(std::string_view(reinterpret_cast<const char*>(a.data()), N));
  }
};
using SqlArgs = std::vector<SqlArg>;

// One row of a result, valid during the row callback only.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool IsNull(int col) const = 0;
  virtual std::int64_t Int(int col) const = 0;  // also a boolean column: 0 or 1
  virtual std::string Text(int col) const = 0;  // the bytes of a text or blob column
  std::uint64_t Uint(int col) const { return static_cast<std::uint64_t>(Int(col)); }
  std::optional<std::int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<std::int64_t>(Int(col));
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(int col) const {
    std::array<std::uint8_t, N> out{};
    const std::string s = Text(col);
    if (s.size() == N) std::copy(s.begin(), s.end(), out.begin());
    return out;
  }
};
using SqlRowFn = std::function<void(const SqlRow&)>;

// Statements on one connection: inside Transact, or one at a time on a SqlDb. `what` says what
// was being done, for the error message.
class SqlConn {
 public:
  virtual ~SqlConn() = default;
  // Runs one statement; returns how many rows it changed.
  Result<std::uint64_t> Exec(std::string_view sql, const SqlArgs& args, std::string_view what);
  // Runs one statement and hands each row to `row`.
  Status Query(std::string_view sql, const SqlArgs& args, std::string_view what,
               const SqlRowFn& row);
  // `insert` ("INSERT INTO t(a, b) VALUES (?, ?)") once per `columns` arguments of `args`: a loop
  // over one prepared statement (SQLite) or multi-row INSERTs, one round trip each (PostgreSQL).
  Status InsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                    std::string_view what);
  // Several statements without arguments (the schema).
  virtual Status Script(const std::string& sql, std::string_view what) = 0;

 protected:
  virtual Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args,
                                       std::string_view what, const SqlRowFn* row) = 0;
  virtual Status DoInsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                              std::string_view what) = 0;
};

using SqlTxnFn = std::function<Status(SqlConn& txn, bool& commit)>;

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  virtual const SqlDialect& dialect() const = 0;
  // One statement on its own (autocommit), as SqlConn's.
  Result<std::uint64_t> Exec(std::string_view sql, const SqlArgs& args, std::string_view what);
  Status Query(std::string_view sql, const SqlArgs& args, std::string_view what,
               const SqlRowFn& row);
  // Runs `body` in a transaction: committed if it returns OK having set `commit`, else rolled
  // back (an OK without `commit` is a refusal that stores nothing, returned as OK). `body` may run
  // more than once (PostgreSQL retries a transaction that lost a race) and must set everything it
  // returns afresh each time.
  virtual Status Transact(std::string_view what, const SqlTxnFn& body) = 0;

 protected:
  virtual Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args,
                                       std::string_view what, const SqlRowFn* row) = 0;
};

// Whether `s` is text every backend stores as TEXT and every JSON reader accepts: valid UTF-8
// without NUL. (A lookup by a key that is not can match nothing, so it is answered without asking
// the database; text from devices that is not cannot be stored in a TEXT column.)
bool IsStorableText(std::string_view s);

// The smallest string greater than every string that starts with `prefix` (bytewise), or nullopt
// if there is none (the prefix is empty or all 0xff): the end of a prefix range scan.
std::optional<std::string> PrefixEnd(std::string prefix);

// InvalidArgument if a text argument is not storable text.
Status CheckSqlArgs(const SqlArgs& args, std::string_view what);

// Opens the database (creating an SQLite file); neither migrates (MigrateSchema does).
// max_db_mb: see StoreOptions::sqlite_max_db_mb.
Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path, std::uint32_t max_db_mb);
Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url);
// `url` as shown in messages: a password in it replaced by ***.
std::string RedactPostgresUrl(const std::string& url);

// Creates or migrates the schema (storage/schema.cpp): one definition for every dialect.
Status MigrateSchema(SqlDb& db);

}  // namespace canvass::server
