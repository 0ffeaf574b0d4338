// SQLite backend of SqlDb: one connection behind a mutex (SQLite serialises writers anyway), WAL
// with synchronous=NORMAL — a committed batch survives a crash of the process; only a power loss
// can take back the last transactions, and devices resend what has no receipt. Statements are
// prepared once and kept, keyed by their text. Transactions are BEGIN IMMEDIATE; nothing retries
// (the busy timeout waits for another process's writer).
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "storage/sql.h"

namespace canvass::server {
namespace {

constexpr std::size_t kMaxCached = 256;

const SqlDialect kSqlite = {
    .name = "sqlite",
    .blob = "BLOB",
    .integer = "INTEGER",
    .boolean = "INTEGER",
    .json = "TEXT",
    .without_rowid = " WITHOUT ROWID",
    .serial_key = "INTEGER PRIMARY KEY",
    .row_id_column = "",
    .row_id = "rowid",
    .byte_length = "LENGTH",
    .for_update = "",
    .schema_lock = "",
    .share_lock_records = "",
    .json_as_blob = false,
    .concurrent_writers = false,
};

// SQLITE_FULL: the disk, or the --max-db-mb limit (PRAGMA max_page_count). Devices keep what has
// no receipt, so the answer tells the operator what to do and the devices to come back.
Status DatabaseFull(std::string_view what) {
  return Status::Unavailable(std::string(what) +
                             ": the database is full (the disk, or the server's --max-db-mb "
                             "limit): free disk space or restart canvass-server with a larger "
                             "--max-db-mb; devices keep their records and send them again");
}

class SqliteRow : public SqlRow {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb;

// The connection inside a transaction: the store's mutex is held by Transact already.
class SqliteTxn : public SqlConn {
 public:
  explicit SqliteTxn(SqliteDb* db) : db_(db) {}
  Status Script(const std::string& sql, std::string_view what) override;

 protected:
  Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args, std::string_view what,
                               const SqlRowFn* row) override;
  Status DoInsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                      std::string_view what) override;

 private:
  SqliteDb* db_;
};

class SqliteDb : public SqlDb {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  ~SqliteDb() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Status Init(std::uint32_t max_db_mb) {
    Status s = Script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                      "sqlite");
    if (!s.ok()) return s;
    sqlite3_busy_timeout(db_, 5000);
    return max_db_mb > 0 ? LimitSize(max_db_mb) : Status::Ok();
  }

  const SqlDialect& dialect() const override { return kSqlite; }

  Status Transact(std::string_view what, const SqlTxnFn& body) override {
    std::lock_guard lock(mu_);
    Status s = Script("BEGIN IMMEDIATE", what);
    if (!s.ok()) return s;
    bool commit = false;
    SqliteTxn txn(this);
    s = body(txn, commit);
    Status end = End(s.ok() && commit);
    return s.ok() ? end : s;  // what made it roll back (a full database), not the rollback
  }

  Status Script(const std::string& sql, std::string_view) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (rc == SQLITE_FULL) return DatabaseFull("sqlite");
    return Status::IoError("sqlite: " + msg);
  }

 protected:
  Result<std::uint64_t> DoExec(std::string_view sql, const SqlArgs& args, std::string_view what,
                               const SqlRowFn* row) override {
    std::lock_guard lock(mu_);
    return Run(sql, args, what, row);
  }

 private:
  friend class SqliteTxn;

  Result<std::uint64_t> Run(std::string_view sql, const SqlArgs& args, std::string_view what,
                            const SqlRowFn* row) {
    Result<sqlite3_stmt*> stmt = Prepare(sql, what);
    if (!stmt.ok()) return stmt.status();
    Bind(*stmt, args, 0, args.size());
    return Step(*stmt, what, row);
  }

  Status InsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                    std::string_view what) {
    // Inside Transact (mu_ held): one prepared statement, reset per row.
    Result<sqlite3_stmt*> stmt = Prepare(insert, what);
    if (!stmt.ok()) return stmt.status();
    for (std::size_t first = 0; first < args.size(); first += columns) {
      Bind(*stmt, args, first, columns);
      Result<std::uint64_t> r = Step(*stmt, what, nullptr);
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::string_view what) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    // Statements whose text varies (a list of locations) could fill the cache: it starts over
    // when it is large. None is in use here: a statement is reset before the next is prepared.
    if (cache_.size() >= kMaxCached) {
      for (auto& [text, cached] : cache_) sqlite3_finalize(cached);
      cache_.clear();
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, what);
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  static void Bind(sqlite3_stmt* stmt, const SqlArgs& args, std::size_t first, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const SqlArg& a = args[first + i];
      const int col = static_cast<int>(i + 1);
      switch (a.type) {
        case SqlArg::Type::kNull:
          sqlite3_bind_null(stmt, col);
          break;
        case SqlArg::Type::kInt:
        case SqlArg::Type::kBool:
          sqlite3_bind_int64(stmt, col, a.number);
          break;
        case SqlArg::Type::kText:
          sqlite3_bind_text(stmt, col, a.bytes.data(), static_cast<int>(a.bytes.size()),
                            SQLITE_STATIC);
          break;
        case SqlArg::Type::kBlob:
          sqlite3_bind_blob(stmt, col, a.bytes.data(), static_cast<int>(a.bytes.size()),
                            SQLITE_STATIC);
          break;
      }
    }
  }

  // Runs a bound statement to its end, then resets it (a statement left mid-way would hold its
  // read transaction open) and drops the bindings (they are views).
  Result<std::uint64_t> Step(sqlite3_stmt* stmt, std::string_view what, const SqlRowFn* row) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (row) (*row)(SqliteRow(stmt));
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return Error(rc, what);
    return static_cast<std::uint64_t>(sqlite3_changes(db_));
  }

  Status Error(int rc, std::string_view what) const {
    // A full disk or a refused write is worth retrying later; the rest is an I/O problem.
    if (rc == SQLITE_FULL) return DatabaseFull(what);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      return Status::Unavailable(std::string(what) + ": the database is busy, retry");
    }
    return Status::IoError(std::string(what) + ": " + sqlite3_errmsg(db_));
  }

  // Ends the transaction BEGIN IMMEDIATE started: COMMIT, or ROLLBACK. On some errors SQLite rolls
  // the transaction back by itself (SQLITE_FULL among them, sqlite.org/lang_transaction.html); a
  // ROLLBACK then fails with "no transaction is active", which must not hide the error that caused
  // it. A COMMIT that fails leaves the transaction open, so it is rolled back.
  Status End(bool commit) {
    if (!commit) return sqlite3_get_autocommit(db_) ? Status::Ok() : Script("ROLLBACK", "");
    Status s = Script("COMMIT", "");
    if (!s.ok() && !sqlite3_get_autocommit(db_)) (void)Script("ROLLBACK", "");
    return s;
  }

  // PRAGMA max_page_count holds for this connection only, so it is set at every open. SQLite
  // keeps it at the current page count if that is larger: the database is then full at once.
  Status LimitSize(std::uint32_t max_db_mb) {
    std::int64_t page_size = 0;
    const SqlRowFn read = [&](const SqlRow& row) { page_size = row.Int(0); };
    Result<std::uint64_t> r = Run("PRAGMA page_size", {}, "read the page size", &read);
    if (!r.ok()) return r.status();
    if (page_size <= 0) return Status::IoError("read the page size: none");
    const std::int64_t pages =
        std::max<std::int64_t>(1, std::int64_t{max_db_mb} * 1024 * 1024 / page_size);
    const SqlRowFn ignore = [](const SqlRow&) {};
    r = Run("PRAGMA max_page_count = " + std::to_string(pages), {}, "limit the database size",
            &ignore);
    return r.ok() ? Status::Ok() : r.status();
  }

  std::mutex mu_;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

Status SqliteTxn::Script(const std::string& sql, std::string_view what) {
  return db_->Script(sql, what);
}
Result<std::uint64_t> SqliteTxn::DoExec(std::string_view sql, const SqlArgs& args,
                                        std::string_view what, const SqlRowFn* row) {
  return db_->Run(sql, args, what, row);
}
Status SqliteTxn::DoInsertMany(std::string_view insert, std::size_t columns, const SqlArgs& args,
                               std::string_view what) {
  return db_->InsertMany(insert, columns, args, what);
}

}  // namespace

Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path, std::uint32_t max_db_mb) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteDb>(db);
  if (Status s = store->Init(max_db_mb); !s.ok()) return s.WithContext(path);
  return std::unique_ptr<SqlDb>(std::move(store));
}

}  // namespace canvass::server
