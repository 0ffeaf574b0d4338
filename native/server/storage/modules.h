// The storage modules: each holds one concern's rules once, over the SQL interface (sql.h), for
// every backend. ServerStore (store.h) is their aggregate. Each module refers to the SqlDb it was
// given (owned by ServerStore); all are thread-safe as the SqlDb is. Row readers and column lists
// are shared in storage/readers.h. A static member taking a SqlConn& runs inside a transaction
// someone else holds (a projection's, see DerivedTxn). Each module has at most about a dozen
// methods; one .cpp each under storage/.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/rows.h"
#include "storage/sql.h"

namespace canvass::server {

// Settings (key -> bytes) and admin sessions.
class SettingsStore {
 public:
  explicit SettingsStore(SqlDb& db) : db_(db) {}
  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status PutSetting(const std::string& key, const std::string& value);
  // Adds a session token hash of `user` ("" for the admin password), valid until expires_ms.
  // FindSession gives the user of a valid one, nullopt if there is none.
  Status AddSession(const Hash256& token_hash, std::int64_t expires_ms, const std::string& user);
  Result<std::optional<std::string>> FindSession(const Hash256& token_hash, std::int64_t now_ms);
  // Ends the sessions of `user` ("" for the admin password's) but the one of `keep` (a logout
  // ends just one: EndSession).
  Status EndSessionsBut(const std::string& user, const Hash256& keep);
  Status EndSession(const Hash256& token_hash);
  // Publishing the same (survey, version) again changes nothing.
  Status PublishSurvey(const SurveyRow& survey);
  Result<std::vector<SurveyRow>> ListSurveys();  // every version, oldest first

 private:
  SqlDb& db_;
};

// Enrollment codes and devices with their chain heads.
class DeviceRegistry {
 public:
  explicit DeviceRegistry(SqlDb& db) : db_(db) {}
  Status AddEnrollCode(const EnrollCodeRow& code);
  // In one transaction: takes the unused, unexpired code, marks it used, and adds the device that
  // `make_device` builds from it. Unauthenticated says whether the code is unknown, used or
  // expired.
  Result<DeviceRow> Enroll(const Hash256& code_hash, std::int64_t now_ms,
                           const std::function<DeviceRow(const EnrollCodeRow&)>& make_device);
  Status AddDevice(const DeviceRow& device);
  Result<std::optional<DeviceRow>> FindDevice(const std::string& device_id);
  // Devices in device id order, after `after` (exclusive; "" from the start), at most `limit`;
  // with revoked_only, only revoked ones.
  Result<std::vector<DeviceRow>> ListDevices(const std::string& after, std::uint32_t limit,
                                             bool revoked_only = false);
  Status RevokeDevice(const std::string& device_id, std::int64_t now_ms);
  // The location a device was enrolled for ("" for an unknown device), inside `txn`.
  static Result<std::string> Location(SqlConn& txn, const std::string& device_id);

 private:
  SqlDb& db_;
};

// The record log: each device's chain of verified records, inbound messages, quarantine.
class RecordLog {
 public:
  explicit RecordLog(SqlDb& db) : db_(db) {}
  // `records` are consecutive seqs of one device, verified. See store.h's file comment.
  Result<AppendResult> AppendRecords(const std::string& device_id,
                                     const std::vector<VerifiedRecord>& records,
                                     std::int64_t now_ms);
  // AppendRecords of one record of `device_id` and remembering `message` with it, in one
  // transaction: a message already remembered (see InboundMessage::window_ms) stores nothing and
  // answers duplicate with the earlier seq, also when two servers get it at the same moment.
  Result<InboundAppend> AppendInbound(const InboundMessage& message, const std::string& device_id,
                                      const VerifiedRecord& record, std::int64_t now_ms);
  // When (device, seq) was stored, for receipts; NotFound if it was not.
  Result<std::int64_t> StoredTime(const std::string& device_id, std::uint64_t seq);
  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit);
  Result<std::uint64_t> CountRecords();
  Status Quarantine(const QuarantineRow& row);
  Result<std::vector<QuarantineRow>> ListQuarantine(std::uint32_t limit);
  // Bytes of envelopes in quarantine: {of `device_id`, in all}.
  Result<std::pair<std::uint64_t, std::uint64_t>> QuarantineBytes(const std::string& device_id);

 private:
  SqlDb& db_;
};

// Derived state (the dashboard's statistics, follow-up cases) is kept up to date from stored
// records by projections (projector.h). A projection reads and writes its own state through a
// DerivedTxn, which is bound to the transaction that also takes its records off the queue, so
// either both happen or neither. The key-value space (one per projection name) serves simple
// projections; one with tables of its own (the cases projection: CaseStore::Open) runs its
// statements on sql(). Not thread-safe: one call at a time, inside ProjectPending's callback only.
class DerivedTxn {
 public:
  virtual ~DerivedTxn() = default;
  virtual Result<std::optional<std::string>> GetValue(const std::string& key) = 0;
  virtual Status PutValue(const std::string& key, const std::string& value) = 0;
  virtual SqlConn& sql() = 0;
};
// Applies queued records to a projection's state. A non-OK status rolls the whole call back and
// leaves the records queued: return one only for a storage failure, never for a record the
// projection cannot use (skip and count those), or the queue stops moving.
using ProjectFn = std::function<Status(const std::vector<StoredRecord>&, DerivedTxn&)>;
// Works out what queued records add without stored state (decoding, computing), right before
// ProjectFn is given the same records. With a single writer (SQLite) it runs outside the write
// lock, so the projection's CPU work does not hold up pushes; with several (PostgreSQL) inside the
// transaction (it locks rows only). Errors as for ProjectFn.
using DigestFn = std::function<Status(const std::vector<StoredRecord>&)>;

// Projections. After RegisterProjection(name), AppendRecords queues every fresh record for
// `name` in the transaction that stores it; the first registration of a name also queues every
// record already stored. ProjectPending hands up to `limit` queued records (oldest device/seq
// first) to `project` with a DerivedTxn on the same transaction, and takes them off the queue
// when it commits: every stored record reaches every projection exactly once, across crashes
// and across servers sharing one PostgreSQL (queued rows are claimed with FOR UPDATE SKIP
// LOCKED, so two servers never project the same record). `digest` (optional) sees the records
// first. Neither may call the store. Calls for one store run one at a time. Returns how many
// records were projected; 0 means the queue is empty.
class ProjectionQueue {
 public:
  explicit ProjectionQueue(SqlDb& db) : db_(db) {}
  Status RegisterProjection(const std::string& name);
  Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                       const ProjectFn& project, const DigestFn& digest = nullptr);
  Result<std::uint64_t> CountPending(const std::string& name);
  // The key-value state of projection `name` whose keys start with `prefix`, in key order.
  Status ForEachValue(
      const std::string& name, const std::string& prefix,
      const std::function<Status(const std::string& key, const std::string& value)>& visit);

 private:
  Result<std::uint32_t> ProjectClaimed(const std::string& name, std::uint32_t limit,
                                       const ProjectFn& project, const DigestFn& digest);
  Result<std::uint32_t> ProjectSingleWriter(const std::string& name, std::uint32_t limit,
                                            const ProjectFn& project, const DigestFn& digest);
  std::mutex project_mu_;  // single writer: one ProjectPending at a time
  SqlDb& db_;
};

// User accounts. AddUser is Conflict for a name in use; UpdateUser and DeleteUser are NotFound
// for an unknown one. DeleteUser, and UpdateUser with end_sessions, end the user's sessions.
class UserStore {
 public:
  explicit UserStore(SqlDb& db) : db_(db) {}
  Status AddUser(const UserRow& user);
  Status UpdateUser(const UserRow& user, bool end_sessions);
  Status DeleteUser(const std::string& name);
  Result<std::optional<UserRow>> FindUser(const std::string& name);
  Result<std::vector<UserRow>> ListUsers();  // by name

 private:
  SqlDb& db_;
};

// Follow-up cases (cases.h holds the rules) and their notes.
class CaseStore {
 public:
  explicit CaseStore(SqlDb& db) : db_(db) {}
  // Cases (opened by the "cases" projection through Open), most urgent first.
  Result<std::vector<CaseRow>> ListCases(const CaseFilter& filter);
  Result<std::optional<CaseRow>> FindCase(const std::string& case_id);  // with notes
  // In one transaction: reads case `case_id` (row-locked), lets `change` edit it, then writes
  // the row, the note and the events `change` returns. `change` may run more than once (a
  // retried transaction) and must not call the store. NotFound for an unknown case; an error
  // from `change` writes nothing and is returned. Returns the case as written.
  Result<CaseRow> ChangeCase(const std::string& case_id,
                             const std::function<Result<CaseChange>(CaseRow&)>& change);
  // Adds `c` inside `txn` unless a case with its id exists: true if added.
  static Result<bool> Open(SqlConn& txn, const CaseRow& c);

 private:
  SqlDb& db_;
};

// Webhooks and the outbox of their events, one delivery row per webhook.
class WebhookOutbox {
 public:
  explicit WebhookOutbox(SqlDb& db) : db_(db) {}
  // DeleteWebhook drops its deliveries too; NotFound for an unknown id.
  Status AddWebhook(const WebhookRow& webhook);
  Result<std::vector<WebhookRow>> ListWebhooks();
  Status DeleteWebhook(const std::string& webhook_id);
  // Up to `limit` pending deliveries due at now_ms, oldest first; each is leased (its next_ms
  // moved to lease_until_ms) so that no other sender, in this process or another server, takes
  // it meanwhile. A sender that dies mid-delivery leaves it to be retried after the lease.
  Result<std::vector<DeliveryRow>> ClaimDeliveries(std::int64_t now_ms, std::int64_t lease_until_ms,
                                                   std::uint32_t limit);
  // Writes a delivery's state, attempts, next_ms, last_status, last_error and delivered_ms.
  Status FinishDelivery(const DeliveryRow& delivery);
  // Newest first; `state` empty: any.
  Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& state, std::uint32_t limit);
  // Puts `event` in the outbox inside `txn`, one delivery for every webhook configured now.
  static Status Enqueue(SqlConn& txn, const CaseEvent& event);

 private:
  SqlDb& db_;
};

}  // namespace canvass::server
