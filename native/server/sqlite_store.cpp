// SQLite backend of ServerStore: one connection behind a mutex (SQLite serialises writers anyway),
// WAL with synchronous=NORMAL — a committed batch survives a crash of the process; only a power
// loss can take back the last transactions, and devices resend what has no receipt.
#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <variant>

#include "store.h"

namespace canvass::server {
namespace {

// Schema migrations, applied in order; schema_version holds how many ran.
const char* const kMigrations[] = {
    R"(CREATE TABLE settings(key TEXT PRIMARY KEY, value BLOB NOT NULL);
       CREATE TABLE sessions(token_hash BLOB PRIMARY KEY, expires_ms INTEGER NOT NULL);
       CREATE TABLE enroll_codes(code_hash BLOB PRIMARY KEY, location TEXT NOT NULL,
                                 channel TEXT NOT NULL, expires_ms INTEGER NOT NULL,
                                 used_ms INTEGER);
       CREATE TABLE devices(device_id TEXT PRIMARY KEY, location TEXT NOT NULL,
                            channel TEXT NOT NULL, public_key BLOB NOT NULL,
                            web INTEGER NOT NULL, certificate BLOB NOT NULL,
                            enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER,
                            head_seq INTEGER NOT NULL DEFAULT 0, head_hash BLOB NOT NULL);
       CREATE TABLE records(device_id TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,
                            envelope BLOB NOT NULL, stored_ms INTEGER NOT NULL,
                            PRIMARY KEY(device_id, seq)) WITHOUT ROWID;
       CREATE TABLE quarantine(id INTEGER PRIMARY KEY, device_id TEXT NOT NULL,
                               seq INTEGER NOT NULL, reason TEXT NOT NULL,
                               envelope BLOB NOT NULL, received_ms INTEGER NOT NULL);
       CREATE TABLE surveys(survey_id TEXT NOT NULL, version BLOB NOT NULL,
                            revision INTEGER NOT NULL, definition TEXT NOT NULL,
                            bundle BLOB NOT NULL, locations TEXT NOT NULL,
                            published_ms INTEGER NOT NULL, PRIMARY KEY(survey_id, version));)",
    // 2: projections (store.h): registered names, the queue of records each has still to see,
    // and their key-value state.
    R"(CREATE TABLE projections(name TEXT PRIMARY KEY);
       CREATE TABLE projection_queue(projection TEXT NOT NULL, device_id TEXT NOT NULL,
                                     seq INTEGER NOT NULL,
                                     PRIMARY KEY(projection, device_id, seq)) WITHOUT ROWID;
       CREATE TABLE derived_values(projection TEXT NOT NULL, key BLOB NOT NULL,
                                   value BLOB NOT NULL,
                                   PRIMARY KEY(projection, key)) WITHOUT ROWID;)",
    // 3: the closed loop (cases.h): user accounts and sessions bound to them ('' is the admin
    // password), follow-up cases and their notes, webhooks, and the outbox of webhook events with
    // one delivery row per webhook.
    R"(CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, locations TEXT NOT NULL,
                          password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
       ALTER TABLE sessions ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
       CREATE TABLE cases(case_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq INTEGER NOT NULL,
                          survey_id TEXT NOT NULL, location TEXT NOT NULL,
                          question TEXT NOT NULL, metric TEXT NOT NULL, score INTEGER NOT NULL,
                          scale_min INTEGER NOT NULL, scale_max INTEGER NOT NULL,
                          state TEXT NOT NULL, category TEXT NOT NULL, assignee TEXT NOT NULL,
                          sealed_contact BLOB NOT NULL, responded_ms INTEGER NOT NULL,
                          opened_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
                          updated_ms INTEGER NOT NULL, escalated_ms INTEGER,
                          resolved_ms INTEGER, revision INTEGER NOT NULL);
       CREATE INDEX cases_by_due ON cases(due_ms);
       CREATE INDEX cases_by_location ON cases(location, due_ms);
       CREATE TABLE case_notes(case_id TEXT NOT NULL, revision INTEGER NOT NULL,
                               author TEXT NOT NULL, time_ms INTEGER NOT NULL, text TEXT NOT NULL,
                               PRIMARY KEY(case_id, revision)) WITHOUT ROWID;
       CREATE TABLE webhooks(webhook_id TEXT PRIMARY KEY, url TEXT NOT NULL,
                             created_ms INTEGER NOT NULL);
       CREATE TABLE webhook_events(event_id TEXT PRIMARY KEY, type TEXT NOT NULL,
                                   case_id TEXT NOT NULL, body BLOB NOT NULL,
                                   created_ms INTEGER NOT NULL);
       CREATE TABLE webhook_deliveries(event_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
                                       state TEXT NOT NULL, attempts INTEGER NOT NULL,
                                       next_ms INTEGER NOT NULL, last_status INTEGER NOT NULL,
                                       last_error TEXT NOT NULL, delivered_ms INTEGER,
                                       PRIMARY KEY(event_id, webhook_id)) WITHOUT ROWID;
       CREATE INDEX deliveries_due ON webhook_deliveries(state, next_ms);)",
    // 4: inbound messages (the SMS gateway's message ids), so that a gateway's retry is stored
    // once; the record that holds the message is (device_id, seq).
    R"(CREATE TABLE inbound_messages(channel TEXT NOT NULL, message_id TEXT NOT NULL,
                                     device_id TEXT NOT NULL, seq INTEGER NOT NULL,
                                     received_ms INTEGER NOT NULL,
                                     PRIMARY KEY(channel, message_id)) WITHOUT ROWID;)",
};

// SQLITE_FULL: the disk, or the --max-db-mb limit (PRAGMA max_page_count). Devices keep what has
// no receipt, so the answer tells the operator what to do and the devices to come back.
Status DatabaseFull(const std::string& what) {
  return Status::Unavailable(what +
                             ": the database is full (the disk, or the server's --max-db-mb "
                             "limit): free disk space or restart canvass-server with a larger "
                             "--max-db-mb; devices keep their records and send them again");
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepared() const { return rc_ == SQLITE_OK; }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement& Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, const void* data, std::size_t n) {
    sqlite3_bind_blob(stmt_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, const std::string& s) { return BindBlob(i, s.data(), s.size()); }
  template <std::size_t N>
  Statement& BindBlob(int i, const std::array<std::uint8_t, N>& a) {
    return BindBlob(i, a.data(), N);
  }
  Statement& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return rc_ = sqlite3_step(stmt_); }
  std::int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(int col) {
    std::array<std::uint8_t, N> out{};
    std::string s = Text(col);
    if (s.size() == N) std::copy(s.begin(), s.end(), out.begin());
    return out;
  }
  Status Error(const std::string& what) const {
    // A full disk or a refused write is worth retrying later; the rest is an I/O problem.
    if (rc_ == SQLITE_FULL) return DatabaseFull(what);
    if (rc_ == SQLITE_BUSY || rc_ == SQLITE_LOCKED) {
      return Status::Unavailable(what + ": the database is busy, retry");
    }
    return Status::IoError(what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Closed loop: the statements that both a projection's transaction and ChangeCase run.
constexpr char kCaseColumns[] =
    "case_id, device_id, seq, survey_id, location, question, metric, score, scale_min, "
    "scale_max, state, category, assignee, sealed_contact, responded_ms, opened_ms, due_ms, "
    "updated_ms, escalated_ms, resolved_ms, revision";

CaseRow ReadCase(Statement& q) {
  CaseRow c;
  c.case_id = q.Text(0);
  c.device_id = q.Text(1);
  c.seq = static_cast<std::uint64_t>(q.Int(2));
  c.survey_id = q.Text(3);
  c.location = q.Text(4);
  c.question = q.Text(5);
  c.metric = q.Text(6);
  c.score = static_cast<std::int32_t>(q.Int(7));
  c.scale_min = static_cast<std::int32_t>(q.Int(8));
  c.scale_max = static_cast<std::int32_t>(q.Int(9));
  c.state = q.Text(10);
  c.category = q.Text(11);
  c.assignee = q.Text(12);
  c.sealed_contact = q.Text(13);
  c.responded_ms = q.Int(14);
  c.opened_ms = q.Int(15);
  c.due_ms = q.Int(16);
  c.updated_ms = q.Int(17);
  if (!q.IsNull(18)) c.escalated_ms = q.Int(18);
  if (!q.IsNull(19)) c.resolved_ms = q.Int(19);
  c.revision = static_cast<std::uint32_t>(q.Int(20));
  return c;
}

void BindOptional(Statement& q, int i, const std::optional<std::int64_t>& v) {
  if (v) {
    q.Bind(i, *v);
  } else {
    q.BindNull(i);
  }
}

Result<bool> InsertCaseRow(sqlite3* db, const CaseRow& c) {
  Statement q(db, (std::string("INSERT INTO cases(") + kCaseColumns +
                   ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                   "ON CONFLICT(case_id) DO NOTHING")
                      .c_str());
  q.Bind(1, c.case_id).Bind(2, c.device_id).Bind(3, static_cast<std::int64_t>(c.seq));
  q.Bind(4, c.survey_id).Bind(5, c.location).Bind(6, c.question).Bind(7, c.metric);
  q.Bind(8, std::int64_t{c.score}).Bind(9, std::int64_t{c.scale_min});
  q.Bind(10, std::int64_t{c.scale_max}).Bind(11, c.state).Bind(12, c.category);
  q.Bind(13, c.assignee).BindBlob(14, c.sealed_contact).Bind(15, c.responded_ms);
  q.Bind(16, c.opened_ms).Bind(17, c.due_ms).Bind(18, c.updated_ms);
  BindOptional(q, 19, c.escalated_ms);
  BindOptional(q, 20, c.resolved_ms);
  q.Bind(21, std::int64_t{c.revision});
  if (q.Step() != SQLITE_DONE) return q.Error("open case");
  return sqlite3_changes(db) == 1;
}

Status InsertEvent(sqlite3* db, const CaseEvent& e) {
  Statement ins(db,
                "INSERT INTO webhook_events(event_id, type, case_id, body, created_ms) "
                "VALUES (?, ?, ?, ?, ?)");
  ins.Bind(1, e.event_id).Bind(2, e.type).Bind(3, e.case_id).BindBlob(4, e.body);
  ins.Bind(5, e.created_ms);
  if (ins.Step() != SQLITE_DONE) return ins.Error("queue webhook event");
  Statement fan(db,
                "INSERT INTO webhook_deliveries(event_id, webhook_id, state, attempts, next_ms, "
                "last_status, last_error) SELECT ?, webhook_id, 'pending', 0, ?, 0, '' "
                "FROM webhooks");
  fan.Bind(1, e.event_id).Bind(2, e.created_ms);
  return fan.Step() == SQLITE_DONE ? Status::Ok() : fan.Error("queue webhook deliveries");
}

constexpr char kDeliverySelect[] =
    "SELECT d.event_id, d.webhook_id, w.url, e.type, e.body, d.state, d.attempts, d.next_ms, "
    "d.last_status, d.last_error, d.delivered_ms, e.created_ms FROM webhook_deliveries d "
    "JOIN webhooks w ON w.webhook_id = d.webhook_id "
    "JOIN webhook_events e ON e.event_id = d.event_id ";

DeliveryRow ReadDelivery(Statement& q) {
  DeliveryRow d;
  d.event_id = q.Text(0);
  d.webhook_id = q.Text(1);
  d.url = q.Text(2);
  d.type = q.Text(3);
  d.body = q.Text(4);
  d.state = q.Text(5);
  d.attempts = static_cast<std::uint32_t>(q.Int(6));
  d.next_ms = q.Int(7);
  d.last_status = static_cast<std::int32_t>(q.Int(8));
  d.last_error = q.Text(9);
  if (!q.IsNull(10)) d.delivered_ms = q.Int(10);
  d.created_ms = q.Int(11);
  return d;
}

// A projection's view of the transaction ProjectPending holds (the store's mutex is held too).
class SqliteDerivedTxn : public DerivedTxn {
 public:
  SqliteDerivedTxn(sqlite3* db, const std::string& projection)
      : db_(db),
        projection_(projection),
        get_(db, "SELECT value FROM derived_values WHERE projection = ? AND key = ?"),
        put_(db,
             "INSERT INTO derived_values(projection, key, value) VALUES (?, ?, ?) "
             "ON CONFLICT(projection, key) DO UPDATE SET value = excluded.value") {}

  Result<std::optional<std::string>> GetValue(const std::string& key) override {
    get_.Reset();
    get_.Bind(1, projection_).BindBlob(2, key);
    int rc = get_.Step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(get_.Text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return get_.Error("read " + projection_ + " state");
  }
  Status PutValue(const std::string& key, const std::string& value) override {
    put_.Reset();
    put_.Bind(1, projection_).BindBlob(2, key).BindBlob(3, value);
    return put_.Step() == SQLITE_DONE ? Status::Ok()
                                      : put_.Error("write " + projection_ + " state");
  }
  Result<std::string> DeviceLocation(const std::string& device_id) override {
    Statement q(db_, "SELECT location FROM devices WHERE device_id = ?");
    q.Bind(1, device_id);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Text(0);
    if (rc == SQLITE_DONE) return std::string();
    return q.Error("read device location");
  }
  Result<bool> InsertCase(const CaseRow& c) override { return InsertCaseRow(db_, c); }
  Status EnqueueEvent(const CaseEvent& event) override { return InsertEvent(db_, event); }

 private:
  sqlite3* db_;
  const std::string& projection_;
  Statement get_, put_;
};

class SqliteStore : public ServerStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status Init(std::uint32_t max_db_mb) {
    Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    if (!s.ok()) return s;
    sqlite3_busy_timeout(db_, 5000);
    if (max_db_mb > 0 && !(s = LimitSize(max_db_mb)).ok()) return s;
    if (!(s = Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")).ok()) {
      return s;
    }
    std::int64_t version = 0;
    {
      Statement q(db_, "SELECT version FROM schema_version");
      if (q.Step() == SQLITE_ROW) version = q.Int(0);
    }
    const std::int64_t latest = sizeof(kMigrations) / sizeof(kMigrations[0]);
    if (version > latest) {
      return Status::InvalidArgument("the database has schema version " + std::to_string(version) +
                                     ", newer than this server (" + std::to_string(latest) +
                                     "): run the newer canvass-server");
    }
    for (std::int64_t v = version; v < latest; ++v) {
      if (!(s = Exec("BEGIN IMMEDIATE")).ok()) return s;
      s = Exec(kMigrations[v]);
      if (s.ok()) s = Exec("DELETE FROM schema_version");
      if (s.ok()) {
        Statement ins(db_, "INSERT INTO schema_version(version) VALUES (?)");
        ins.Bind(1, v + 1);
        if (ins.Step() != SQLITE_DONE) s = ins.Error("schema migration");
      }
      if (!s.ok()) {
        (void)End(false);
        return s.WithContext("migration to schema version " + std::to_string(v + 1));
      }
      if (!(s = Exec("COMMIT")).ok()) return s;
    }
    return Status::Ok();
  }

  std::string Kind() const override { return "sqlite"; }

  Status Ping() override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT 1");
    return q.Step() == SQLITE_ROW ? Status::Ok() : q.Error("ping");
  }

  Result<std::optional<std::string>> GetSetting(const std::string& key) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT value FROM settings WHERE key = ?");
    q.Bind(1, key);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.Text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return q.Error("read setting");
  }

  Status PutSetting(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    q.Bind(1, key).BindBlob(2, value);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("write setting");
  }

  Status AddSession(const Hash256& token_hash, std::int64_t expires_ms,
                    const std::string& user) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "INSERT INTO sessions(token_hash, expires_ms, user_name) VALUES (?, ?, ?)");
    q.BindBlob(1, token_hash).Bind(2, expires_ms).Bind(3, user);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("add session");
  }

  Status EndSessionsBut(const std::string& user, const Hash256& keep) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "DELETE FROM sessions WHERE user_name = ? AND token_hash <> ?");
    q.Bind(1, user).BindBlob(2, keep);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("end sessions");
  }

  Status EndSession(const Hash256& token_hash) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "DELETE FROM sessions WHERE token_hash = ?");
    q.BindBlob(1, token_hash);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("end session");
  }

  Result<std::optional<std::string>> FindSession(const Hash256& token_hash,
                                                 std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT user_name FROM sessions WHERE token_hash = ? AND expires_ms > ?");
    q.BindBlob(1, token_hash).Bind(2, now_ms);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(q.Text(0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return q.Error("find session");
  }

  Status AddEnrollCode(const EnrollCodeRow& c) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "INSERT INTO enroll_codes(code_hash, location, channel, expires_ms) "
                "VALUES (?, ?, ?, ?)");
    q.BindBlob(1, c.code_hash).Bind(2, c.location).Bind(3, c.channel).Bind(4, c.expires_ms);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("add enrollment code");
  }

  Result<DeviceRow> Enroll(
      const Hash256& code_hash, std::int64_t now_ms,
      const std::function<DeviceRow(const EnrollCodeRow&)>& make_device) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    Result<DeviceRow> result = EnrollLocked(code_hash, now_ms, make_device);
    s = End(result.ok());
    if (!result.ok()) return result;
    if (!s.ok()) return s;
    return result;
  }

  Status AddDevice(const DeviceRow& d) override {
    std::lock_guard lock(mu_);
    return InsertDevice(d);
  }

  Result<std::optional<DeviceRow>> FindDevice(const std::string& device_id) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT device_id, location, channel, public_key, web, certificate, "
                "enrolled_ms, revoked_ms, head_seq, head_hash FROM devices WHERE device_id = ?");
    q.Bind(1, device_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<DeviceRow>();
    if (rc != SQLITE_ROW) return q.Error("find device");
    return std::optional<DeviceRow>(ReadDevice(q));
  }

  Result<std::vector<DeviceRow>> ListDevices(const std::string& after, std::uint32_t limit,
                                             bool revoked_only) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT device_id, location, channel, public_key, web, certificate, "
                "enrolled_ms, revoked_ms, head_seq, head_hash FROM devices WHERE device_id > ? "
                "AND (? = 0 OR revoked_ms IS NOT NULL) ORDER BY device_id LIMIT ?");
    q.Bind(1, after).Bind(2, std::int64_t{revoked_only ? 1 : 0}).Bind(3, std::int64_t{limit});
    std::vector<DeviceRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadDevice(q));
    if (rc != SQLITE_DONE) return q.Error("list devices");
    return out;
  }

  Status RevokeDevice(const std::string& device_id, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?) WHERE device_id = ?");
    q.Bind(1, now_ms).Bind(2, device_id);
    if (q.Step() != SQLITE_DONE) return q.Error("revoke device");
    if (sqlite3_changes(db_) == 0) return Status::NotFound("no device '" + device_id + "'");
    return Status::Ok();
  }

  Result<AppendResult> AppendRecords(const std::string& device_id,
                                     const std::vector<VerifiedRecord>& records,
                                     std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    Result<AppendResult> result = AppendLocked(device_id, records, now_ms);
    bool commit = result.ok() && result->verdict == AppendResult::Verdict::kStored;
    s = End(commit);
    if (!result.ok()) return result;  // what made it roll back (a full database), not the rollback
    if (!s.ok()) return s;
    return result;
  }

  Result<InboundAppend> AppendInbound(const InboundMessage& message, const std::string& device_id,
                                      const VerifiedRecord& record, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    Result<InboundAppend> result = AppendInboundLocked(message, device_id, record, now_ms);
    const bool commit = result.ok() && !result->duplicate &&
                        result->append.verdict == AppendResult::Verdict::kStored;
    s = End(commit);
    if (!result.ok()) return result;
    if (!s.ok()) return s;
    return result;
  }

  Result<std::int64_t> StoredTime(const std::string& device_id, std::uint64_t seq) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT stored_ms FROM records WHERE device_id = ? AND seq = ?");
    q.Bind(1, device_id).Bind(2, static_cast<std::int64_t>(seq));
    int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Int(0);
    if (rc == SQLITE_DONE) return Status::NotFound("record not stored");
    return q.Error("stored time");
  }

  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) override {
    // Page through by key so that the lock is not held while the caller writes its output.
    std::string device;
    std::int64_t seq = -1;
    for (;;) {
      std::vector<StoredRecord> page;
      {
        std::lock_guard lock(mu_);
        Statement q(db_,
                    "SELECT r.device_id, r.seq, r.envelope, r.stored_ms, d.location, d.channel "
                    "FROM records r LEFT JOIN devices d ON d.device_id = r.device_id "
                    "WHERE (r.device_id, r.seq) > (?, ?) ORDER BY r.device_id, r.seq LIMIT 1000");
        q.Bind(1, device).Bind(2, seq);
        int rc;
        while ((rc = q.Step()) == SQLITE_ROW) {
          page.push_back({q.Text(0), static_cast<std::uint64_t>(q.Int(1)), q.Text(2), q.Int(3),
                          q.Text(4), q.Text(5)});
        }
        if (rc != SQLITE_DONE) return q.Error("read records");
      }
      if (page.empty()) return Status::Ok();
      for (const StoredRecord& r : page) {
        Status s = visit(r);
        if (!s.ok()) return s;
      }
      device = page.back().device_id;
      seq = static_cast<std::int64_t>(page.back().seq);
    }
  }

  // AppendInbound inside its write transaction.
  Result<InboundAppend> AppendInboundLocked(const InboundMessage& message,
                                            const std::string& device_id,
                                            const VerifiedRecord& record, std::int64_t now_ms) {
    InboundAppend out;
    bool known = false;
    {
      Statement q(db_,
                  "SELECT seq, received_ms FROM inbound_messages "
                  "WHERE channel = ? AND message_id = ?");
      q.Bind(1, message.channel).Bind(2, message.message_id);
      int rc = q.Step();
      if (rc == SQLITE_ROW) {
        known = true;
        out.seq = static_cast<std::uint64_t>(q.Int(0));
        out.first_ms = q.Int(1);
      } else if (rc != SQLITE_DONE) {
        return q.Error("read inbound message");
      }
    }
    if (known && (message.window_ms == 0 || now_ms - out.first_ms < message.window_ms)) {
      out.duplicate = true;
      return out;
    }
    Result<AppendResult> appended = AppendLocked(device_id, {record}, now_ms);
    if (!appended.ok()) return appended.status();
    out.append = *appended;
    if (appended->verdict != AppendResult::Verdict::kStored) return out;
    out.seq = record.seq;
    out.first_ms = now_ms;
    Statement ins(db_,
                  "INSERT OR REPLACE INTO inbound_messages(channel, message_id, device_id, seq, "
                  "received_ms) VALUES (?, ?, ?, ?, ?)");
    ins.Bind(1, message.channel).Bind(2, message.message_id).Bind(3, device_id);
    ins.Bind(4, static_cast<std::int64_t>(record.seq)).Bind(5, now_ms);
    if (ins.Step() != SQLITE_DONE) return ins.Error("remember inbound message");
    return out;
  }

  Result<std::uint64_t> CountRecords() override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT COUNT(*) FROM records");
    if (q.Step() != SQLITE_ROW) return q.Error("count records");
    return static_cast<std::uint64_t>(q.Int(0));
  }

  Status Quarantine(const QuarantineRow& row) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "INSERT INTO quarantine(device_id, seq, reason, envelope, received_ms) "
                "VALUES (?, ?, ?, ?, ?)");
    q.Bind(1, row.device_id).Bind(2, static_cast<std::int64_t>(row.seq)).Bind(3, row.reason);
    q.BindBlob(4, row.envelope).Bind(5, row.received_ms);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("quarantine");
  }

  Result<std::pair<std::uint64_t, std::uint64_t>> QuarantineBytes(
      const std::string& device_id) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT COALESCE(SUM(CASE WHEN device_id = ? THEN LENGTH(envelope) END), 0), "
                "COALESCE(SUM(LENGTH(envelope)), 0) FROM quarantine");
    q.Bind(1, device_id);
    if (q.Step() != SQLITE_ROW) return q.Error("quarantine size");
    return std::pair<std::uint64_t, std::uint64_t>(static_cast<std::uint64_t>(q.Int(0)),
                                                   static_cast<std::uint64_t>(q.Int(1)));
  }

  Result<std::vector<QuarantineRow>> ListQuarantine(std::uint32_t limit) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT device_id, seq, reason, envelope, received_ms FROM quarantine "
                "ORDER BY id DESC LIMIT ?");
    q.Bind(1, static_cast<std::int64_t>(limit));
    std::vector<QuarantineRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back(
          {q.Text(0), static_cast<std::uint64_t>(q.Int(1)), q.Text(2), q.Text(3), q.Int(4)});
    }
    if (rc != SQLITE_DONE) return q.Error("list quarantine");
    return out;
  }

  Status RegisterProjection(const std::string& name) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    Statement add(db_, "INSERT INTO projections(name) VALUES (?) ON CONFLICT(name) DO NOTHING");
    add.Bind(1, name);
    if (add.Step() != SQLITE_DONE) s = add.Error("register projection " + name);
    if (s.ok() && sqlite3_changes(db_) == 1) {  // new: it has every stored record still to see
      Statement fill(db_,
                     "INSERT INTO projection_queue(projection, device_id, seq) "
                     "SELECT ?, device_id, seq FROM records");
      fill.Bind(1, name);
      if (fill.Step() != SQLITE_DONE) s = fill.Error("register projection " + name);
    }
    Status end = End(s.ok());
    return s.ok() ? end : s;
  }

  Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                       const ProjectFn& project, const DigestFn& digest) override {
    // One call at a time: the records read here stay queued (and could be read again) until this
    // call takes them off the queue. The store's lock is held only to read them and, after the
    // digest, for the transaction: pushes go on while the projection works.
    std::lock_guard one_at_a_time(project_mu_);
    std::vector<StoredRecord> records;
    {
      std::lock_guard lock(mu_);
      Statement q(db_,
                  "SELECT q.device_id, q.seq, r.envelope, r.stored_ms, d.location, d.channel "
                  "FROM projection_queue q "
                  "JOIN records r ON r.device_id = q.device_id AND r.seq = q.seq "
                  "LEFT JOIN devices d ON d.device_id = q.device_id "
                  "WHERE q.projection = ? ORDER BY q.device_id, q.seq LIMIT ?");
      q.Bind(1, name).Bind(2, static_cast<std::int64_t>(limit));
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) {
        records.push_back({q.Text(0), static_cast<std::uint64_t>(q.Int(1)), q.Text(2), q.Int(3),
                           q.Text(4), q.Text(5)});
      }
      if (rc != SQLITE_DONE) return q.Error("read the " + name + " queue");
    }
    if (records.empty()) return std::uint32_t{0};
    if (digest) {
      if (Status s = digest(records); !s.ok()) return s;
    }
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    {
      SqliteDerivedTxn txn(db_, name);
      s = project(records, txn);
    }
    if (s.ok()) {
      // One DELETE per device's run of records rather than one per record. The records were read
      // in queue order, so each device's run holds every queued seq from its first to its last;
      // nothing joins the queue inside that range meanwhile (appends queue seqs above the
      // stored head). So the run deletes exactly its records, unless some were taken off
      // meanwhile: then fewer rows go and the transaction is refused, as before.
      Statement del(db_,
                    "DELETE FROM projection_queue WHERE projection = ? AND device_id = ? "
                    "AND seq BETWEEN ? AND ?");
      for (std::size_t first = 0; first < records.size();) {
        std::size_t last = first;
        while (last + 1 < records.size() && records[last + 1].device_id == records[first].device_id)
          ++last;
        const StoredRecord& lo = records[first];
        const StoredRecord& hi = records[last];
        del.Reset();
        del.Bind(1, name).Bind(2, lo.device_id).Bind(3, static_cast<std::int64_t>(lo.seq));
        del.Bind(4, static_cast<std::int64_t>(hi.seq));
        if (del.Step() != SQLITE_DONE) {
          s = del.Error("dequeue from " + name);
          break;
        }
        if (static_cast<std::size_t>(sqlite3_changes(db_)) != last - first + 1) {
          s = Status::Conflict("dequeue from " + name + ": records of " + lo.device_id + " #" +
                               std::to_string(lo.seq) + ".." + std::to_string(hi.seq) +
                               " were taken off the queue meanwhile");
          break;
        }
        first = last + 1;
      }
    }
    Status end = End(s.ok());
    if (!s.ok()) return s;
    if (!end.ok()) return end;
    return static_cast<std::uint32_t>(records.size());
  }

  Result<std::uint64_t> CountPending(const std::string& name) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT COUNT(*) FROM projection_queue WHERE projection = ?");
    q.Bind(1, name);
    if (q.Step() != SQLITE_ROW) return q.Error("count the " + name + " queue");
    return static_cast<std::uint64_t>(q.Int(0));
  }

  Status ForEachValue(const std::string& name, const std::string& prefix,
                      const std::function<Status(const std::string& key, const std::string& value)>&
                          visit) override {
    // Page through by key so that the lock is not held while the caller works. The first page
    // starts at `prefix` itself (>=), the next ones after the last key seen (>).
    const std::string end = PrefixEnd(prefix).value_or(std::string());
    std::string from = prefix;
    bool first = true;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> page;
      {
        std::lock_guard lock(mu_);
        std::string sql = "SELECT key, value FROM derived_values WHERE projection = ? AND key ";
        sql += first ? ">= ?" : "> ?";
        if (!end.empty()) sql += " AND key < ?";
        sql += " ORDER BY key LIMIT 1000";
        Statement q(db_, sql.c_str());
        q.Bind(1, name).BindBlob(2, from);
        if (!end.empty()) q.BindBlob(3, end);
        int rc;
        while ((rc = q.Step()) == SQLITE_ROW) page.emplace_back(q.Text(0), q.Text(1));
        if (rc != SQLITE_DONE) return q.Error("read " + name + " state");
      }
      if (page.empty()) return Status::Ok();
      for (const auto& [key, value] : page) {
        Status s = visit(key, value);
        if (!s.ok()) return s;
      }
      from = page.back().first;
      first = false;
    }
  }

  Status PublishSurvey(const SurveyRow& s) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "INSERT INTO surveys(survey_id, version, revision, definition, bundle, "
                "locations, published_ms) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(survey_id, version) DO NOTHING");
    q.Bind(1, s.survey_id).BindBlob(2, s.version).Bind(3, static_cast<std::int64_t>(s.revision));
    q.Bind(4, s.definition).BindBlob(5, s.bundle).Bind(6, JoinLocations(s.locations));
    q.Bind(7, s.published_ms);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("publish survey");
  }

  Result<std::vector<SurveyRow>> ListSurveys() override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT survey_id, version, revision, definition, bundle, locations, "
                "published_ms FROM surveys ORDER BY published_ms, rowid");
    std::vector<SurveyRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      SurveyRow s;
      s.survey_id = q.Text(0);
      s.version = q.Fixed<32>(1);
      s.revision = static_cast<std::uint32_t>(q.Int(2));
      s.definition = q.Text(3);
      s.bundle = q.Text(4);
      s.locations = SplitLocations(q.Text(5));
      s.published_ms = q.Int(6);
      out.push_back(std::move(s));
    }
    if (rc != SQLITE_DONE) return q.Error("list surveys");
    return out;
  }

  // Closed loop.
  Status AddUser(const UserRow& u) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "INSERT INTO users(name, role, locations, password_hash, created_ms) "
                "VALUES (?, ?, ?, ?, ?)");
    q.Bind(1, u.name).Bind(2, u.role).Bind(3, JoinLocations(u.locations));
    q.Bind(4, u.password_hash).Bind(5, u.created_ms);
    int rc = q.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::Conflict("a user named '" + u.name + "' exists");
    return rc == SQLITE_DONE ? Status::Ok() : q.Error("add user");
  }

  Status UpdateUser(const UserRow& u, bool end_sessions) override {
    std::lock_guard lock(mu_);
    return InTransaction([&]() -> Status {
      Statement q(db_,
                  "UPDATE users SET role = ?, locations = ?, password_hash = ? WHERE name = ?");
      q.Bind(1, u.role).Bind(2, JoinLocations(u.locations)).Bind(3, u.password_hash);
      q.Bind(4, u.name);
      if (q.Step() != SQLITE_DONE) return q.Error("update user");
      if (sqlite3_changes(db_) == 0) return Status::NotFound("no user '" + u.name + "'");
      return end_sessions ? EndSessions(u.name) : Status::Ok();
    });
  }

  Status DeleteUser(const std::string& name) override {
    std::lock_guard lock(mu_);
    return InTransaction([&]() -> Status {
      Statement q(db_, "DELETE FROM users WHERE name = ?");
      q.Bind(1, name);
      if (q.Step() != SQLITE_DONE) return q.Error("delete user");
      if (sqlite3_changes(db_) == 0) return Status::NotFound("no user '" + name + "'");
      return EndSessions(name);
    });
  }

  Result<std::optional<UserRow>> FindUser(const std::string& name) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT name, role, locations, password_hash, created_ms FROM users "
                "WHERE name = ?");
    q.Bind(1, name);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<UserRow>();
    if (rc != SQLITE_ROW) return q.Error("find user");
    return std::optional<UserRow>(ReadUser(q));
  }

  Result<std::vector<UserRow>> ListUsers() override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT name, role, locations, password_hash, created_ms FROM users "
                "ORDER BY name");
    std::vector<UserRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadUser(q));
    if (rc != SQLITE_DONE) return q.Error("list users");
    return out;
  }

  Result<std::vector<CaseRow>> ListCases(const CaseFilter& filter) override {
    std::vector<SqlValue> params;
    std::optional<std::string> where = CaseFilterSql(
        filter, [](int) { return std::string("?"); }, &params);
    std::vector<CaseRow> out;
    if (!where) return out;
    std::lock_guard lock(mu_);
    Statement q(db_, (std::string("SELECT ") + kCaseColumns + " FROM cases" + *where).c_str());
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::visit([&](const auto& v) { q.Bind(static_cast<int>(i + 1), v); }, params[i]);
    }
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadCase(q));
    if (rc != SQLITE_DONE) return q.Error("list cases");
    return out;
  }

  Result<std::optional<CaseRow>> FindCase(const std::string& case_id) override {
    std::lock_guard lock(mu_);
    Result<std::optional<CaseRow>> found = SelectCase(case_id);
    if (!found.ok() || !*found) return found;
    Statement q(db_,
                "SELECT revision, author, time_ms, text FROM case_notes WHERE case_id = ? "
                "ORDER BY revision");
    q.Bind(1, case_id);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      (*found)->notes.push_back(
          {static_cast<std::uint32_t>(q.Int(0)), q.Text(1), q.Int(2), q.Text(3)});
    }
    if (rc != SQLITE_DONE) return q.Error("read case notes");
    return found;
  }

  Result<CaseRow> ChangeCase(const std::string& case_id,
                             const std::function<Result<CaseChange>(CaseRow&)>& change) override {
    std::lock_guard lock(mu_);
    CaseRow row;
    Status s = InTransaction([&]() -> Status {
      Result<std::optional<CaseRow>> found = SelectCase(case_id);
      if (!found.ok()) return found.status();
      if (!*found) return Status::NotFound("no case '" + case_id + "'");
      row = std::move(**found);
      Result<CaseChange> done = change(row);
      if (!done.ok()) return done.status();
      if (!done->changed) return Status::Ok();
      Statement upd(db_,
                    "UPDATE cases SET state = ?, category = ?, assignee = ?, updated_ms = ?, "
                    "escalated_ms = ?, resolved_ms = ?, revision = ? WHERE case_id = ?");
      upd.Bind(1, row.state).Bind(2, row.category).Bind(3, row.assignee).Bind(4, row.updated_ms);
      BindOptional(upd, 5, row.escalated_ms);
      BindOptional(upd, 6, row.resolved_ms);
      upd.Bind(7, std::int64_t{row.revision}).Bind(8, case_id);
      if (upd.Step() != SQLITE_DONE) return upd.Error("change case");
      if (done->note) {
        Statement note(db_,
                       "INSERT INTO case_notes(case_id, revision, author, time_ms, text) "
                       "VALUES (?, ?, ?, ?, ?)");
        note.Bind(1, case_id).Bind(2, std::int64_t{done->note->revision});
        note.Bind(3, done->note->author).Bind(4, done->note->time_ms).Bind(5, done->note->text);
        if (note.Step() != SQLITE_DONE) return note.Error("add case note");
      }
      for (const CaseEvent& e : done->events) {
        if (Status q = InsertEvent(db_, e); !q.ok()) return q;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return row;
  }

  Status AddWebhook(const WebhookRow& w) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "INSERT INTO webhooks(webhook_id, url, created_ms) VALUES (?, ?, ?)");
    q.Bind(1, w.webhook_id).Bind(2, w.url).Bind(3, w.created_ms);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("add webhook");
  }

  Result<std::vector<WebhookRow>> ListWebhooks() override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT webhook_id, url, created_ms FROM webhooks ORDER BY created_ms");
    std::vector<WebhookRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back({q.Text(0), q.Text(1), q.Int(2)});
    if (rc != SQLITE_DONE) return q.Error("list webhooks");
    return out;
  }

  Status DeleteWebhook(const std::string& webhook_id) override {
    std::lock_guard lock(mu_);
    return InTransaction([&]() -> Status {
      Statement del(db_, "DELETE FROM webhook_deliveries WHERE webhook_id = ?");
      del.Bind(1, webhook_id);
      if (del.Step() != SQLITE_DONE) return del.Error("delete webhook");
      Statement q(db_, "DELETE FROM webhooks WHERE webhook_id = ?");
      q.Bind(1, webhook_id);
      if (q.Step() != SQLITE_DONE) return q.Error("delete webhook");
      if (sqlite3_changes(db_) == 0) return Status::NotFound("no webhook '" + webhook_id + "'");
      return Status::Ok();
    });
  }

  Result<std::vector<DeliveryRow>> ClaimDeliveries(std::int64_t now_ms, std::int64_t lease_until_ms,
                                                   std::uint32_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<DeliveryRow> out;
    Status s = InTransaction([&]() -> Status {
      Statement q(db_, (std::string(kDeliverySelect) +
                        "WHERE d.state = 'pending' AND d.next_ms <= ? ORDER BY d.next_ms LIMIT ?")
                           .c_str());
      q.Bind(1, now_ms).Bind(2, static_cast<std::int64_t>(limit));
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadDelivery(q));
      if (rc != SQLITE_DONE) return q.Error("claim webhook deliveries");
      Statement lease(db_,
                      "UPDATE webhook_deliveries SET next_ms = ? WHERE event_id = ? AND "
                      "webhook_id = ?");
      for (const DeliveryRow& d : out) {
        lease.Reset();
        lease.Bind(1, lease_until_ms).Bind(2, d.event_id).Bind(3, d.webhook_id);
        if (lease.Step() != SQLITE_DONE) return lease.Error("claim webhook deliveries");
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Status FinishDelivery(const DeliveryRow& d) override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_ms = ?, "
                "last_status = ?, last_error = ?, delivered_ms = ? "
                "WHERE event_id = ? AND webhook_id = ?");
    q.Bind(1, d.state).Bind(2, std::int64_t{d.attempts}).Bind(3, d.next_ms);
    q.Bind(4, std::int64_t{d.last_status}).Bind(5, d.last_error);
    BindOptional(q, 6, d.delivered_ms);
    q.Bind(7, d.event_id).Bind(8, d.webhook_id);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("record webhook delivery");
  }

  Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& state,
                                                  std::uint32_t limit) override {
    std::lock_guard lock(mu_);
    Statement q(db_, (std::string(kDeliverySelect) +
                      "WHERE (? = '' OR d.state = ?) ORDER BY e.created_ms DESC, d.event_id "
                      "LIMIT ?")
                         .c_str());
    q.Bind(1, state).Bind(2, state).Bind(3, static_cast<std::int64_t>(limit));
    std::vector<DeliveryRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadDelivery(q));
    if (rc != SQLITE_DONE) return q.Error("list webhook deliveries");
    return out;
  }

 private:
  // Ends the transaction a BEGIN IMMEDIATE started: COMMIT, or ROLLBACK. On some errors SQLite
  // rolls the transaction back by itself (SQLITE_FULL among them,
  // sqlite.org/lang_transaction.html); a ROLLBACK then fails with "no transaction is active", which
  // must not hide the error that caused it. A COMMIT that fails leaves the transaction open, so it
  // is rolled back.
  Status End(bool commit) {
    if (!commit) return sqlite3_get_autocommit(db_) ? Status::Ok() : Exec("ROLLBACK");
    Status s = Exec("COMMIT");
    if (!s.ok() && !sqlite3_get_autocommit(db_)) (void)Exec("ROLLBACK");
    return s;
  }

  // Runs `body` between BEGIN IMMEDIATE and COMMIT, or ROLLBACK if it fails. Holds mu_.
  template <typename F>
  Status InTransaction(F&& body) {
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = body();
    Status end = End(s.ok());
    return s.ok() ? end : s;
  }

  // PRAGMA max_page_count holds for this connection only, so it is set at every open. SQLite
  // keeps it at the current page count if that is larger: the database is then full at once.
  Status LimitSize(std::uint32_t max_db_mb) {
    Statement size(db_, "PRAGMA page_size");
    if (size.Step() != SQLITE_ROW || size.Int(0) <= 0) return size.Error("read the page size");
    const std::int64_t pages =
        std::max<std::int64_t>(1, std::int64_t{max_db_mb} * 1024 * 1024 / size.Int(0));
    const std::string pragma = "PRAGMA max_page_count = " + std::to_string(pages);
    Statement limit(db_, pragma.c_str());
    if (limit.Step() != SQLITE_ROW) return limit.Error("limit the database size");
    return Status::Ok();
  }

  Status EndSessions(const std::string& user) {
    Statement q(db_, "DELETE FROM sessions WHERE user_name = ?");
    q.Bind(1, user);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("end sessions");
  }

  static UserRow ReadUser(Statement& q) {
    return UserRow{q.Text(0), q.Text(1), SplitLocations(q.Text(2)), q.Text(3), q.Int(4)};
  }

  Result<std::optional<CaseRow>> SelectCase(const std::string& case_id) {
    Statement q(db_,
                (std::string("SELECT ") + kCaseColumns + " FROM cases WHERE case_id = ?").c_str());
    q.Bind(1, case_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<CaseRow>();
    if (rc != SQLITE_ROW) return q.Error("read case");
    return std::optional<CaseRow>(ReadCase(q));
  }

  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (rc == SQLITE_FULL) return DatabaseFull("sqlite");
    return Status::IoError("sqlite: " + msg);
  }

  static DeviceRow ReadDevice(Statement& q) {
    DeviceRow d;
    d.device_id = q.Text(0);
    d.location = q.Text(1);
    d.channel = q.Text(2);
    d.public_key = q.Fixed<32>(3);
    d.web = q.Int(4) != 0;
    d.certificate = q.Text(5);
    d.enrolled_ms = q.Int(6);
    if (!q.IsNull(7)) d.revoked_ms = q.Int(7);
    d.head.seq = static_cast<std::uint64_t>(q.Int(8));
    d.head.hash = q.Fixed<32>(9);
    return d;
  }

  Status InsertDevice(const DeviceRow& d) {
    Statement q(db_,
                "INSERT INTO devices(device_id, location, channel, public_key, web, "
                "certificate, enrolled_ms, head_seq, head_hash) VALUES (?,?,?,?,?,?,?,0,?)");
    q.Bind(1, d.device_id).Bind(2, d.location).Bind(3, d.channel).BindBlob(4, d.public_key);
    q.Bind(5, d.web ? 1 : 0).BindBlob(6, d.certificate).Bind(7, d.enrolled_ms);
    q.BindBlob(8, Hash256{});
    if (q.Step() != SQLITE_DONE) return q.Error("add device");
    return Status::Ok();
  }

  Result<DeviceRow> EnrollLocked(const Hash256& code_hash, std::int64_t now_ms,
                                 const std::function<DeviceRow(const EnrollCodeRow&)>& make) {
    Statement q(db_,
                "SELECT location, channel, expires_ms, used_ms FROM enroll_codes "
                "WHERE code_hash = ?");
    q.BindBlob(1, code_hash);
    int rc = q.Step();
    if (rc == SQLITE_DONE) {
      return Status::Unauthenticated(
          "enrollment code is unknown: check it, or ask an admin for a new one");
    }
    if (rc != SQLITE_ROW) return q.Error("enroll");
    if (!q.IsNull(3)) {
      return Status::Unauthenticated(
          "enrollment code was already used: ask an admin for a new one");
    }
    EnrollCodeRow code{code_hash, q.Text(0), q.Text(1), q.Int(2)};
    if (code.expires_ms <= now_ms) {
      return Status::Unauthenticated("enrollment code has expired: ask an admin for a new one");
    }
    Statement used(db_, "UPDATE enroll_codes SET used_ms = ? WHERE code_hash = ?");
    used.Bind(1, now_ms).BindBlob(2, code_hash);
    if (used.Step() != SQLITE_DONE) return used.Error("enroll");
    DeviceRow device = make(code);
    Status s = InsertDevice(device);
    if (!s.ok()) return s;
    return device;
  }

  Result<AppendResult> AppendLocked(const std::string& device_id,
                                    const std::vector<VerifiedRecord>& records,
                                    std::int64_t now_ms) {
    AppendResult result;
    {
      Statement head(db_, "SELECT head_seq, head_hash FROM devices WHERE device_id = ?");
      head.Bind(1, device_id);
      int rc = head.Step();
      if (rc == SQLITE_DONE) return Status::NotFound("no device '" + device_id + "'");
      if (rc != SQLITE_ROW) return head.Error("read chain head");
      result.head.seq = static_cast<std::uint64_t>(head.Int(0));
      result.head.hash = head.Fixed<32>(1);
    }
    // One prepared statement each, reset per row: preparing per row costs more than the insert.
    Statement q(db_, "SELECT hash FROM records WHERE device_id = ? AND seq = ?");
    auto stored_hash = [&](std::uint64_t seq) -> Result<Hash256> {
      q.Reset();
      q.Bind(1, device_id).Bind(2, static_cast<std::int64_t>(seq));
      if (q.Step() != SQLITE_ROW) return q.Error("read stored record");
      return q.Fixed<32>(0);
    };
    const std::uint64_t head_before = result.head.seq;
    std::vector<const VerifiedRecord*> fresh;
    Result<AppendResult> classified = ClassifyBatch(result.head, records, stored_hash, &fresh);
    if (!classified.ok() || classified->verdict != AppendResult::Verdict::kStored) {
      return classified;
    }
    result = *classified;
    Statement ins(db_,
                  "INSERT INTO records(device_id, seq, hash, envelope, stored_ms) "
                  "VALUES (?, ?, ?, ?, ?)");
    for (const VerifiedRecord* r : fresh) {
      ins.Reset();
      ins.Bind(1, device_id).Bind(2, static_cast<std::int64_t>(r->seq)).BindBlob(3, r->hash);
      ins.BindBlob(4, r->envelope).Bind(5, now_ms);
      if (ins.Step() != SQLITE_DONE) return ins.Error("store record");
    }
    if (result.stored > 0) {
      // Every registered projection has the fresh records (head_before, new head] to see.
      Statement queue(db_,
                      "INSERT INTO projection_queue(projection, device_id, seq) "
                      "SELECT p.name, r.device_id, r.seq FROM projections p JOIN records r "
                      "ON r.device_id = ? AND r.seq > ? AND r.seq <= ?");
      queue.Bind(1, device_id).Bind(2, static_cast<std::int64_t>(head_before));
      queue.Bind(3, static_cast<std::int64_t>(result.head.seq));
      if (queue.Step() != SQLITE_DONE) return queue.Error("queue records for projections");
      Statement upd(db_, "UPDATE devices SET head_seq = ?, head_hash = ? WHERE device_id = ?");
      upd.Bind(1, static_cast<std::int64_t>(result.head.seq)).BindBlob(2, result.head.hash);
      upd.Bind(3, device_id);
      if (upd.Step() != SQLITE_DONE) return upd.Error("update chain head");
    }
    return result;
  }

  std::mutex project_mu_;  // taken before mu_, never while holding it
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<ServerStore>> OpenSqliteStore(const std::string& path,
                                                     std::uint32_t max_db_mb) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db);
  Status s = store->Init(max_db_mb);
  if (!s.ok()) return s.WithContext(path);
  return std::unique_ptr<ServerStore>(std::move(store));
}

}  // namespace canvass::server
