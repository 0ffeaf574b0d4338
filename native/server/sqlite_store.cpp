// SQLite backend of ServerStore: one connection behind a mutex (SQLite serialises writers anyway),
// WAL with synchronous=NORMAL — a committed batch survives a crash of the process; only a power
// loss can take back the last transactions, and devices resend what has no receipt.
#include <sqlite3.h>

#include <mutex>
#include <optional>

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
};

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
    if (rc_ == SQLITE_FULL) {
      return Status::Unavailable(what + ": the database is full (free disk space, then retry)");
    }
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

// A projection's view of the transaction ProjectPending holds (the store's mutex is held too).
class SqliteDerivedTxn : public DerivedTxn {
 public:
  SqliteDerivedTxn(sqlite3* db, const std::string& projection)
      : projection_(projection),
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

 private:
  const std::string& projection_;
  Statement get_, put_;
};

class SqliteStore : public ServerStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status Init() {
    Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    if (!s.ok()) return s;
    sqlite3_busy_timeout(db_, 5000);
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
        (void)Exec("ROLLBACK");
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

  Status AddSession(const Hash256& token_hash, std::int64_t expires_ms) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "INSERT INTO sessions(token_hash, expires_ms) VALUES (?, ?)");
    q.BindBlob(1, token_hash).Bind(2, expires_ms);
    return q.Step() == SQLITE_DONE ? Status::Ok() : q.Error("add session");
  }

  Result<bool> FindSession(const Hash256& token_hash, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Statement q(db_, "SELECT 1 FROM sessions WHERE token_hash = ? AND expires_ms > ?");
    q.BindBlob(1, token_hash).Bind(2, now_ms);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
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
    s = Exec(result.ok() ? "COMMIT" : "ROLLBACK");
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

  Result<std::vector<DeviceRow>> ListDevices() override {
    std::lock_guard lock(mu_);
    Statement q(db_,
                "SELECT device_id, location, channel, public_key, web, certificate, "
                "enrolled_ms, revoked_ms, head_seq, head_hash FROM devices ORDER BY device_id");
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
    s = Exec(commit ? "COMMIT" : "ROLLBACK");
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
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
                    "SELECT device_id, seq, envelope, stored_ms FROM records "
                    "WHERE (device_id, seq) > (?, ?) ORDER BY device_id, seq LIMIT 1000");
        q.Bind(1, device).Bind(2, seq);
        int rc;
        while ((rc = q.Step()) == SQLITE_ROW) {
          page.push_back({q.Text(0), static_cast<std::uint64_t>(q.Int(1)), q.Text(2), q.Int(3)});
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
    Status end = Exec(s.ok() ? "COMMIT" : "ROLLBACK");
    if (!end.ok()) (void)Exec("ROLLBACK");
    return s.ok() ? end : s;
  }

  Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                       const ProjectFn& project) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    std::vector<StoredRecord> records;
    {
      Statement q(db_,
                  "SELECT q.device_id, q.seq, r.envelope, r.stored_ms FROM projection_queue q "
                  "JOIN records r ON r.device_id = q.device_id AND r.seq = q.seq "
                  "WHERE q.projection = ? ORDER BY q.device_id, q.seq LIMIT ?");
      q.Bind(1, name).Bind(2, static_cast<std::int64_t>(limit));
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) {
        records.push_back({q.Text(0), static_cast<std::uint64_t>(q.Int(1)), q.Text(2), q.Int(3)});
      }
      if (rc != SQLITE_DONE) s = q.Error("read the " + name + " queue");
    }
    if (s.ok() && !records.empty()) {
      SqliteDerivedTxn txn(db_, name);
      s = project(records, txn);
    }
    if (s.ok() && !records.empty()) {
      Statement del(db_,
                    "DELETE FROM projection_queue WHERE projection = ? AND device_id = ? "
                    "AND seq = ?");
      for (const StoredRecord& r : records) {
        del.Reset();
        del.Bind(1, name).Bind(2, r.device_id).Bind(3, static_cast<std::int64_t>(r.seq));
        if (del.Step() != SQLITE_DONE) {
          s = del.Error("dequeue from " + name);
          break;
        }
      }
    }
    Status end = Exec(s.ok() ? "COMMIT" : "ROLLBACK");
    if (!s.ok()) return s;
    if (!end.ok()) {
      (void)Exec("ROLLBACK");
      return end;
    }
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

 private:
  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (rc == SQLITE_FULL) return Status::Unavailable("the database is full: " + msg);
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

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<ServerStore>> OpenSqliteStore(const std::string& path) {
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
  Status s = store->Init();
  if (!s.ok()) return s.WithContext(path);
  return std::unique_ptr<ServerStore>(std::move(store));
}

}  // namespace canvass::server
