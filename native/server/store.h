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
#include <string_view>
#include <variant>
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

// A message from an inbound channel (the SMS gateway) and its idempotency key.
struct InboundMessage {
  std::string channel;     // "sms"
  std::string message_id;  // the gateway's id, or one the server derived (see window_ms)
  // 0: the id is the gateway's and is never reused, so it is a duplicate forever. >0: the id was
  // derived from the message itself; it is a duplicate only within window_ms of the first.
  std::int64_t window_ms = 0;
};

struct InboundAppend {
  bool duplicate = false;     // the message was stored before: nothing new was stored
  std::uint64_t seq = 0;      // the record holding the message (the earlier one if duplicate)
  std::int64_t first_ms = 0;  // when the message was first stored
  AppendResult append;        // of the record, when not a duplicate
};

struct StoredRecord {
  std::string device_id;
  std::uint64_t seq = 0;
  std::string envelope;
  std::int64_t stored_ms = 0;
  // From the device's row (its certificate): where the record comes from, whatever its tags say.
  std::string location;
  std::string channel;
};
// The record inside `stored`, as the server counts it: location and channel those of its device
// (AttributeToDevice). Corruption if the envelope or the record does not decode.
Result<ResponseRecord> DecodeStoredRecord(const StoredRecord& stored);

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

// Closed loop (DESIGN.md §6; cases.h holds the rules, docs/protocol.md the API): user accounts,
// follow-up cases, and the outbox of webhook events with one delivery row per webhook.
struct UserRow {
  std::string name;
  std::string role;                    // "owner", "manager" or "staff"
  std::vector<std::string> locations;  // where a manager or staff member works
  std::string password_hash;           // crypto_pwhash_str (Argon2id)
  std::int64_t created_ms = 0;
};

struct CaseNote {
  std::uint32_t revision = 0;  // the case revision that added it (unique within the case)
  std::string author;
  std::int64_t time_ms = 0;
  std::string text;
};

struct CaseRow {
  std::string case_id;  // "<device_id>.<seq>" of the record that opened it
  std::string device_id;
  std::uint64_t seq = 0;
  std::string survey_id;
  std::string location;
  std::string question;  // the answer that opened the case: question id, metric role, score
  std::string metric;    // "nps", "csat" or "ces"
  std::int32_t score = 0;
  std::int32_t scale_min = 0;
  std::int32_t scale_max = 0;
  std::string state;              // "open", "contacted", "root_cause_found", "resolved"
  std::string category;           // root cause, empty until found
  std::string assignee;           // user name, empty while unassigned
  std::string sealed_contact;     // as the device sealed it to the organisation box key
  std::int64_t responded_ms = 0;  // the device's time of the response
  std::int64_t opened_ms = 0;
  std::int64_t due_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> escalated_ms;
  std::optional<std::int64_t> resolved_ms;
  std::uint32_t revision = 1;   // +1 with every change; numbers its events and notes
  std::vector<CaseNote> notes;  // filled by FindCase only, oldest first
};

// A webhook event waiting in the outbox. The body never holds contact details.
struct CaseEvent {
  std::string event_id;  // "<case_id>/<revision>"
  std::string type;      // "case.opened", "case.state_changed", "case.escalated", ...
  std::string case_id;
  std::string body;  // JSON, as sent
  std::int64_t created_ms = 0;
};

struct CaseFilter {
  std::optional<std::string> state;
  std::optional<std::vector<std::string>> locations;  // nullopt: every location
  std::optional<std::int64_t> overdue_at;  // only cases not resolved and due at or before this
  std::optional<bool> escalated;
  std::optional<std::string> assignee;
  std::uint32_t limit = 1000;
};

// The WHERE, ORDER BY and LIMIT of ListCases, one spelling for both backends: `placeholder(i)`
// names the i-th bound parameter (1-based: "?" or "$i"); the values go to `params` in order.
// Empty if the filter can match nothing (an empty location list).
using SqlValue = std::variant<std::string, std::int64_t>;
std::optional<std::string> CaseFilterSql(const CaseFilter& filter,
                                         const std::function<std::string(int)>& placeholder,
                                         std::vector<SqlValue>* params);

// What ChangeCase writes after its callback edited the row.
struct CaseChange {
  bool changed = false;           // false: nothing is written
  std::optional<CaseNote> note;   // appended
  std::vector<CaseEvent> events;  // queued like DerivedTxn::EnqueueEvent
};

struct WebhookRow {
  std::string webhook_id;
  std::string url;
  std::int64_t created_ms = 0;
};

struct DeliveryRow {
  std::string event_id;
  std::string webhook_id;
  std::string url;    // the webhook's
  std::string type;   // the event's
  std::string body;   // the event's
  std::string state;  // "pending", "delivered" or "failed"
  std::uint32_t attempts = 0;
  std::int64_t next_ms = 0;      // pending: not before this
  std::int32_t last_status = 0;  // HTTP status of the last attempt, 0 without an answer
  std::string last_error;
  std::optional<std::int64_t> delivered_ms;
  std::int64_t created_ms = 0;  // the event's
};

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
  // Closed loop (cases.h). The location a device was enrolled for ("" for an unknown device).
  virtual Result<std::string> DeviceLocation(const std::string& device_id) = 0;
  // Adds `c` unless a case with its id exists: true if added.
  virtual Result<bool> InsertCase(const CaseRow& c) = 0;
  // Puts `event` in the outbox, one delivery for every webhook configured now.
  virtual Status EnqueueEvent(const CaseEvent& event) = 0;
};
// Applies queued records to a projection's state. A non-OK status rolls the whole call back and
// leaves the records queued: return one only for a storage failure, never for a record the
// projection cannot use (skip and count those), or the queue stops moving.
using ProjectFn = std::function<Status(const std::vector<StoredRecord>&, DerivedTxn&)>;
// Works out what queued records add without stored state (decoding, computing), right before
// ProjectFn is given the same records. The SQLite store calls it without holding its lock, so the
// projection's CPU work does not hold up pushes; PostgreSQL inside the transaction (it locks rows
// only). Errors as for ProjectFn.
using DigestFn = std::function<Status(const std::vector<StoredRecord>&)>;

// A survey's locations as the stores keep them in one column: joined by newlines.
std::string JoinLocations(const std::vector<std::string>& locations);
std::vector<std::string> SplitLocations(const std::string& joined);

// Whether `s` is text every backend stores as TEXT and every JSON reader accepts: valid UTF-8
// without NUL. (A lookup by a key that is not can match nothing, so it is answered without asking
// the database; text from devices that is not cannot be stored in a TEXT column.)
bool IsStorableText(std::string_view s);

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
  // Adds a session token hash of `user` ("" for the admin password), valid until expires_ms.
  // FindSession gives the user of a valid one, nullopt if there is none.
  virtual Status AddSession(const Hash256& token_hash, std::int64_t expires_ms,
                            const std::string& user) = 0;
  virtual Result<std::optional<std::string>> FindSession(const Hash256& token_hash,
                                                         std::int64_t now_ms) = 0;
  // Ends the sessions of `user` ("" for the admin password's) but the one of `keep` (a logout
  // ends just one: EndSession).
  virtual Status EndSessionsBut(const std::string& user, const Hash256& keep) = 0;
  virtual Status EndSession(const Hash256& token_hash) = 0;

  virtual Status AddEnrollCode(const EnrollCodeRow& code) = 0;
  // In one transaction: takes the unused, unexpired code, marks it used, and adds the device that
  // `make_device` builds from it. Unauthenticated says whether the code is unknown, used or
  // expired.
  virtual Result<DeviceRow> Enroll(
      const Hash256& code_hash, std::int64_t now_ms,
      const std::function<DeviceRow(const EnrollCodeRow&)>& make_device) = 0;
  virtual Status AddDevice(const DeviceRow& device) = 0;
  virtual Result<std::optional<DeviceRow>> FindDevice(const std::string& device_id) = 0;
  // Devices in device id order, after `after` (exclusive; "" from the start), at most `limit`;
  // with revoked_only, only revoked ones.
  virtual Result<std::vector<DeviceRow>> ListDevices(const std::string& after, std::uint32_t limit,
                                                     bool revoked_only = false) = 0;
  virtual Status RevokeDevice(const std::string& device_id, std::int64_t now_ms) = 0;

  // `records` are consecutive seqs of one device, verified. See the file comment.
  virtual Result<AppendResult> AppendRecords(const std::string& device_id,
                                             const std::vector<VerifiedRecord>& records,
                                             std::int64_t now_ms) = 0;
  // AppendRecords of one record of `device_id` and remembering `message` with it, in one
  // transaction: a message already remembered (see InboundMessage::window_ms) stores nothing and
  // answers duplicate with the earlier seq, also when two servers get it at the same moment.
  virtual Result<InboundAppend> AppendInbound(const InboundMessage& message,
                                              const std::string& device_id,
                                              const VerifiedRecord& record,
                                              std::int64_t now_ms) = 0;
  // When (device, seq) was stored, for receipts; NotFound if it was not.
  virtual Result<std::int64_t> StoredTime(const std::string& device_id, std::uint64_t seq) = 0;
  virtual Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) = 0;
  virtual Result<std::uint64_t> CountRecords() = 0;

  virtual Status Quarantine(const QuarantineRow& row) = 0;
  virtual Result<std::vector<QuarantineRow>> ListQuarantine(std::uint32_t limit) = 0;
  // Bytes of envelopes in quarantine: {of `device_id`, in all}.
  virtual Result<std::pair<std::uint64_t, std::uint64_t>> QuarantineBytes(
      const std::string& device_id) = 0;

  // Projections. After RegisterProjection(name), AppendRecords queues every fresh record for
  // `name` in the transaction that stores it; the first registration of a name also queues every
  // record already stored. ProjectPending hands up to `limit` queued records (oldest device/seq
  // first) to `project` with a DerivedTxn on the same transaction, and takes them off the queue
  // when it commits: every stored record reaches every projection exactly once, across crashes
  // and across servers sharing one PostgreSQL (queued rows are claimed with FOR UPDATE SKIP
  // LOCKED, so two servers never project the same record). `digest` (optional) sees the records
  // first. Neither may call the store. Calls for one store run one at a time. Returns how many
  // records were projected; 0 means the queue is empty.
  virtual Status RegisterProjection(const std::string& name) = 0;
  virtual Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                               const ProjectFn& project,
                                               const DigestFn& digest = nullptr) = 0;
  virtual Result<std::uint64_t> CountPending(const std::string& name) = 0;
  // The key-value state of projection `name` whose keys start with `prefix`, in key order.
  virtual Status ForEachValue(
      const std::string& name, const std::string& prefix,
      const std::function<Status(const std::string& key, const std::string& value)>& visit) = 0;

  // Publishing the same (survey, version) again changes nothing.
  virtual Status PublishSurvey(const SurveyRow& survey) = 0;
  virtual Result<std::vector<SurveyRow>> ListSurveys() = 0;  // every version, oldest first

  // Closed loop. Users: AddUser is Conflict for a name in use; UpdateUser and DeleteUser are
  // NotFound for an unknown one. DeleteUser, and UpdateUser with end_sessions, end the user's
  // sessions.
  virtual Status AddUser(const UserRow& user) = 0;
  virtual Status UpdateUser(const UserRow& user, bool end_sessions) = 0;
  virtual Status DeleteUser(const std::string& name) = 0;
  virtual Result<std::optional<UserRow>> FindUser(const std::string& name) = 0;
  virtual Result<std::vector<UserRow>> ListUsers() = 0;  // by name
  // Cases (opened by the "cases" projection through DerivedTxn::InsertCase), most urgent first.
  virtual Result<std::vector<CaseRow>> ListCases(const CaseFilter& filter) = 0;
  virtual Result<std::optional<CaseRow>> FindCase(const std::string& case_id) = 0;  // with notes
  // In one transaction: reads case `case_id` (row-locked), lets `change` edit it, then writes
  // the row, the note and the events `change` returns. `change` may run more than once (a
  // retried transaction) and must not call the store. NotFound for an unknown case; an error
  // from `change` writes nothing and is returned. Returns the case as written.
  virtual Result<CaseRow> ChangeCase(const std::string& case_id,
                                     const std::function<Result<CaseChange>(CaseRow&)>& change) = 0;
  // Webhooks. DeleteWebhook drops its deliveries too; NotFound for an unknown id.
  virtual Status AddWebhook(const WebhookRow& webhook) = 0;
  virtual Result<std::vector<WebhookRow>> ListWebhooks() = 0;
  virtual Status DeleteWebhook(const std::string& webhook_id) = 0;
  // Up to `limit` pending deliveries due at now_ms, oldest first; each is leased (its next_ms
  // moved to lease_until_ms) so that no other sender, in this process or another server, takes
  // it meanwhile. A sender that dies mid-delivery leaves it to be retried after the lease.
  virtual Result<std::vector<DeliveryRow>> ClaimDeliveries(std::int64_t now_ms,
                                                           std::int64_t lease_until_ms,
                                                           std::uint32_t limit) = 0;
  // Writes a delivery's state, attempts, next_ms, last_status, last_error and delivered_ms.
  virtual Status FinishDelivery(const DeliveryRow& delivery) = 0;
  // Newest first; `state` empty: any.
  virtual Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& state,
                                                          std::uint32_t limit) = 0;
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
