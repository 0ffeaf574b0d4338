// ServerStore: everything canvass-server keeps, behind one interface with two backends —
// SQLite (embedded default, WAL) and PostgreSQL (several stateless servers sharing one database).
//
// The contract that matters is AppendRecords(): it stores a device's verified records in one
// transaction, treats an identical (device, seq, hash) as already stored, and refuses a fork or a
// gap without storing anything. Uniqueness of (device, seq) is enforced by the database itself,
// and the device's chain head is read and updated under a row lock (PostgreSQL) or a write
// transaction (SQLite), so two servers can never both accept a record.
// Implementations are thread-safe: the HTTP server calls them from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/response_log.h"
#include "canvass/status.h"

namespace canvass::server {

struct DeviceRow {
  std::string device_id;
  std::string location;
  std::string channel;
  PublicKey public_key{};
  bool web = false;
  std::string certificate;  // EncodeSignedMessage of the DeviceCertificate
  std::int64_t enrolled_ms = 0;
  std::optional<std::int64_t> revoked_ms;
  ChainHead head;  // last stored record
};

struct EnrollCodeRow {
  Hash256 code_hash{};  // BLAKE2b-256 of the code; the code itself is never stored
  std::string location;
  std::string channel;
  std::int64_t expires_ms = 0;
};

// A record whose signature and encoding the server has already checked.
struct VerifiedRecord {
  std::uint64_t seq = 0;
  Hash256 hash{};
  Hash256 prev_hash{};
  std::string envelope;
};

struct AppendResult {
  enum class Verdict { kStored, kFork, kGap };
  Verdict verdict = Verdict::kStored;
  std::string message;  // for kFork and kGap: what and where, for a person
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  ChainHead head;  // after the call
};

struct StoredRecord {
  std::string device_id;
  std::uint64_t seq = 0;
  std::string envelope;
  std::int64_t stored_ms = 0;
};

struct QuarantineRow {
  std::string device_id;
  std::uint64_t seq = 0;
  std::string reason;
  std::string envelope;
  std::int64_t received_ms = 0;
};

struct SurveyRow {
  std::string survey_id;
  Hash256 version{};
  std::uint32_t revision = 0;
  std::string definition;              // the JSON bytes whose hash is `version`
  std::string bundle;                  // EncodeSignedMessage of the SurveyBundle
  std::vector<std::string> locations;  // empty: every location
  std::int64_t published_ms = 0;
};

// The one rule for a device's verified batch against its stored chain, shared by both backends:
// a seq at or below the head must have the stored hash (identical: a duplicate; different: a
// fork); the next seq must follow the head's hash (else a fork); a later seq is a gap. Fills
// `fresh` with the records to insert, in order, and returns the verdict with the head after
// them. `stored_hash(seq)` gives the stored hash of a seq <= head.
Result<AppendResult> ClassifyBatch(const ChainHead& head,
                                   const std::vector<VerifiedRecord>& records,
                                   const std::function<Result<Hash256>(std::uint64_t)>& stored_hash,
                                   std::vector<const VerifiedRecord*>* fresh);

// Derived state (the dashboard's statistics, follow-up cases) is kept up to date from stored
// records by projections (projector.h). A projection reads and writes its own state through a
// DerivedTxn, which is bound to the transaction that also takes its records off the queue, so
// either both happen or neither. Projections add the tables they need here; the key-value space
// (one per projection name) serves simple ones. Not thread-safe: one call at a time, inside
// ProjectPending's callback only.
class DerivedTxn {
 public:
  virtual ~DerivedTxn() = default;
  virtual Result<std::optional<std::string>> GetValue(const std::string& key) = 0;
  virtual Status PutValue(const std::string& key, const std::string& value) = 0;
};
// Applies queued records to a projection's state. A non-OK status rolls the whole call back and
// leaves the records queued: return one only for a storage failure, never for a record the
// projection cannot use (skip and count those), or the queue stops moving.
using ProjectFn = std::function<Status(const std::vector<StoredRecord>&, DerivedTxn&)>;

// A survey's locations as the stores keep them in one column: joined by newlines.
std::string JoinLocations(const std::vector<std::string>& locations);
std::vector<std::string> SplitLocations(const std::string& joined);

// The smallest string greater than every string that starts with `prefix` (bytewise), or nullopt
// if there is none (the prefix is empty or all 0xff): the end of a prefix range scan.
std::optional<std::string> PrefixEnd(std::string prefix);

class ServerStore {
 public:
  virtual ~ServerStore() = default;
  virtual std::string Kind() const = 0;  // "sqlite" or "postgresql"
  virtual Status Ping() = 0;

  virtual Result<std::optional<std::string>> GetSetting(const std::string& key) = 0;
  virtual Status PutSetting(const std::string& key, const std::string& value) = 0;
  // Adds a session token hash valid until expires_ms; FindSession checks one.
  virtual Status AddSession(const Hash256& token_hash, std::int64_t expires_ms) = 0;
  virtual Result<bool> FindSession(const Hash256& token_hash, std::int64_t now_ms) = 0;

  virtual Status AddEnrollCode(const EnrollCodeRow& code) = 0;
  // In one transaction: takes the unused, unexpired code, marks it used, and adds the device that
  // `make_device` builds from it. Unauthenticated says whether the code is unknown, used or
  // expired.
  virtual Result<DeviceRow> Enroll(
      const Hash256& code_hash, std::int64_t now_ms,
      const std::function<DeviceRow(const EnrollCodeRow&)>& make_device) = 0;
  virtual Status AddDevice(const DeviceRow& device) = 0;
  virtual Result<std::optional<DeviceRow>> FindDevice(const std::string& device_id) = 0;
  virtual Result<std::vector<DeviceRow>> ListDevices() = 0;
  virtual Status RevokeDevice(const std::string& device_id, std::int64_t now_ms) = 0;

  // `records` are consecutive seqs of one device, verified. See the file comment.
  virtual Result<AppendResult> AppendRecords(const std::string& device_id,
                                             const std::vector<VerifiedRecord>& records,
                                             std::int64_t now_ms) = 0;
  // When (device, seq) was stored, for receipts; NotFound if it was not.
  virtual Result<std::int64_t> StoredTime(const std::string& device_id, std::uint64_t seq) = 0;
  virtual Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) = 0;
  virtual Result<std::uint64_t> CountRecords() = 0;

  virtual Status Quarantine(const QuarantineRow& row) = 0;
  virtual Result<std::vector<QuarantineRow>> ListQuarantine(std::uint32_t limit) = 0;

  // Projections. After RegisterProjection(name), AppendRecords queues every fresh record for
  // `name` in the transaction that stores it; the first registration of a name also queues every
  // record already stored. ProjectPending hands up to `limit` queued records (oldest device/seq
  // first) to `project` with a DerivedTxn on the same transaction, and takes them off the queue
  // when it commits: every stored record reaches every projection exactly once, across crashes
  // and across servers sharing one PostgreSQL (queued rows are claimed with FOR UPDATE SKIP
  // LOCKED, so two servers never project the same record). `project` must not call the store.
  // Returns how many records were projected; 0 means the queue is empty.
  virtual Status RegisterProjection(const std::string& name) = 0;
  virtual Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                               const ProjectFn& project) = 0;
  virtual Result<std::uint64_t> CountPending(const std::string& name) = 0;
  // The key-value state of projection `name` whose keys start with `prefix`, in key order.
  virtual Status ForEachValue(
      const std::string& name, const std::string& prefix,
      const std::function<Status(const std::string& key, const std::string& value)>& visit) = 0;

  // Publishing the same (survey, version) again changes nothing.
  virtual Status PublishSurvey(const SurveyRow& survey) = 0;
  virtual Result<std::vector<SurveyRow>> ListSurveys() = 0;  // every version, oldest first
};

// Opens (creating and migrating) the store named by `spec`: "sqlite" (DATA_DIR/canvass.db) or a
// postgresql:// URL.
Result<std::unique_ptr<ServerStore>> OpenStore(const std::string& spec,
                                               const std::string& data_dir);
Result<std::unique_ptr<ServerStore>> OpenSqliteStore(const std::string& path);
Result<std::unique_ptr<ServerStore>> OpenPostgresStore(const std::string& url);

}  // namespace canvass::server
