// PostgreSQL backend of SqlDb, for several stateless canvass-server instances sharing one
// database. What is special here:
// - Connections: a pool of up to kMaxConnections libpq connections, opened lazily. A PGconn is
//   used by one thread at a time, so requests really run concurrently (in this process and across
//   instances). A connection found broken, or closed by the server while it sat idle (restart,
//   failover), is reopened when next taken; one left inside a transaction is rolled back or closed.
// - Retries: a unique violation (23505), serialisation failure (40001) or deadlock (40P01) rolls
//   the whole transaction back and runs it again, up to kMaxAttempts times in all. A connection
//   lost before anything was done (at BEGIN, or under a lone SELECT) is replaced and the call
//   runs again; a write that may have reached the server is never replayed.
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
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/sql.h"

namespace canvass::server {
namespace {

constexpr int kMaxConnections = 8;
// A transaction that hits a retryable error runs at most this often in all.
constexpr int kMaxAttempts = 3;
constexpr auto kPoolWait = std::chrono::seconds(30);

// pg_type OIDs of the parameter types sent (always in binary format).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

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

// Bound parameters of one statement, all in binary format with explicit types. Text and bytes
// are sent from the caller's memory; integers are encoded here.
class Params {
 public:
  Params(const SqlArgs& args, std::size_t first, std::size_t n) {
    types_.reserve(n);
    values_.reserve(n);
    lengths_.reserve(n);
    ints_.reserve(n);
    for (std::size_t i = first; i < first + n; ++i) Add(args[i]);
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }

 private:
  void Add(const SqlArg& a) {
    switch (a.type) {
      case SqlArg::Type::kNull:
        Push(0, nullptr, 0);  // the server infers the type
        return;
      case SqlArg::Type::kInt: {
        std::array<char, 8>& b = ints_.emplace_back();
        for (int i = 0; i < 8; ++i) {
          b[static_cast<std::size_t>(i)] =
              static_cast<char>(static_cast<std::uint64_t>(a.number) >> (56 - 8 * i));
        }
        Push(kInt8Oid, b.data(), 8);
        return;
      }
      case SqlArg::Type::kBool:
        Push(kBoolOid, a.number ? "\1" : "\0", 1);
        return;
      case SqlArg::Type::kText:
      case SqlArg::Type::kBlob:
        // Never a null pointer for a value: that would be NULL.
        Push(a.type == SqlArg::Type::kText ? kTextOid : kByteaOid,
             a.bytes.data() ? a.bytes.data() : "", a.bytes.size());
        return;
    }
  }
  void Push(Oid type, const char* value, std::size_t length) {
    types_.push_back(type);
    values_.push_back(value);
    lengths_.push_back(static_cast<int>(length));
  }
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<std::array<char, 8>> ints_;  // reserved: pointers into it stay valid
};

// The rows of one successful statement, in binary format.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  PGresult* get() const { return r_.get(); }
  int size() const { return PQntuples(r_.get()); }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t Affected() const { return std::strtoull(PQcmdTuples(r_.get()), nullptr, 10); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class PgRow : public SqlRow {
 public:
  PgRow(PGresult* r, int row) : r_(r), row_(row) {}
  bool IsNull(int col) const override { return PQgetisnull(r_, row_, col) != 0; }
  // int8, int4, int2 or bool in network byte order.
  std::int64_t Int(int col) const override {
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row_, col));
    const int n = PQgetlength(r_, row_, col);
    std::uint64_t v = n > 1 && (p[0] & 0x80) ? ~std::uint64_t{0} : 0;  // sign-extend
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return static_cast<std::int64_t>(v);
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(r_, row_, col),
                       static_cast<std::size_t>(PQgetlength(r_, row_, col)));
  }

 private:
  PGresult* r_;
  int row_;
};

// `sql` with its `?` placeholders numbered from $first (none stand inside quotes here).
std::string Number(std::string_view sql, int first = 1) {
  std::string out;
  out.reserve(sql.size() + 16);
  bool quoted = false;
  for (char ch : sql) {
    if (ch == '\'') quoted = !quoted;
    if (ch == '?' && !quoted) {
      out += '$';
      out += std::to_string(first++);
    } else {
      out += ch;
    }
  }
  return out;
}

bool IsRetryable(const std::string& sqlstate) {
  return sqlstate == "23505" || sqlstate == "40001" || sqlstate == "40P01";
}

// Maps a failed statement to a Status a person can act on; `what` says what was being done.
Status Classify(std::string_view what_view, const std::string& sqlstate, bool connection_lost,
                const std::string& detail) {
  const std::string what(what_view);
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

  // Runs one statement ($n placeholders) with bound parameters.
  Result<Rows> Exec(const std::string& sql, const Params& p, std::string_view what) {
    sqlstate_.clear();
    const std::vector<int> formats(static_cast<std::size_t>(p.size()), 1);
    PGresult* r = PQexecParams(c_, sql.c_str(), p.size(), p.types(), p.values(), p.lengths(),
                               formats.data(), /*resultFormat=*/1);
    return Check(r, what);
  }
  Status Run(const char* sql, std::string_view what) {
    sqlstate_.clear();
    Result<Rows> r = Check(PQexecParams(c_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1), what);
    return r.ok() ? Status::Ok() : r.status();
  }
  // Several statements without parameters (schema migrations).
  Status Script(const char* sql, std::string_view what) {
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
  Result<Rows> Check(PGresult* r, std::string_view what) {
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

const SqlDialect kPostgres = {
    .name = "postgresql",
    .blob = "BYTEA",
    .integer = "BIGINT",
    .boolean = "BOOLEAN",
    .json = "BYTEA",
    .without_rowid = "",
    .serial_key = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    .row_id_column = "id BIGINT GENERATED ALWAYS AS IDENTITY, ",
    .row_id = "id",
    .byte_length = "octet_length",
    .for_update = " FOR UPDATE",
    // "canvass\x01": instances starting together do not race to migrate.
    .schema_lock = "SELECT pg_advisory_xact_lock(7161126337215951617)",
    // SHARE mode waits for appends in flight and holds new ones until the queue is filled, so no
    // record is stored between the fill and the registration becoming visible.
    .share_lock_records = "LOCK TABLE records IN SHARE MODE",
    .json_as_blob = true,
    .concurrent_writers = true,
};

// Statements on one leased connection (inside Transact, or a single statement).
class PgConn : public SqlConn {
 public:
  explicit PgConn(Conn& c) : c_(c) {}
  Status Script(const std::string& sql, std::string_view what) override {
    return c_.Script(sql.c_str(), what);
  }

 protected:
  Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args, std::string_view what,
                               const SqlRowFn* row) override {
    Result<Rows> r = c_.Exec(Number(sql), Params(args, 0, args.size()), what);
    if (!r.ok()) return r.status();
    if (row) {
      for (int i = 0; i < r->size(); ++i) (*row)(PgRow(r->get(), i));
    }
    return r->Affected();
  }
  // Multi-row INSERTs: one round trip per up to kMaxParams / columns rows, not one per row.
  Status DoInsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                      std::string_view what) override {
    constexpr std::size_t kMaxParams = 65535;
    const std::size_t values = insert.rfind("VALUES ");
    if (values == std::string_view::npos || columns == 0) {
      return Status::InvalidArgument(std::string(what) + ": not an INSERT ... VALUES");
    }
    const std::string_view head = insert.substr(0, values + 7);
    const std::string_view tuple = insert.substr(values + 7);
    const std::size_t per = kMaxParams / columns * columns;
    for (std::size_t first = 0; first < args.size(); first += per) {
      const std::size_t n = std::min(per, args.size() - first);
      std::string sql(head);
      for (std::size_t row = 0; row < n / columns; ++row) {
        if (row) sql += ", ";
        sql += Number(tuple, static_cast<int>(row * columns + 1));
      }
      Result<Rows> r = c_.Exec(sql, Params(args, first, n), what);
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

 private:
  Conn& c_;
};

class PostgresDb : public SqlDb {
 public:
  explicit PostgresDb(const std::string& url) : pool_(url) {}

  const SqlDialect& dialect() const override { return kPostgres; }

  // Runs `body` between BEGIN and COMMIT (or ROLLBACK unless it sets `commit`). A unique
  // violation, serialisation failure or deadlock rolls back and runs the whole transaction again:
  // it then sees what the other transaction committed.
  Status Transact(std::string_view what, const SqlTxnFn& body) override {
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
      PgConn txn(c);
      s = body(txn, commit);
      if (s.ok() && commit) {
        s = c.Run("COMMIT", std::string(what) + " (commit)");
        if (s.ok()) return s;
      }
      const std::string sqlstate = c.sqlstate();
      if (c.in_transaction()) (void)c.Run("ROLLBACK", what);
      if (s.ok()) return s;  // a refusal (a fork, a gap): nothing stored
      if (attempt >= kMaxAttempts || !IsRetryable(sqlstate)) return s;
    }
  }

 protected:
  // One statement on a pooled connection. A SELECT whose connection broke (the server closed it
  // between the health check and the query) runs once more on a fresh one; a write does not, as
  // it may have been applied.
  Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args, std::string_view what,
                               const SqlRowFn* row) override {
    const bool read_only = sql.starts_with("SELECT ");
    const std::string numbered = Number(sql);
    const Params params(args, 0, args.size());
    for (int attempt = 1;; ++attempt) {
      Result<Pool::Lease> lease = pool_.Acquire();
      if (!lease.ok()) return lease.status();
      Result<Rows> r = (*lease)->Exec(numbered, params, what);
      if (!r.ok() && read_only && attempt < 2 && (*lease)->broken()) continue;
      if (!r.ok()) return r.status();
      if (row) {
        for (int i = 0; i < r->size(); ++i) (*row)(PgRow(r->get(), i));
      }
      return r->Affected();
    }
  }

 private:
  Pool pool_;
};

}  // namespace

Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string msg = error ? Scrub(OneLine(error), url) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("--db: '" + RedactUrl(url) +
                                   "' is not a valid PostgreSQL URL: " + msg);
  }
  PQconninfoFree(options);
  return std::unique_ptr<SqlDb>(std::make_unique<PostgresDb>(url));
}

std::string RedactPostgresUrl(const std::string& url) { return RedactUrl(url); }

}  // namespace canvass::server
