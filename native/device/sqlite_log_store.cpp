#include "sqlite_log_store.h"

#include <sqlite3.h>

#include <cstring>
#include <mutex>

namespace canvass::device {
namespace {

class SqliteLogStore : public Store {
 public:
  explicit SqliteLogStore(sqlite3* db) : db_(db) {}
  ~SqliteLogStore() override { sqlite3_close(db_); }

  Status Init() {
    sqlite3_busy_timeout(db_, 10000);
    return Exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "CREATE TABLE IF NOT EXISTS entries(seq INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
        "  envelope BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS state(id INTEGER PRIMARY KEY CHECK (id = 1),"
        "  head_seq INTEGER NOT NULL, head_hash BLOB NOT NULL,"
        "  acked_seq INTEGER NOT NULL, acked_hash BLOB NOT NULL);");
  }

  Result<LogState> Load() override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* q = Prepare("SELECT head_seq, head_hash, acked_seq, acked_hash FROM state");
    LogState state;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      state.head = {static_cast<std::uint64_t>(sqlite3_column_int64(q, 0)), Blob32(q, 1)};
      state.acked = {static_cast<std::uint64_t>(sqlite3_column_int64(q, 2)), Blob32(q, 3)};
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("read log state");
    return state;
  }

  Status Append(const LogEntry& entry, const LogState& state) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    sqlite3_stmt* q = Prepare("INSERT INTO entries(seq, hash, envelope) VALUES (?, ?, ?)");
    sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(entry.seq));
    sqlite3_bind_blob(q, 2, entry.hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 3, entry.envelope.data(), static_cast<int>(entry.envelope.size()),
                      SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
      Status e = Error("save record " + std::to_string(entry.seq) +
                       " (another process appended to this log at the same time?)");
      (void)Exec("ROLLBACK");
      return e;
    }
    s = SaveState(state);
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return Exec("COMMIT");
  }

  Result<std::vector<LogEntry>> Read(std::uint64_t first_seq, std::uint32_t max_count) override {
    std::lock_guard lock(mu_);
    sqlite3_stmt* q =
        Prepare("SELECT seq, hash, envelope FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?");
    sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(first_seq));
    sqlite3_bind_int64(q, 2, max_count);
    std::vector<LogEntry> out;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      LogEntry e;
      e.seq = static_cast<std::uint64_t>(sqlite3_column_int64(q, 0));
      e.hash = Blob32(q, 1);
      const void* p = sqlite3_column_blob(q, 2);
      e.envelope.assign(static_cast<const char*>(p),
                        static_cast<std::size_t>(sqlite3_column_bytes(q, 2)));
      out.push_back(std::move(e));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return Error("read log");
    return out;
  }

  Status Drop(const LogState& state) override {
    std::lock_guard lock(mu_);
    Status s = Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    sqlite3_stmt* q = Prepare("DELETE FROM entries WHERE seq <= ?");
    sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(state.acked.seq));
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE || !(s = SaveState(state)).ok()) {
      Status e = rc != SQLITE_DONE ? Error("drop acknowledged records") : s;
      (void)Exec("ROLLBACK");
      return e;
    }
    return Exec("COMMIT");
  }

 private:
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db_, sql, -1, &q, nullptr);
    return q;
  }
  static Hash256 Blob32(sqlite3_stmt* q, int col) {
    Hash256 h{};
    if (sqlite3_column_bytes(q, col) == 32) {
      std::memcpy(h.data(), sqlite3_column_blob(q, col), 32);
    }
    return h;
  }
  Status SaveState(const LogState& state) {
    sqlite3_stmt* q = Prepare(
        "INSERT INTO state(id, head_seq, head_hash, acked_seq, acked_hash) VALUES (1, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = "
        "excluded.head_hash, acked_seq = excluded.acked_seq, acked_hash = excluded.acked_hash");
    sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(state.head.seq));
    sqlite3_bind_blob(q, 2, state.head.hash.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, static_cast<sqlite3_int64>(state.acked.seq));
    sqlite3_bind_blob(q, 4, state.acked.hash.data(), 32, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? Status::Ok() : Error("save log state");
  }
  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IoError("device log: " + msg);
  }
  Status Error(const std::string& what) {
    int rc = sqlite3_errcode(db_);
    std::string msg = what + ": " + sqlite3_errmsg(db_);
    if (rc == SQLITE_FULL) return Status::Unavailable(msg + " (the disk is full)");
    return Status::IoError(msg);
  }

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteLogStore(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteLogStore>(db);
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace canvass::device
