// PostgreSQL backend of ServerStore, for several stateless canvass-server instances sharing one
// database. Behaviour and messages mirror the SQLite backend; what is special here:
// - Connections: a pool of up to kMaxConnections libpq connections, opened lazily. A PGconn is
//   used by one thread at a time, so requests really run concurrently (in this process and across
//   instances). A connection found broken, or closed by the server while it sat idle (restart,
//   failover), is reopened when next taken; one left inside a transaction is rolled back or closed.
// - Locking: AppendRecords reads the chain head with SELECT ... FOR UPDATE, so two servers given
//   the same batch serialise on the device row and the second sees the first's records as
//   duplicates; Enroll locks the code row the same way. PRIMARY KEY(device_id, seq) is the
//   backstop that makes a double accept impossible.
// - Retries: a unique violation (23505), serialisation failure (40001) or deadlock (40P01) rolls
//   the whole transaction back and runs it again, up to kMaxAttempts times in all. A connection
//   lost before anything was done (at BEGIN, or under a lone SELECT) is replaced and the call
//   runs again; a write that may have reached the server is never replayed.
// - Schema: versioned migrations run at start in one transaction under pg_advisory_xact_lock, so
//   instances starting together do not race.
// - Values travel only as bound binary parameters (PQexecParams); results come back binary.
// - Errors: lost connection (SQLSTATE class 08), exhausted resources (class 53: disk full, out of
//   memory, too many connections), shutdown, busy and read-only standby → Unavailable with what to
//   do; invalid text (class 22) → InvalidArgument; the rest → IoError.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "store.h"

namespace canvass::server {
namespace {

constexpr int kMaxConnections = 8;
// A transaction that hits a retryable error runs at most this often in all.
constexpr int kMaxAttempts = 3;
constexpr auto kPoolWait = std::chrono::seconds(30);
constexpr std::int64_t kSchemaLockKey = 0x63616e7661737301;  // "canvass\x01": pg_advisory_xact_lock

// pg_type OIDs of the parameter types sent (always in binary format).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// Schema migrations, applied in order; schema_version holds how many ran. The same logical schema
// as SQLite; `definition` is BYTEA (not TEXT) so that the JSON bytes whose hash is the version come
// back exactly, whatever the database encoding.
const char* const kMigrations[] = {
    R"(CREATE TABLE settings(key TEXT PRIMARY KEY, value BYTEA NOT NULL);
       CREATE TABLE sessions(token_hash BYTEA PRIMARY KEY, expires_ms BIGINT NOT NULL);
       CREATE TABLE enroll_codes(code_hash BYTEA PRIMARY KEY, location TEXT NOT NULL,
                                 channel TEXT NOT NULL, expires_ms BIGINT NOT NULL,
                                 used_ms BIGINT);
       CREATE TABLE devices(device_id TEXT PRIMARY KEY, location TEXT NOT NULL,
                            channel TEXT NOT NULL, public_key BYTEA NOT NULL,
                            web BOOLEAN NOT NULL, certificate BYTEA NOT NULL,
                            enrolled_ms BIGINT NOT NULL, revoked_ms BIGINT,
                            head_seq BIGINT NOT NULL DEFAULT 0, head_hash BYTEA NOT NULL);
       CREATE TABLE records(device_id TEXT NOT NULL, seq BIGINT NOT NULL, hash BYTEA NOT NULL,
                            envelope BYTEA NOT NULL, stored_ms BIGINT NOT NULL,
                            PRIMARY KEY(device_id, seq));
       CREATE TABLE quarantine(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                               device_id TEXT NOT NULL, seq BIGINT NOT NULL, reason TEXT NOT NULL,
                               envelope BYTEA NOT NULL, received_ms BIGINT NOT NULL);
       CREATE TABLE surveys(id BIGINT GENERATED ALWAYS AS IDENTITY, survey_id TEXT NOT NULL,
                            version BYTEA NOT NULL, revision BIGINT NOT NULL,
                            definition BYTEA NOT NULL, bundle BYTEA NOT NULL,
                            locations TEXT NOT NULL, published_ms BIGINT NOT NULL,
                            PRIMARY KEY(survey_id, version));)",
    // 2: projections (store.h): registered names, the queue of records each has still to see,
    // and their key-value state.
    R"(CREATE TABLE projections(name TEXT PRIMARY KEY);
       CREATE TABLE projection_queue(projection TEXT NOT NULL, device_id TEXT NOT NULL,
                                     seq BIGINT NOT NULL,
                                     PRIMARY KEY(projection, device_id, seq));
       CREATE TABLE derived_values(projection TEXT NOT NULL, key BYTEA NOT NULL,
                                   value BYTEA NOT NULL, PRIMARY KEY(projection, key));)",
    // 3: the closed loop (cases.h): user accounts and sessions bound to them ('' is the admin
    // password), follow-up cases and their notes, webhooks, and the outbox of webhook events with
    // one delivery row per webhook.
    R"(CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, locations TEXT NOT NULL,
                          password_hash TEXT NOT NULL, created_ms BIGINT NOT NULL);
       ALTER TABLE sessions ADD COLUMN user_name TEXT NOT NULL DEFAULT '';
       CREATE TABLE cases(case_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq BIGINT NOT NULL,
                          survey_id TEXT NOT NULL, location TEXT NOT NULL,
                          question TEXT NOT NULL, metric TEXT NOT NULL, score BIGINT NOT NULL,
                          scale_min BIGINT NOT NULL, scale_max BIGINT NOT NULL,
                          state TEXT NOT NULL, category TEXT NOT NULL, assignee TEXT NOT NULL,
                          sealed_contact BYTEA NOT NULL, responded_ms BIGINT NOT NULL,
                          opened_ms BIGINT NOT NULL, due_ms BIGINT NOT NULL,
                          updated_ms BIGINT NOT NULL, escalated_ms BIGINT, resolved_ms BIGINT,
                          revision BIGINT NOT NULL);
       CREATE INDEX cases_by_due ON cases(due_ms);
       CREATE INDEX cases_by_location ON cases(location, due_ms);
       CREATE TABLE case_notes(case_id TEXT NOT NULL, revision BIGINT NOT NULL,
                               author TEXT NOT NULL, time_ms BIGINT NOT NULL, text TEXT NOT NULL,
                               PRIMARY KEY(case_id, revision));
       CREATE TABLE webhooks(webhook_id TEXT PRIMARY KEY, url TEXT NOT NULL,
                             created_ms BIGINT NOT NULL);
       CREATE TABLE webhook_events(event_id TEXT PRIMARY KEY, type TEXT NOT NULL,
                                   case_id TEXT NOT NULL, body BYTEA NOT NULL,
                                   created_ms BIGINT NOT NULL);
       CREATE TABLE webhook_deliveries(event_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
                                       state TEXT NOT NULL, attempts BIGINT NOT NULL,
                                       next_ms BIGINT NOT NULL, last_status BIGINT NOT NULL,
                                       last_error TEXT NOT NULL, delivered_ms BIGINT,
                                       PRIMARY KEY(event_id, webhook_id));
       CREATE INDEX deliveries_due ON webhook_deliveries(state, next_ms);)",
    // 4: inbound messages (the SMS gateway's message ids), so that a gateway's retry is stored
    // once; the record that holds the message is (device_id, seq).
    R"(CREATE TABLE inbound_messages(channel TEXT NOT NULL, message_id TEXT NOT NULL,
                                     device_id TEXT NOT NULL, seq BIGINT NOT NULL,
                                     received_ms BIGINT NOT NULL,
                                     PRIMARY KEY(channel, message_id));)",
};

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string OneLine(const char* message) {
  std::string out;
  for (const char* p = message ? message : ""; *p; ++p) {
    const bool space = *p == '\n' || *p == '\r' || *p == '\t' || *p == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += *p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "unknown error" : out;
}

// The URL as shown in messages: the password (in the user info or a password= parameter) is
// replaced by ***.
std::string RedactUrl(const std::string& url) {
  std::string out = url;
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    std::size_t end = out.find_first_of("/?#", start);
    if (end == std::string::npos) end = out.size();
    const std::size_t at = out.substr(start, end - start).rfind('@');
    if (at != std::string::npos) {
      const std::size_t colon = out.find(':', start);
      if (colon < start + at) out.replace(colon + 1, start + at - colon - 1, "***");
    }
  }
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos != 0 && std::string_view("?& \t").find(out[pos - 1]) == std::string_view::npos)
      continue;
    const std::size_t value = pos + 9;
    std::size_t end = out.find_first_of("& \t", value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
  }
  return out;
}

// `message` with every copy of `url` shown redacted (libpq quotes the URL in parse errors).
std::string Scrub(std::string message, const std::string& url) {
  const std::string shown = RedactUrl(url);
  if (url.empty() || shown == url) return message;
  for (std::size_t pos = message.find(url); pos != std::string::npos;
       pos = message.find(url, pos + shown.size())) {
    message.replace(pos, url.size(), shown);
  }
  return message;
}

// Bound parameters of one statement, all in binary format with explicit types.
class Params {
 public:
  Params& Text(const std::string& s) { return Add(kTextOid, s); }
  Params& Bytes(const std::string& s) { return Add(kByteaOid, s); }
  template <std::size_t N>
  Params& Bytes(const std::array<std::uint8_t, N>& a) {
    return Add(kByteaOid, std::string(reinterpret_cast<const char*>(a.data()), N));
  }
  Params& Int(std::int64_t v) {
    std::string b(8, '\0');
    for (int i = 0; i < 8; ++i) {
      b[static_cast<std::size_t>(i)] =
          static_cast<char>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
    }
    return Add(kInt8Oid, std::move(b));
  }
  Params& Bool(bool v) { return Add(kBoolOid, std::string(1, v ? '\1' : '\0')); }
  // An int8 that may be NULL.
  Params& OptInt(const std::optional<std::int64_t>& v) {
    if (v) return Int(*v);
    Add(kInt8Oid, std::string());
    nulls_.back() = true;
    return *this;
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const std::string& value(int i) const { return values_[static_cast<std::size_t>(i)]; }
  bool null(int i) const { return nulls_[static_cast<std::size_t>(i)]; }

 private:
  Params& Add(Oid type, std::string value) {
    types_.push_back(type);
    values_.push_back(std::move(value));
    nulls_.push_back(false);
    return *this;
  }
  std::vector<Oid> types_;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

// The rows of one successful statement, in binary format.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Str(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  // int8, int4 or int2 in network byte order.
  std::int64_t Int(int row, int col) const {
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col));
    const int n = PQgetlength(r_.get(), row, col);
    std::uint64_t v = n > 0 && (p[0] & 0x80) ? ~std::uint64_t{0} : 0;  // sign-extend
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return static_cast<std::int64_t>(v);
  }
  bool Bool(int row, int col) const {
    return PQgetlength(r_.get(), row, col) == 1 && PQgetvalue(r_.get(), row, col)[0] != 0;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(int row, int col) const {
    std::array<std::uint8_t, N> out{};
    std::string s = Str(row, col);
    if (s.size() == N) std::copy(s.begin(), s.end(), out.begin());
    return out;
  }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t Affected() const { return std::strtoull(PQcmdTuples(r_.get()), nullptr, 10); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

bool IsRetryable(const std::string& sqlstate) {
  return sqlstate == "23505" || sqlstate == "40001" || sqlstate == "40P01";
}

// Maps a failed statement to a Status a person can act on; `what` says what was being done.
Status Classify(const std::string& what, const std::string& sqlstate, bool connection_lost,
                const std::string& detail) {
  const std::string cls = sqlstate.substr(0, 2);
  if (connection_lost || cls == "08") {
    return Status::Unavailable(what + ": lost the connection to PostgreSQL (" + detail +
                               "); check that the database server is running and reachable, "
                               "then retry");
  }
  if (sqlstate == "53100") {
    return Status::Unavailable(what + ": the database is full (" + detail +
                               "); free disk space on the PostgreSQL server, then retry");
  }
  if (cls == "53") {
    return Status::Unavailable(what + ": PostgreSQL is out of resources (" + detail +
                               "); retry later, or raise its memory or max_connections");
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014") {
    return Status::Unavailable(what + ": the database is busy (" + detail + "), retry");
  }
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return Status::Unavailable(what + ": PostgreSQL is shutting down or starting up (" + detail +
                               "); retry in a moment");
  }
  if (sqlstate == "25006") {
    return Status::Unavailable(what + ": the database is read-only (" + detail +
                               "); point --db at the primary server");
  }
  if (cls == "22") {
    return Status::InvalidArgument(what + ": a value was refused by PostgreSQL (" + detail + ")");
  }
  return Status::IoError(what + ": postgresql: " + detail);
}

// One libpq connection. Used by one thread at a time: the pool hands it out exclusively.
class Conn {
 public:
  explicit Conn(PGconn* c) : c_(c) {}
  ~Conn() { PQfinish(c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs one statement with bound parameters.
  Result<Rows> Exec(const char* sql, const Params& p, const std::string& what) {
    sqlstate_.clear();
    const int n = p.size();
    std::vector<const char*> values(static_cast<std::size_t>(n));
    std::vector<int> lengths(static_cast<std::size_t>(n));
    std::vector<int> formats(static_cast<std::size_t>(n), 1);
    for (int i = 0; i < n; ++i) {
      values[static_cast<std::size_t>(i)] = p.null(i) ? nullptr : p.value(i).data();
      lengths[static_cast<std::size_t>(i)] = static_cast<int>(p.value(i).size());
    }
    PGresult* r = PQexecParams(c_, sql, n, p.types(), values.data(), lengths.data(), formats.data(),
                               /*resultFormat=*/1);
    return Check(r, what);
  }
  Result<Rows> Exec(const char* sql, const std::string& what) { return Exec(sql, Params(), what); }
  Status Run(const char* sql, const std::string& what) {
    Result<Rows> r = Exec(sql, what);
    return r.ok() ? Status::Ok() : r.status();
  }
  // Several statements without parameters (schema migrations).
  Status Script(const char* sql, const std::string& what) {
    sqlstate_.clear();
    Result<Rows> r = Check(PQexec(c_, sql), what);
    return r.ok() ? Status::Ok() : r.status();
  }

  // SQLSTATE of the last failed statement; empty after a success.
  const std::string& sqlstate() const { return sqlstate_; }
  bool broken() const { return PQstatus(c_) != CONNECTION_OK; }
  bool in_transaction() const { return PQtransactionStatus(c_) != PQTRANS_IDLE; }
  // An idle connection has nothing to read unless the server is closing it (shutdown, restart,
  // idle timeout, terminated backend): then it is not worth handing out.
  bool Stale() const {
    if (broken()) return true;
    pollfd p{PQsocket(c_), POLLIN, 0};
    return poll(&p, 1, 0) != 0;
  }

 private:
  Result<Rows> Check(PGresult* r, const std::string& what) {
    const ExecStatusType st = PQresultStatus(r);  // PGRES_FATAL_ERROR for a null result
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    sqlstate_ = state ? state : "";
    std::string detail = OneLine(primary ? primary : PQerrorMessage(c_));
    PQclear(r);
    return Classify(what, sqlstate_, broken(), detail);
  }

  PGconn* c_;
  std::string sqlstate_;
};

// Up to kMaxConnections connections, opened on demand; Acquire() lends one to the calling thread
// until the Lease goes out of scope.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  explicit Pool(std::string url) : url_(std::move(url)), shown_(RedactUrl(url_)) {}

  Result<Lease> Acquire() {
    std::unique_ptr<Conn> conn;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kPoolWait,
                        [&] { return !idle_.empty() || open_ < kMaxConnections; })) {
        return Status::Unavailable("all " + std::to_string(kMaxConnections) +
                                   " connections to PostgreSQL stayed busy for " +
                                   std::to_string(kPoolWait.count()) + " s; retry");
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;  // this slot is ours; connect outside the lock
      }
    }
    if (conn && conn->Stale()) conn.reset();  // reopened below, in the same slot
    if (!conn) {
      Result<std::unique_ptr<Conn>> fresh = Connect();
      if (!fresh.ok()) {
        {
          std::lock_guard lock(mu_);
          --open_;
        }
        cv_.notify_one();
        return fresh.status();
      }
      conn = std::move(*fresh);
    }
    return Lease(this, std::move(conn));
  }

 private:
  Result<std::unique_ptr<Conn>> Connect() {
    // Defaults first: keywords in the URL (dbname, expanded last) override them.
    const char* const keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                nullptr};
    const char* const values[] = {"10", "canvass-server", "UTF8", url_.c_str(), nullptr};
    PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (c == nullptr) return Status::Unavailable("cannot connect to PostgreSQL: out of memory");
    auto conn = std::make_unique<Conn>(c);
    if (PQstatus(c) != CONNECTION_OK) {
      return Status::Unavailable(
          "cannot connect to PostgreSQL at " + shown_ + " (" +
          Scrub(OneLine(PQerrorMessage(c)), url_) +
          "): check that the database server is running and reachable at that host and port, "
          "and that the user, password and database name in --db are right");
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);  // "already exists, skipping"
    return conn;
  }

  void Release(std::unique_ptr<Conn> conn) {
    // A statement that failed on the way may have left a transaction open.
    if (!conn->broken() && conn->in_transaction()) (void)conn->Run("ROLLBACK", "rollback");
    const bool keep = !conn->broken() && !conn->in_transaction();
    if (!keep) conn.reset();
    {
      std::lock_guard lock(mu_);
      if (keep) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

  const std::string url_;
  const std::string shown_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;  // idle + lent + being opened
};

// Closed loop: the statements that both a projection's transaction and ChangeCase run.
constexpr char kCaseColumns[] =
    "case_id, device_id, seq, survey_id, location, question, metric, score, scale_min, "
    "scale_max, state, category, assignee, sealed_contact, responded_ms, opened_ms, due_ms, "
    "updated_ms, escalated_ms, resolved_ms, revision";

CaseRow ReadCase(const Rows& r, int i) {
  CaseRow c;
  c.case_id = r.Str(i, 0);
  c.device_id = r.Str(i, 1);
  c.seq = static_cast<std::uint64_t>(r.Int(i, 2));
  c.survey_id = r.Str(i, 3);
  c.location = r.Str(i, 4);
  c.question = r.Str(i, 5);
  c.metric = r.Str(i, 6);
  c.score = static_cast<std::int32_t>(r.Int(i, 7));
  c.scale_min = static_cast<std::int32_t>(r.Int(i, 8));
  c.scale_max = static_cast<std::int32_t>(r.Int(i, 9));
  c.state = r.Str(i, 10);
  c.category = r.Str(i, 11);
  c.assignee = r.Str(i, 12);
  c.sealed_contact = r.Str(i, 13);
  c.responded_ms = r.Int(i, 14);
  c.opened_ms = r.Int(i, 15);
  c.due_ms = r.Int(i, 16);
  c.updated_ms = r.Int(i, 17);
  if (!r.IsNull(i, 18)) c.escalated_ms = r.Int(i, 18);
  if (!r.IsNull(i, 19)) c.resolved_ms = r.Int(i, 19);
  c.revision = static_cast<std::uint32_t>(r.Int(i, 20));
  return c;
}

Result<bool> InsertCaseRow(Conn& c, const CaseRow& k) {
  Result<Rows> r = c.Exec((std::string("INSERT INTO cases(") + kCaseColumns +
                           ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                           "$14, $15, $16, $17, $18, $19, $20, $21) "
                           "ON CONFLICT(case_id) DO NOTHING")
                              .c_str(),
                          Params()
                              .Text(k.case_id)
                              .Text(k.device_id)
                              .Int(static_cast<std::int64_t>(k.seq))
                              .Text(k.survey_id)
                              .Text(k.location)
                              .Text(k.question)
                              .Text(k.metric)
                              .Int(k.score)
                              .Int(k.scale_min)
                              .Int(k.scale_max)
                              .Text(k.state)
                              .Text(k.category)
                              .Text(k.assignee)
                              .Bytes(k.sealed_contact)
                              .Int(k.responded_ms)
                              .Int(k.opened_ms)
                              .Int(k.due_ms)
                              .Int(k.updated_ms)
                              .OptInt(k.escalated_ms)
                              .OptInt(k.resolved_ms)
                              .Int(k.revision),
                          "open case");
  if (!r.ok()) return r.status();
  return r->Affected() == 1;
}

Status InsertEvent(Conn& c, const CaseEvent& e) {
  Result<Rows> ins = c.Exec(
      "INSERT INTO webhook_events(event_id, type, case_id, body, created_ms) "
      "VALUES ($1, $2, $3, $4, $5)",
      Params().Text(e.event_id).Text(e.type).Text(e.case_id).Bytes(e.body).Int(e.created_ms),
      "queue webhook event");
  if (!ins.ok()) return ins.status();
  Result<Rows> fan = c.Exec(
      "INSERT INTO webhook_deliveries(event_id, webhook_id, state, attempts, next_ms, "
      "last_status, last_error) SELECT $1, webhook_id, 'pending', 0, $2, 0, '' FROM webhooks",
      Params().Text(e.event_id).Int(e.created_ms), "queue webhook deliveries");
  return fan.ok() ? Status::Ok() : fan.status();
}

constexpr char kDeliverySelect[] =
    "SELECT d.event_id, d.webhook_id, w.url, e.type, e.body, d.state, d.attempts, d.next_ms, "
    "d.last_status, d.last_error, d.delivered_ms, e.created_ms FROM webhook_deliveries d "
    "JOIN webhooks w ON w.webhook_id = d.webhook_id "
    "JOIN webhook_events e ON e.event_id = d.event_id ";

std::vector<DeliveryRow> ReadDeliveries(const Rows& r) {
  std::vector<DeliveryRow> out;
  for (int i = 0; i < r.size(); ++i) {
    DeliveryRow d;
    d.event_id = r.Str(i, 0);
    d.webhook_id = r.Str(i, 1);
    d.url = r.Str(i, 2);
    d.type = r.Str(i, 3);
    d.body = r.Str(i, 4);
    d.state = r.Str(i, 5);
    d.attempts = static_cast<std::uint32_t>(r.Int(i, 6));
    d.next_ms = r.Int(i, 7);
    d.last_status = static_cast<std::int32_t>(r.Int(i, 8));
    d.last_error = r.Str(i, 9);
    if (!r.IsNull(i, 10)) d.delivered_ms = r.Int(i, 10);
    d.created_ms = r.Int(i, 11);
    out.push_back(std::move(d));
  }
  return out;
}

// A projection's view of the transaction ProjectPending holds. A key read and found absent is
// inserted without ON CONFLICT: if another server inserted it meanwhile, the unique violation
// makes Transact run the whole projection again, and it then reads the other server's value
// (an upsert would silently overwrite it).
class PgDerivedTxn : public DerivedTxn {
 public:
  PgDerivedTxn(Conn& c, const std::string& projection) : c_(c), projection_(projection) {}

  Result<std::optional<std::string>> GetValue(const std::string& key) override {
    Result<Rows> r =
        c_.Exec("SELECT value FROM derived_values WHERE projection = $1 AND key = $2 FOR UPDATE",
                Params().Text(projection_).Bytes(key), "read " + projection_ + " state");
    if (!r.ok()) return r.status();
    if (r->size() == 0) {
      absent_.insert(key);
      return std::optional<std::string>();
    }
    return std::optional<std::string>(r->Str(0, 0));
  }
  Status PutValue(const std::string& key, const std::string& value) override {
    const char* sql = absent_.erase(key) ? "INSERT INTO derived_values(projection, key, value) "
                                           "VALUES ($1, $2, $3)"
                                         : "INSERT INTO derived_values(projection, key, value) "
                                           "VALUES ($1, $2, $3) ON CONFLICT(projection, key) "
                                           "DO UPDATE SET value = excluded.value";
    Result<Rows> r = c_.Exec(sql, Params().Text(projection_).Bytes(key).Bytes(value),
                             "write " + projection_ + " state");
    return r.ok() ? Status::Ok() : r.status();
  }
  Result<std::string> DeviceLocation(const std::string& device_id) override {
    if (!IsStorableText(device_id)) return std::string();
    Result<Rows> r = c_.Exec("SELECT location FROM devices WHERE device_id = $1",
                             Params().Text(device_id), "read device location");
    if (!r.ok()) return r.status();
    return r->size() == 0 ? std::string() : r->Str(0, 0);
  }
  Result<bool> InsertCase(const CaseRow& c) override { return InsertCaseRow(c_, c); }
  Status EnqueueEvent(const CaseEvent& event) override { return InsertEvent(c_, event); }

 private:
  Conn& c_;
  const std::string& projection_;
  std::set<std::string> absent_;
};

class PostgresStore : public ServerStore {
 public:
  explicit PostgresStore(const std::string& url) : url_(url), pool_(url) {}

  Status Init() {
    Result<Pool::Lease> lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    Conn& c = **lease;
    Status s = c.Run("BEGIN", "schema migration");
    if (!s.ok()) return s;
    s = Migrate(c);
    if (s.ok()) s = c.Run("COMMIT", "schema migration");
    if (!s.ok()) {
      if (c.in_transaction()) (void)c.Run("ROLLBACK", "schema migration");
      return s.WithContext("PostgreSQL at " + RedactUrl(url_));
    }
    return Status::Ok();
  }

  std::string Kind() const override { return "postgresql"; }

  Status Ping() override {
    Result<Rows> r = ExecOne("SELECT 1", Params(), "ping");
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<std::optional<std::string>> GetSetting(const std::string& key) override {
    return Query<std::optional<std::string>>("SELECT value FROM settings WHERE key = $1",
                                             Params().Text(key), "read setting",
                                             [](const Rows& r) -> std::optional<std::string> {
                                               if (r.size() == 0) return std::nullopt;
                                               return r.Str(0, 0);
                                             });
  }

  Status PutSetting(const std::string& key, const std::string& value) override {
    return Command(
        "INSERT INTO settings(key, value) VALUES ($1, $2) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        Params().Text(key).Bytes(value), "write setting");
  }

  Status AddSession(const Hash256& token_hash, std::int64_t expires_ms,
                    const std::string& user) override {
    return Command("INSERT INTO sessions(token_hash, expires_ms, user_name) VALUES ($1, $2, $3)",
                   Params().Bytes(token_hash).Int(expires_ms).Text(user), "add session");
  }

  Status EndSessionsBut(const std::string& user, const Hash256& keep) override {
    return Command("DELETE FROM sessions WHERE user_name = $1 AND token_hash <> $2",
                   Params().Text(user).Bytes(keep), "end sessions");
  }

  Status EndSession(const Hash256& token_hash) override {
    return Command("DELETE FROM sessions WHERE token_hash = $1", Params().Bytes(token_hash),
                   "end session");
  }

  Result<std::optional<std::string>> FindSession(const Hash256& token_hash,
                                                 std::int64_t now_ms) override {
    return Query<std::optional<std::string>>(
        "SELECT user_name FROM sessions WHERE token_hash = $1 AND expires_ms > $2",
        Params().Bytes(token_hash).Int(now_ms), "find session",
        [](const Rows& r) -> std::optional<std::string> {
          if (r.size() == 0) return std::nullopt;
          return r.Str(0, 0);
        });
  }

  Status AddEnrollCode(const EnrollCodeRow& c) override {
    return Command(
        "INSERT INTO enroll_codes(code_hash, location, channel, expires_ms) "
        "VALUES ($1, $2, $3, $4)",
        Params().Bytes(c.code_hash).Text(c.location).Text(c.channel).Int(c.expires_ms),
        "add enrollment code");
  }

  Result<DeviceRow> Enroll(const Hash256& code_hash, std::int64_t now_ms,
                           const std::function<DeviceRow(const EnrollCodeRow&)>& make) override {
    return Transact<DeviceRow>("enroll", [&](Conn& c, bool& commit) -> Result<DeviceRow> {
      Result<Rows> q = c.Exec(
          "SELECT location, channel, expires_ms, used_ms FROM enroll_codes "
          "WHERE code_hash = $1 FOR UPDATE",
          Params().Bytes(code_hash), "enroll");
      if (!q.ok()) return q.status();
      if (q->size() == 0) {
        return Status::Unauthenticated(
            "enrollment code is unknown: check it, or ask an admin for a new one");
      }
      if (!q->IsNull(0, 3)) {
        return Status::Unauthenticated(
            "enrollment code was already used: ask an admin for a new one");
      }
      EnrollCodeRow code{code_hash, q->Str(0, 0), q->Str(0, 1), q->Int(0, 2)};
      if (code.expires_ms <= now_ms) {
        return Status::Unauthenticated("enrollment code has expired: ask an admin for a new one");
      }
      Result<Rows> used = c.Exec("UPDATE enroll_codes SET used_ms = $1 WHERE code_hash = $2",
                                 Params().Int(now_ms).Bytes(code_hash), "enroll");
      if (!used.ok()) return used.status();
      DeviceRow device = make(code);
      Status s = InsertDevice(c, device);
      if (!s.ok()) return s;
      commit = true;
      return device;
    });
  }

  Status AddDevice(const DeviceRow& d) override {
    return WithConn([&](Conn& c) { return InsertDevice(c, d); });
  }

  Result<std::optional<DeviceRow>> FindDevice(const std::string& device_id) override {
    if (!IsStorableText(device_id)) return std::optional<DeviceRow>();
    return Query<std::optional<DeviceRow>>(
        "SELECT device_id, location, channel, public_key, web, certificate, enrolled_ms, "
        "revoked_ms, head_seq, head_hash FROM devices WHERE device_id = $1",
        Params().Text(device_id), "find device", [](const Rows& r) -> std::optional<DeviceRow> {
          if (r.size() == 0) return std::nullopt;
          return ReadDevice(r, 0);
        });
  }

  Result<std::vector<DeviceRow>> ListDevices(const std::string& after, std::uint32_t limit,
                                             bool revoked_only) override {
    if (!IsStorableText(after)) return std::vector<DeviceRow>();
    return Query<std::vector<DeviceRow>>(
        "SELECT device_id, location, channel, public_key, web, certificate, enrolled_ms, "
        "revoked_ms, head_seq, head_hash FROM devices WHERE device_id > $1 "
        "AND ($2 = 0 OR revoked_ms IS NOT NULL) ORDER BY device_id LIMIT $3",
        Params().Text(after).Int(revoked_only ? 1 : 0).Int(static_cast<std::int64_t>(limit)),
        "list devices", [](const Rows& r) {
          std::vector<DeviceRow> out;
          for (int i = 0; i < r.size(); ++i) out.push_back(ReadDevice(r, i));
          return out;
        });
  }

  Status RevokeDevice(const std::string& device_id, std::int64_t now_ms) override {
    if (!IsStorableText(device_id)) return Status::NotFound("no device '" + device_id + "'");
    Result<std::uint64_t> changed = Query<std::uint64_t>(
        "UPDATE devices SET revoked_ms = COALESCE(revoked_ms, $1) WHERE device_id = $2",
        Params().Int(now_ms).Text(device_id), "revoke device",
        [](const Rows& r) { return r.Affected(); });
    if (!changed.ok()) return changed.status();
    if (*changed == 0) return Status::NotFound("no device '" + device_id + "'");
    return Status::Ok();
  }

  Result<AppendResult> AppendRecords(const std::string& device_id,
                                     const std::vector<VerifiedRecord>& records,
                                     std::int64_t now_ms) override {
    return Transact<AppendResult>("store records", [&](Conn& c, bool& commit) {
      Result<AppendResult> result = AppendIn(c, device_id, records, now_ms);
      commit = result.ok() && result->verdict == AppendResult::Verdict::kStored;
      return result;
    });
  }

  Result<InboundAppend> AppendInbound(const InboundMessage& message, const std::string& device_id,
                                      const VerifiedRecord& record, std::int64_t now_ms) override {
    if (!IsStorableText(message.channel) || !IsStorableText(message.message_id)) {
      return Status::InvalidArgument("message id: not storable text");
    }
    return Transact<InboundAppend>(
        "store inbound message", [&](Conn& c, bool& commit) -> Result<InboundAppend> {
          InboundAppend out;
          // The chain head's row lock first, as AppendRecords takes it: then two servers given
          // the same message wait for each other here, and the second sees the first's row.
          Result<Rows> head = c.Exec("SELECT 1 FROM devices WHERE device_id = $1 FOR UPDATE",
                                     Params().Text(device_id), "read chain head");
          if (!head.ok()) return head.status();
          Result<Rows> known = c.Exec(
              "SELECT seq, received_ms FROM inbound_messages "
              "WHERE channel = $1 AND message_id = $2",
              Params().Text(message.channel).Text(message.message_id), "read inbound message");
          if (!known.ok()) return known.status();
          if (known->size() > 0) {
            out.seq = static_cast<std::uint64_t>(known->Int(0, 0));
            out.first_ms = known->Int(0, 1);
            if (message.window_ms == 0 || now_ms - out.first_ms < message.window_ms) {
              out.duplicate = true;
              commit = false;
              return out;
            }
          }
          Result<AppendResult> appended = AppendIn(c, device_id, {record}, now_ms);
          if (!appended.ok()) return appended.status();
          out.append = *appended;
          commit = appended->verdict == AppendResult::Verdict::kStored;
          if (!commit) return out;
          out.seq = record.seq;
          out.first_ms = now_ms;
          Result<Rows> ins = c.Exec(
              "INSERT INTO inbound_messages(channel, message_id, device_id, seq, received_ms) "
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT(channel, message_id) DO UPDATE SET "
              "device_id = EXCLUDED.device_id, seq = EXCLUDED.seq, "
              "received_ms = EXCLUDED.received_ms",
              Params()
                  .Text(message.channel)
                  .Text(message.message_id)
                  .Text(device_id)
                  .Int(static_cast<std::int64_t>(record.seq))
                  .Int(now_ms),
              "remember inbound message");
          if (!ins.ok()) return ins.status();
          return out;
        });
  }

  Result<std::int64_t> StoredTime(const std::string& device_id, std::uint64_t seq) override {
    Result<std::optional<std::int64_t>> t = Query<std::optional<std::int64_t>>(
        "SELECT stored_ms FROM records WHERE device_id = $1 AND seq = $2",
        Params().Text(device_id).Int(static_cast<std::int64_t>(seq)), "stored time",
        [](const Rows& r) -> std::optional<std::int64_t> {
          if (r.size() == 0) return std::nullopt;
          return r.Int(0, 0);
        });
    if (!t.ok()) return t.status();
    if (!*t) return Status::NotFound("record not stored");
    return **t;
  }

  Status ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) override {
    // Page through by key so that no connection is held while the caller writes its output.
    std::string device;
    std::int64_t seq = -1;
    for (;;) {
      Result<std::vector<StoredRecord>> page = Query<std::vector<StoredRecord>>(
          "SELECT r.device_id, r.seq, r.envelope, r.stored_ms, COALESCE(d.location, ''), "
          "COALESCE(d.channel, '') FROM records r LEFT JOIN devices d ON d.device_id = r.device_id "
          "WHERE (r.device_id, r.seq) > ($1, $2) ORDER BY r.device_id, r.seq LIMIT 1000",
          Params().Text(device).Int(seq), "read records", [](const Rows& r) {
            std::vector<StoredRecord> out;
            for (int i = 0; i < r.size(); ++i) {
              out.push_back({r.Str(i, 0), static_cast<std::uint64_t>(r.Int(i, 1)), r.Str(i, 2),
                             r.Int(i, 3), r.Str(i, 4), r.Str(i, 5)});
            }
            return out;
          });
      if (!page.ok()) return page.status();
      if (page->empty()) return Status::Ok();
      for (const StoredRecord& r : *page) {
        Status s = visit(r);
        if (!s.ok()) return s;
      }
      device = page->back().device_id;
      seq = static_cast<std::int64_t>(page->back().seq);
    }
  }

  Result<std::uint64_t> CountRecords() override {
    return Query<std::uint64_t>(
        "SELECT COUNT(*) FROM records", Params(), "count records",
        [](const Rows& r) { return static_cast<std::uint64_t>(r.Int(0, 0)); });
  }

  Status Quarantine(const QuarantineRow& row) override {
    return Command(
        "INSERT INTO quarantine(device_id, seq, reason, envelope, received_ms) "
        "VALUES ($1, $2, $3, $4, $5)",
        Params()
            .Text(row.device_id)
            .Int(static_cast<std::int64_t>(row.seq))
            .Text(row.reason)
            .Bytes(row.envelope)
            .Int(row.received_ms),
        "quarantine");
  }

  Result<std::vector<QuarantineRow>> ListQuarantine(std::uint32_t limit) override {
    return Query<std::vector<QuarantineRow>>(
        "SELECT device_id, seq, reason, envelope, received_ms FROM quarantine "
        "ORDER BY id DESC LIMIT $1",
        Params().Int(limit), "list quarantine", [](const Rows& r) {
          std::vector<QuarantineRow> out;
          for (int i = 0; i < r.size(); ++i) {
            out.push_back({r.Str(i, 0), static_cast<std::uint64_t>(r.Int(i, 1)), r.Str(i, 2),
                           r.Str(i, 3), r.Int(i, 4)});
          }
          return out;
        });
  }

  Result<std::pair<std::uint64_t, std::uint64_t>> QuarantineBytes(
      const std::string& device_id) override {
    return Query<std::pair<std::uint64_t, std::uint64_t>>(
        "SELECT COALESCE(SUM(octet_length(envelope)) FILTER (WHERE device_id = $1), 0), "
        "COALESCE(SUM(octet_length(envelope)), 0) FROM quarantine",
        Params().Text(device_id), "quarantine size", [](const Rows& r) {
          return std::pair<std::uint64_t, std::uint64_t>(static_cast<std::uint64_t>(r.Int(0, 0)),
                                                         static_cast<std::uint64_t>(r.Int(0, 1)));
        });
  }

  Status RegisterProjection(const std::string& name) override {
    Result<bool> known =
        Query<bool>("SELECT 1 FROM projections WHERE name = $1", Params().Text(name),
                    "register projection " + name, [](const Rows& r) { return r.size() > 0; });
    if (!known.ok() || *known) return known.status();
    Result<bool> done = Transact<bool>("register projection " + name, [&](Conn& c, bool& commit) {
      // SHARE mode waits for appends in flight and holds new ones until the queue is filled, so
      // no record is stored between the fill and the registration becoming visible.
      Status s = c.Run("LOCK TABLE records IN SHARE MODE", "register projection " + name);
      if (!s.ok()) return Result<bool>(s);
      Result<Rows> added =
          c.Exec("INSERT INTO projections(name) VALUES ($1) ON CONFLICT(name) DO NOTHING",
                 Params().Text(name), "register projection " + name);
      if (!added.ok()) return Result<bool>(added.status());
      if (added->Affected() == 1) {
        Result<Rows> fill = c.Exec(
            "INSERT INTO projection_queue(projection, device_id, seq) "
            "SELECT $1, device_id, seq FROM records",
            Params().Text(name), "register projection " + name);
        if (!fill.ok()) return Result<bool>(fill.status());
      }
      commit = true;
      return Result<bool>(true);
    });
    return done.ok() ? Status::Ok() : done.status();
  }

  Result<std::uint32_t> ProjectPending(const std::string& name, std::uint32_t limit,
                                       const ProjectFn& project, const DigestFn& digest) override {
    const std::string what = "project records (" + name + ")";
    return Transact<std::uint32_t>(what, [&](Conn& c, bool& commit) -> Result<std::uint32_t> {
      Result<Rows> q = c.Exec(
          "SELECT q.device_id, q.seq, r.envelope, r.stored_ms, COALESCE(d.location, ''), "
          "COALESCE(d.channel, '') FROM projection_queue q "
          "JOIN records r ON r.device_id = q.device_id AND r.seq = q.seq "
          "LEFT JOIN devices d ON d.device_id = q.device_id "
          "WHERE q.projection = $1 ORDER BY q.device_id, q.seq LIMIT $2 "
          "FOR UPDATE OF q SKIP LOCKED",
          Params().Text(name).Int(limit), what);
      if (!q.ok()) return q.status();
      std::vector<StoredRecord> records;
      for (int i = 0; i < q->size(); ++i) {
        records.push_back({q->Str(i, 0), static_cast<std::uint64_t>(q->Int(i, 1)), q->Str(i, 2),
                           q->Int(i, 3), q->Str(i, 4), q->Str(i, 5)});
      }
      if (records.empty()) {
        commit = true;
        return std::uint32_t{0};
      }
      // Inside the transaction: it holds row locks only, so pushes go on meanwhile.
      if (digest) {
        if (Status s = digest(records); !s.ok()) return s;
      }
      PgDerivedTxn txn(c, name);
      Status s = project(records, txn);
      if (!s.ok()) return s;
      // The batch's keys as two arrays joined to the queue: one index probe per record. A list of
      // (device_id, seq) IN (...) pairs made the planner scan the whole queue (dead rows
      // included) for every batch, which was most of the projections' time on PostgreSQL.
      std::string devices = "{", seqs = "{";
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0) {
          devices += ',';
          seqs += ',';
        }
        devices += '"';
        for (char ch : records[i].device_id) {
          if (ch == '"' || ch == '\\') devices += '\\';
          devices += ch;
        }
        devices += '"';
        seqs += std::to_string(records[i].seq);
      }
      devices += '}';
      seqs += '}';
      Result<Rows> del = c.Exec(
          "DELETE FROM projection_queue q "
          "USING unnest($2::text[], $3::bigint[]) AS d(device_id, seq) "
          "WHERE q.projection = $1 AND q.device_id = d.device_id AND q.seq = d.seq",
          Params().Text(name).Text(devices).Text(seqs), what);
      if (!del.ok()) return del.status();
      commit = true;
      return static_cast<std::uint32_t>(records.size());
    });
  }

  Result<std::uint64_t> CountPending(const std::string& name) override {
    return Query<std::uint64_t>(
        "SELECT COUNT(*) FROM projection_queue WHERE projection = $1", Params().Text(name),
        "count the " + name + " queue",
        [](const Rows& r) { return static_cast<std::uint64_t>(r.Int(0, 0)); });
  }

  Status ForEachValue(const std::string& name, const std::string& prefix,
                      const std::function<Status(const std::string& key, const std::string& value)>&
                          visit) override {
    // Page through by key so that no connection is held while the caller works: the first page
    // from `prefix` itself (>=), the next ones after the last key seen (>), up to PrefixEnd.
    const std::string end = PrefixEnd(prefix).value_or(std::string());
    std::string from = prefix;
    bool first = true;
    for (;;) {
      std::string sql = "SELECT key, value FROM derived_values WHERE projection = $1 AND key ";
      sql += first ? ">= $2" : "> $2";
      Params params;
      params.Text(name).Bytes(from);
      if (!end.empty()) {
        sql += " AND key < $3";
        params.Bytes(end);
      }
      sql += " ORDER BY key LIMIT 1000";
      Result<std::vector<std::pair<std::string, std::string>>> page =
          Query<std::vector<std::pair<std::string, std::string>>>(
              sql.c_str(), params, "read " + name + " state", [](const Rows& r) {
                std::vector<std::pair<std::string, std::string>> out;
                for (int i = 0; i < r.size(); ++i) out.emplace_back(r.Str(i, 0), r.Str(i, 1));
                return out;
              });
      if (!page.ok()) return page.status();
      if (page->empty()) return Status::Ok();
      for (const auto& [key, value] : *page) {
        Status s = visit(key, value);
        if (!s.ok()) return s;
      }
      from = page->back().first;
      first = false;
    }
  }

  Status PublishSurvey(const SurveyRow& s) override {
    return Command(
        "INSERT INTO surveys(survey_id, version, revision, definition, bundle, "
        "locations, published_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT(survey_id, version) DO NOTHING",
        Params()
            .Text(s.survey_id)
            .Bytes(s.version)
            .Int(s.revision)
            .Bytes(s.definition)
            .Bytes(s.bundle)
            .Text(JoinLocations(s.locations))
            .Int(s.published_ms),
        "publish survey");
  }

  Result<std::vector<SurveyRow>> ListSurveys() override {
    return Query<std::vector<SurveyRow>>(
        "SELECT survey_id, version, revision, definition, bundle, locations, published_ms "
        "FROM surveys ORDER BY published_ms, id",
        Params(), "list surveys", [](const Rows& r) {
          std::vector<SurveyRow> out;
          for (int i = 0; i < r.size(); ++i) {
            SurveyRow s;
            s.survey_id = r.Str(i, 0);
            s.version = r.Fixed<32>(i, 1);
            s.revision = static_cast<std::uint32_t>(r.Int(i, 2));
            s.definition = r.Str(i, 3);
            s.bundle = r.Str(i, 4);
            s.locations = SplitLocations(r.Str(i, 5));
            s.published_ms = r.Int(i, 6);
            out.push_back(std::move(s));
          }
          return out;
        });
  }

  // Closed loop.
  Status AddUser(const UserRow& u) override {
    Result<Rows> r = ExecOne(
        "INSERT INTO users(name, role, locations, password_hash, created_ms) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT(name) DO NOTHING",
        Params()
            .Text(u.name)
            .Text(u.role)
            .Text(JoinLocations(u.locations))
            .Text(u.password_hash)
            .Int(u.created_ms),
        "add user");
    if (!r.ok()) return r.status();
    if (r->Affected() == 0) return Status::Conflict("a user named '" + u.name + "' exists");
    return Status::Ok();
  }

  Status UpdateUser(const UserRow& u, bool end_sessions) override {
    if (!IsStorableText(u.name)) return Status::NotFound("no user '" + u.name + "'");
    Result<bool> done = Transact<bool>("update user", [&](Conn& c, bool& commit) -> Result<bool> {
      Result<Rows> r = c.Exec(
          "UPDATE users SET role = $1, locations = $2, password_hash = $3 WHERE name = $4",
          Params().Text(u.role).Text(JoinLocations(u.locations)).Text(u.password_hash).Text(u.name),
          "update user");
      if (!r.ok()) return r.status();
      if (r->Affected() == 0) return Status::NotFound("no user '" + u.name + "'");
      if (end_sessions) {
        if (Status s = EndSessions(c, u.name); !s.ok()) return s;
      }
      commit = true;
      return true;
    });
    return done.ok() ? Status::Ok() : done.status();
  }

  Status DeleteUser(const std::string& name) override {
    if (!IsStorableText(name)) return Status::NotFound("no user '" + name + "'");
    Result<bool> done = Transact<bool>("delete user", [&](Conn& c, bool& commit) -> Result<bool> {
      Result<Rows> r =
          c.Exec("DELETE FROM users WHERE name = $1", Params().Text(name), "delete user");
      if (!r.ok()) return r.status();
      if (r->Affected() == 0) return Status::NotFound("no user '" + name + "'");
      if (Status s = EndSessions(c, name); !s.ok()) return s;
      commit = true;
      return true;
    });
    return done.ok() ? Status::Ok() : done.status();
  }

  Result<std::optional<UserRow>> FindUser(const std::string& name) override {
    if (!IsStorableText(name)) return std::optional<UserRow>();
    return Query<std::optional<UserRow>>(
        "SELECT name, role, locations, password_hash, created_ms FROM users WHERE name = $1",
        Params().Text(name), "find user", [](const Rows& r) -> std::optional<UserRow> {
          if (r.size() == 0) return std::nullopt;
          return ReadUser(r, 0);
        });
  }

  Result<std::vector<UserRow>> ListUsers() override {
    return Query<std::vector<UserRow>>(
        "SELECT name, role, locations, password_hash, created_ms FROM users ORDER BY name",
        Params(), "list users", [](const Rows& r) {
          std::vector<UserRow> out;
          for (int i = 0; i < r.size(); ++i) out.push_back(ReadUser(r, i));
          return out;
        });
  }

  Result<std::vector<CaseRow>> ListCases(const CaseFilter& filter) override {
    std::vector<SqlValue> values;
    std::optional<std::string> where = CaseFilterSql(
        filter, [](int i) { return "$" + std::to_string(i); }, &values);
    if (!where) return std::vector<CaseRow>();
    Params params;
    for (const SqlValue& v : values) {
      if (const std::string* text = std::get_if<std::string>(&v)) {
        if (!IsStorableText(*text)) return std::vector<CaseRow>();  // matches nothing
        params.Text(*text);
      } else {
        params.Int(std::get<std::int64_t>(v));
      }
    }
    return Query<std::vector<CaseRow>>(
        (std::string("SELECT ") + kCaseColumns + " FROM cases" + *where).c_str(), params,
        "list cases", [](const Rows& r) {
          std::vector<CaseRow> out;
          for (int i = 0; i < r.size(); ++i) out.push_back(ReadCase(r, i));
          return out;
        });
  }

  Result<std::optional<CaseRow>> FindCase(const std::string& case_id) override {
    if (!IsStorableText(case_id)) return std::optional<CaseRow>();
    return Transact<std::optional<CaseRow>>(
        "read case", [&](Conn& c, bool& commit) -> Result<std::optional<CaseRow>> {
          Result<Rows> r = c.Exec(
              (std::string("SELECT ") + kCaseColumns + " FROM cases WHERE case_id = $1").c_str(),
              Params().Text(case_id), "read case");
          if (!r.ok()) return r.status();
          commit = true;
          if (r->size() == 0) return std::optional<CaseRow>();
          CaseRow row = ReadCase(*r, 0);
          Result<Rows> notes = c.Exec(
              "SELECT revision, author, time_ms, text FROM case_notes WHERE case_id = $1 "
              "ORDER BY revision",
              Params().Text(case_id), "read case notes");
          if (!notes.ok()) return notes.status();
          for (int i = 0; i < notes->size(); ++i) {
            row.notes.push_back({static_cast<std::uint32_t>(notes->Int(i, 0)), notes->Str(i, 1),
                                 notes->Int(i, 2), notes->Str(i, 3)});
          }
          return std::optional<CaseRow>(std::move(row));
        });
  }

  Result<CaseRow> ChangeCase(const std::string& case_id,
                             const std::function<Result<CaseChange>(CaseRow&)>& change) override {
    if (!IsStorableText(case_id)) return Status::NotFound("no case '" + case_id + "'");
    return Transact<CaseRow>("change case", [&](Conn& c, bool& commit) -> Result<CaseRow> {
      // The row lock serialises changes to one case across threads and server instances.
      Result<Rows> r = c.Exec(
          (std::string("SELECT ") + kCaseColumns + " FROM cases WHERE case_id = $1 FOR UPDATE")
              .c_str(),
          Params().Text(case_id), "change case");
      if (!r.ok()) return r.status();
      if (r->size() == 0) return Status::NotFound("no case '" + case_id + "'");
      CaseRow row = ReadCase(*r, 0);
      Result<CaseChange> done = change(row);
      if (!done.ok()) return done.status();
      commit = true;
      if (!done->changed) return row;
      Result<Rows> upd = c.Exec(
          "UPDATE cases SET state = $1, category = $2, assignee = $3, updated_ms = $4, "
          "escalated_ms = $5, resolved_ms = $6, revision = $7 WHERE case_id = $8",
          Params()
              .Text(row.state)
              .Text(row.category)
              .Text(row.assignee)
              .Int(row.updated_ms)
              .OptInt(row.escalated_ms)
              .OptInt(row.resolved_ms)
              .Int(row.revision)
              .Text(case_id),
          "change case");
      if (!upd.ok()) return upd.status();
      if (done->note) {
        Result<Rows> note = c.Exec(
            "INSERT INTO case_notes(case_id, revision, author, time_ms, text) "
            "VALUES ($1, $2, $3, $4, $5)",
            Params()
                .Text(case_id)
                .Int(done->note->revision)
                .Text(done->note->author)
                .Int(done->note->time_ms)
                .Text(done->note->text),
            "add case note");
        if (!note.ok()) return note.status();
      }
      for (const CaseEvent& e : done->events) {
        if (Status s = InsertEvent(c, e); !s.ok()) return s;
      }
      return row;
    });
  }

  Status AddWebhook(const WebhookRow& w) override {
    return Command("INSERT INTO webhooks(webhook_id, url, created_ms) VALUES ($1, $2, $3)",
                   Params().Text(w.webhook_id).Text(w.url).Int(w.created_ms), "add webhook");
  }

  Result<std::vector<WebhookRow>> ListWebhooks() override {
    return Query<std::vector<WebhookRow>>(
        "SELECT webhook_id, url, created_ms FROM webhooks ORDER BY created_ms", Params(),
        "list webhooks", [](const Rows& r) {
          std::vector<WebhookRow> out;
          for (int i = 0; i < r.size(); ++i) {
            out.push_back({r.Str(i, 0), r.Str(i, 1), r.Int(i, 2)});
          }
          return out;
        });
  }

  Status DeleteWebhook(const std::string& webhook_id) override {
    if (!IsStorableText(webhook_id)) return Status::NotFound("no webhook '" + webhook_id + "'");
    Result<bool> done =
        Transact<bool>("delete webhook", [&](Conn& c, bool& commit) -> Result<bool> {
          Result<Rows> del = c.Exec("DELETE FROM webhook_deliveries WHERE webhook_id = $1",
                                    Params().Text(webhook_id), "delete webhook");
          if (!del.ok()) return del.status();
          Result<Rows> r = c.Exec("DELETE FROM webhooks WHERE webhook_id = $1",
                                  Params().Text(webhook_id), "delete webhook");
          if (!r.ok()) return r.status();
          if (r->Affected() == 0) return Status::NotFound("no webhook '" + webhook_id + "'");
          commit = true;
          return true;
        });
    return done.ok() ? Status::Ok() : done.status();
  }

  Result<std::vector<DeliveryRow>> ClaimDeliveries(std::int64_t now_ms, std::int64_t lease_until_ms,
                                                   std::uint32_t limit) override {
    const std::string what = "claim webhook deliveries";
    return Transact<std::vector<DeliveryRow>>(
        what, [&](Conn& c, bool& commit) -> Result<std::vector<DeliveryRow>> {
          // SKIP LOCKED: deliveries another server is claiming right now are left to it.
          Result<Rows> r = c.Exec((std::string(kDeliverySelect) +
                                   "WHERE d.state = 'pending' AND d.next_ms <= $1 "
                                   "ORDER BY d.next_ms LIMIT $2 FOR UPDATE OF d SKIP LOCKED")
                                      .c_str(),
                                  Params().Int(now_ms).Int(limit), what);
          if (!r.ok()) return r.status();
          std::vector<DeliveryRow> out = ReadDeliveries(*r);
          for (const DeliveryRow& d : out) {
            Result<Rows> lease = c.Exec(
                "UPDATE webhook_deliveries SET next_ms = $1 WHERE event_id = $2 AND "
                "webhook_id = $3",
                Params().Int(lease_until_ms).Text(d.event_id).Text(d.webhook_id), what);
            if (!lease.ok()) return lease.status();
          }
          commit = true;
          return out;
        });
  }

  Status FinishDelivery(const DeliveryRow& d) override {
    return Command(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_ms = $3, "
        "last_status = $4, last_error = $5, delivered_ms = $6 "
        "WHERE event_id = $7 AND webhook_id = $8",
        Params()
            .Text(d.state)
            .Int(d.attempts)
            .Int(d.next_ms)
            .Int(d.last_status)
            .Text(d.last_error)
            .OptInt(d.delivered_ms)
            .Text(d.event_id)
            .Text(d.webhook_id),
        "record webhook delivery");
  }

  Result<std::vector<DeliveryRow>> ListDeliveries(const std::string& state,
                                                  std::uint32_t limit) override {
    return Query<std::vector<DeliveryRow>>(
        (std::string(kDeliverySelect) +
         "WHERE ($1 = '' OR d.state = $1) ORDER BY e.created_ms DESC, d.event_id LIMIT $2")
            .c_str(),
        Params().Text(state).Int(limit), "list webhook deliveries", ReadDeliveries);
  }

 private:
  static Status EndSessions(Conn& c, const std::string& user) {
    Result<Rows> r =
        c.Exec("DELETE FROM sessions WHERE user_name = $1", Params().Text(user), "end sessions");
    return r.ok() ? Status::Ok() : r.status();
  }

  static UserRow ReadUser(const Rows& r, int i) {
    return UserRow{r.Str(i, 0), r.Str(i, 1), SplitLocations(r.Str(i, 2)), r.Str(i, 3), r.Int(i, 4)};
  }

  // Runs `fn(Conn&)` -> Status on a pooled connection.
  template <typename F>
  Status WithConn(F&& fn) {
    Result<Pool::Lease> lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    return fn(**lease);
  }

  // One statement on a pooled connection. A SELECT whose connection broke (the server closed it
  // between the health check and the query) runs once more on a fresh one; a write does not, as
  // it may have been applied.
  Result<Rows> ExecOne(const char* sql, const Params& p, const std::string& what) {
    const bool read_only = std::string_view(sql).starts_with("SELECT ");
    for (int attempt = 1;; ++attempt) {
      Result<Pool::Lease> lease = pool_.Acquire();
      if (!lease.ok()) return lease.status();
      Result<Rows> r = (*lease)->Exec(sql, p, what);
      if (r.ok() || !read_only || attempt == 2 || !(*lease)->broken()) return r;
    }
  }

  Status Command(const char* sql, const Params& p, const std::string& what) {
    Result<Rows> r = ExecOne(sql, p, what);
    return r.ok() ? Status::Ok() : r.status();
  }

  // One statement; `read` turns its rows into the answer.
  template <typename T, typename F>
  Result<T> Query(const char* sql, const Params& p, const std::string& what, F&& read) {
    Result<Rows> r = ExecOne(sql, p, what);
    if (!r.ok()) return r.status();
    return T(read(*r));
  }

  // Runs `body(Conn&, bool& commit)` between BEGIN and COMMIT (or ROLLBACK unless it sets
  // `commit`). A unique violation, serialisation failure or deadlock rolls back and runs the whole
  // transaction again: it then sees what the other transaction committed.
  template <typename T, typename F>
  Result<T> Transact(const std::string& what, F&& body) {
    for (int attempt = 1;; ++attempt) {
      Result<Pool::Lease> lease = pool_.Acquire();
      if (!lease.ok()) return lease.status();
      Conn& c = **lease;
      Status s = c.Run("BEGIN", what);
      if (!s.ok()) {
        // Nothing was done yet: a connection the server closed under us is simply replaced.
        if (attempt < kMaxAttempts && c.broken()) continue;
        return s;
      }
      bool commit = false;
      Result<T> result = body(c, commit);
      if (result.ok() && commit) {
        s = c.Run("COMMIT", what + " (commit)");
        if (s.ok()) return result;
      } else {
        s = result.ok() ? Status::Ok() : result.status();
      }
      const std::string sqlstate = c.sqlstate();
      if (c.in_transaction()) (void)c.Run("ROLLBACK", what);
      if (s.ok()) return result;  // a refused batch (fork, gap): nothing stored
      if (attempt >= kMaxAttempts || !IsRetryable(sqlstate)) return s;
    }
  }

  Status Migrate(Conn& c) {
    const std::string what = "schema migration";
    Result<Rows> locked =
        c.Exec("SELECT pg_advisory_xact_lock($1)", Params().Int(kSchemaLockKey), what);
    if (!locked.ok()) return locked.status();
    Status s = c.Script("CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)", what);
    if (!s.ok()) return s;
    Result<Rows> current = c.Exec("SELECT version FROM schema_version", what);
    if (!current.ok()) return current.status();
    const std::int64_t version = current->size() > 0 ? current->Int(0, 0) : 0;
    const std::int64_t latest = sizeof(kMigrations) / sizeof(kMigrations[0]);
    if (version > latest) {
      return Status::InvalidArgument("the database has schema version " + std::to_string(version) +
                                     ", newer than this server (" + std::to_string(latest) +
                                     "): run the newer canvass-server");
    }
    if (version == latest) return Status::Ok();
    for (std::int64_t v = version; v < latest; ++v) {
      s = c.Script(kMigrations[v], what);
      if (!s.ok()) return s.WithContext("migration to schema version " + std::to_string(v + 1));
    }
    if (!(s = c.Run("DELETE FROM schema_version", what)).ok()) return s;
    Result<Rows> ins =
        c.Exec("INSERT INTO schema_version(version) VALUES ($1)", Params().Int(latest), what);
    return ins.ok() ? Status::Ok() : ins.status();
  }

  static DeviceRow ReadDevice(const Rows& r, int i) {
    DeviceRow d;
    d.device_id = r.Str(i, 0);
    d.location = r.Str(i, 1);
    d.channel = r.Str(i, 2);
    d.public_key = r.Fixed<32>(i, 3);
    d.web = r.Bool(i, 4);
    d.certificate = r.Str(i, 5);
    d.enrolled_ms = r.Int(i, 6);
    if (!r.IsNull(i, 7)) d.revoked_ms = r.Int(i, 7);
    d.head.seq = static_cast<std::uint64_t>(r.Int(i, 8));
    d.head.hash = r.Fixed<32>(i, 9);
    return d;
  }

  static Status InsertDevice(Conn& c, const DeviceRow& d) {
    Result<Rows> r = c.Exec(
        "INSERT INTO devices(device_id, location, channel, public_key, web, "
        "certificate, enrolled_ms, head_seq, head_hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
        Params()
            .Text(d.device_id)
            .Text(d.location)
            .Text(d.channel)
            .Bytes(d.public_key)
            .Bool(d.web)
            .Bytes(d.certificate)
            .Int(d.enrolled_ms)
            .Bytes(Hash256{}),
        "add device");
    return r.ok() ? Status::Ok() : r.status();
  }

  // The body of AppendRecords, inside its transaction; the same verdicts as SQLite.
  static Result<AppendResult> AppendIn(Conn& c, const std::string& device_id,
                                       const std::vector<VerifiedRecord>& records,
                                       std::int64_t now_ms) {
    AppendResult result;
    if (!IsStorableText(device_id)) return Status::NotFound("no device '" + device_id + "'");
    // The row lock serialises appends to one device across threads and server instances.
    Result<Rows> head = c.Exec(
        "SELECT head_seq, head_hash FROM devices WHERE device_id = $1 "
        "FOR UPDATE",
        Params().Text(device_id), "read chain head");
    if (!head.ok()) return head.status();
    if (head->size() == 0) return Status::NotFound("no device '" + device_id + "'");
    result.head.seq = static_cast<std::uint64_t>(head->Int(0, 0));
    result.head.hash = head->Fixed<32>(0, 1);

    // Hashes already stored for the batch's seqs up to the head, in one round trip.
    std::map<std::uint64_t, Hash256> stored;
    std::uint64_t lo = UINT64_MAX, hi = 0;
    for (const VerifiedRecord& r : records) {
      if (r.seq > result.head.seq) continue;
      lo = std::min(lo, r.seq);
      hi = std::max(hi, r.seq);
    }
    if (lo <= hi) {
      Result<Rows> q = c.Exec(
          "SELECT seq, hash FROM records "
          "WHERE device_id = $1 AND seq BETWEEN $2 AND $3",
          Params()
              .Text(device_id)
              .Int(static_cast<std::int64_t>(lo))
              .Int(static_cast<std::int64_t>(hi)),
          "read stored record");
      if (!q.ok()) return q.status();
      for (int i = 0; i < q->size(); ++i) {
        stored[static_cast<std::uint64_t>(q->Int(i, 0))] = q->Fixed<32>(i, 1);
      }
    }

    auto stored_hash = [&](std::uint64_t seq) -> Result<Hash256> {
      auto it = stored.find(seq);
      if (it == stored.end()) {
        return Status::Corruption("read stored record: device '" + device_id + "' has head seq " +
                                  std::to_string(result.head.seq) + " but no record " +
                                  std::to_string(seq));
      }
      return it->second;
    };
    const std::uint64_t head_before = result.head.seq;
    std::vector<const VerifiedRecord*> fresh;  // not stored yet, in seq order
    Result<AppendResult> classified = ClassifyBatch(result.head, records, stored_hash, &fresh);
    if (!classified.ok() || classified->verdict != AppendResult::Verdict::kStored) {
      return classified;
    }
    result = *classified;
    // The new records go in as one multi-row INSERT: one round trip per batch, not per record
    // (a batch holds at most 500 records, 2,500 parameters, well under PostgreSQL's 65,535).
    if (!fresh.empty()) {
      std::string sql = "INSERT INTO records(device_id, seq, hash, envelope, stored_ms) VALUES ";
      Params params;
      for (std::size_t i = 0; i < fresh.size(); ++i) {
        const std::size_t base = i * 5;
        sql += (i ? ", ($" : "($") + std::to_string(base + 1) + ", $" + std::to_string(base + 2) +
               ", $" + std::to_string(base + 3) + ", $" + std::to_string(base + 4) + ", $" +
               std::to_string(base + 5) + ")";
        params.Text(device_id)
            .Int(static_cast<std::int64_t>(fresh[i]->seq))
            .Bytes(fresh[i]->hash)
            .Bytes(fresh[i]->envelope)
            .Int(now_ms);
      }
      Result<Rows> ins = c.Exec(sql.c_str(), params, "store records");
      if (!ins.ok()) return ins.status();
    }
    if (result.stored > 0) {
      // Every registered projection has the fresh records (head_before, new head] to see.
      Result<Rows> queued = c.Exec(
          "INSERT INTO projection_queue(projection, device_id, seq) "
          "SELECT p.name, r.device_id, r.seq FROM projections p JOIN records r "
          "ON r.device_id = $1 AND r.seq > $2 AND r.seq <= $3",
          Params()
              .Text(device_id)
              .Int(static_cast<std::int64_t>(head_before))
              .Int(static_cast<std::int64_t>(result.head.seq)),
          "queue records for projections");
      if (!queued.ok()) return queued.status();
      Result<Rows> upd = c.Exec(
          "UPDATE devices SET head_seq = $1, head_hash = $2 "
          "WHERE device_id = $3",
          Params()
              .Int(static_cast<std::int64_t>(result.head.seq))
              .Bytes(result.head.hash)
              .Text(device_id),
          "update chain head");
      if (!upd.ok()) return upd.status();
    }
    return result;
  }

  const std::string url_;
  Pool pool_;
};

}  // namespace

Result<std::unique_ptr<ServerStore>> OpenPostgresStore(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string msg = error ? Scrub(OneLine(error), url) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("--db: '" + RedactUrl(url) +
                                   "' is not a valid PostgreSQL URL: " + msg);
  }
  PQconninfoFree(options);
  auto store = std::make_unique<PostgresStore>(url);
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<ServerStore>(std::move(store));
}

}  // namespace canvass::server
