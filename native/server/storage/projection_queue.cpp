// ProjectionQueue (storage/modules.h): the queue of stored records each projection has still to
// see, and the projections' key-value state. Two ways to claim a batch, by the dialect:
// - several writers (PostgreSQL): in one transaction, the queued rows are claimed with FOR UPDATE
//   SKIP LOCKED (two servers never project the same record), digested, projected and deleted;
// - one writer (SQLite): the records are read and digested outside the write lock, so the
//   projection's CPU work does not hold up pushes; the write transaction then projects them and
//   takes them off the queue. One call at a time (project_mu_): the records read stay queued
//   until that transaction.
#include "storage/modules.h"
#include "storage/readers.h"

#include <set>

namespace canvass::server {
namespace {

using A = SqlArg;

// A projection's view of the transaction ProjectPending holds. A key read and found absent is
// inserted without ON CONFLICT: if another server inserted it meanwhile, the unique violation
// makes Transact run the whole projection again, and it then reads the other server's value
// (an upsert would silently overwrite it).
class Derived : public DerivedTxn {
 public:
  Derived(SqlConn& c, const SqlDialect& dialect, const std::string& projection)
      : c_(c),
        projection_(projection),
        get_(std::string("SELECT value FROM derived_values WHERE projection = ? AND key = ?") +
             dialect.for_update),
        read_what_("read " + projection + " state"),
        write_what_("write " + projection + " state") {}

  Result<std::optional<std::string>> GetValue(const std::string& key) override {
    Result<std::optional<std::string>> r =
        QueryOne(c_, get_, {A::Text(projection_), A::Blob(key)}, read_what_, ReadText0);
    if (r.ok() && !*r) absent_.insert(key);
    return r;
  }
  Status PutValue(const std::string& key, const std::string& value) override {
    const char* sql = absent_.erase(key) ? "INSERT INTO derived_values(projection, key, value) "
                                           "VALUES (?, ?, ?)"
                                         : "INSERT INTO derived_values(projection, key, value) "
                                           "VALUES (?, ?, ?) ON CONFLICT(projection, key) "
                                           "DO UPDATE SET value = excluded.value";
    return c_.Exec(sql, {A::Text(projection_), A::Blob(key), A::Blob(value)}, write_what_).status();
  }
  SqlConn& sql() override { return c_; }

 private:
  SqlConn& c_;
  const std::string& projection_;
  const std::string get_, read_what_, write_what_;
  std::set<std::string> absent_;
};

const std::string kQueuedRecords =
    std::string("SELECT ") + kStoredRecordColumns +
    " FROM projection_queue q JOIN records r ON r.device_id = q.device_id AND r.seq = q.seq "
    "LEFT JOIN devices d ON d.device_id = q.device_id "
    "WHERE q.projection = ? ORDER BY q.device_id, q.seq LIMIT ?";

}  // namespace

Status ProjectionQueue::RegisterProjection(const std::string& name) {
  const std::string what = "register projection " + name;
  Result<std::optional<std::int64_t>> known =
      QueryOne(db_, "SELECT 1 FROM projections WHERE name = ?", {A::Text(name)}, what, ReadInt0);
  if (!known.ok() || *known) return known.status();
  const SqlDialect& dialect = db_.dialect();
  return db_.Transact(what, [&](SqlConn& c, bool& commit) -> Status {
    if (*dialect.share_lock_records) {
      if (Status s = c.Script(dialect.share_lock_records, what); !s.ok()) return s;
    }
    Result<std::uint64_t> added =
        c.Exec("INSERT INTO projections(name) VALUES (?) ON CONFLICT(name) DO NOTHING",
               {A::Text(name)}, what);
    if (!added.ok()) return added.status();
    if (*added == 1) {  // new: it has every stored record still to see
      Result<std::uint64_t> fill = c.Exec(
          "INSERT INTO projection_queue(projection, device_id, seq) "
          "SELECT ?, device_id, seq FROM records",
          {A::Text(name)}, what);
      if (!fill.ok()) return fill.status();
    }
    commit = true;
    return Status::Ok();
  });
}

Result<std::uint32_t> ProjectionQueue::ProjectPending(const std::string& name, std::uint32_t limit,
                                                      const ProjectFn& project,
                                                      const DigestFn& digest) {
  return db_.dialect().concurrent_writers ? ProjectClaimed(name, limit, project, digest)
                                          : ProjectSingleWriter(name, limit, project, digest);
}

Result<std::uint32_t> ProjectionQueue::ProjectClaimed(const std::string& name, std::uint32_t limit,
                                                      const ProjectFn& project,
                                                      const DigestFn& digest) {
  const std::string what = "project records (" + name + ")";
  const std::string claim = kQueuedRecords + db_.dialect().ClaimRows("q");
  std::uint32_t projected = 0;
  Status s = db_.Transact(what, [&](SqlConn& c, bool& commit) -> Status {
    projected = 0;
    Result<std::vector<StoredRecord>> records =
        QueryAll(c, claim, {A::Text(name), A::Int(limit)}, what, ReadStoredRecord);
    if (!records.ok()) return records.status();
    commit = true;
    if (records->empty()) return Status::Ok();
    // Inside the transaction: it holds row locks only, so pushes go on meanwhile.
    if (digest) {
      if (Status d = digest(*records); !d.ok()) return d;
    }
    Derived txn(c, db_.dialect(), name);
    if (Status p = project(*records, txn); !p.ok()) return p;
    // The batch's keys as two arrays joined to the queue: one index probe per record. A list of
    // (device_id, seq) IN (...) pairs made the planner scan the whole queue (dead rows
    // included) for every batch, which was most of the projections' time on PostgreSQL.
    std::string devices = "{", seqs = "{";
    for (std::size_t i = 0; i < records->size(); ++i) {
      const StoredRecord& r = (*records)[i];
      if (i > 0) {
        devices += ',';
        seqs += ',';
      }
      devices += '"';
      for (char ch : r.device_id) {
        if (ch == '"' || ch == '\\') devices += '\\';
        devices += ch;
      }
      devices += '"';
      seqs += std::to_string(r.seq);
    }
    devices += '}';
    seqs += '}';
    Result<std::uint64_t> del = c.Exec(
        "DELETE FROM projection_queue q "
        "USING unnest(?::text[], ?::bigint[]) AS d(device_id, seq) "
        "WHERE q.projection = ? AND q.device_id = d.device_id AND q.seq = d.seq",
        {A::Text(devices), A::Text(seqs), A::Text(name)}, what);
    if (!del.ok()) return del.status();
    projected = static_cast<std::uint32_t>(records->size());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return projected;
}

Result<std::uint32_t> ProjectionQueue::ProjectSingleWriter(const std::string& name,
                                                           std::uint32_t limit,
                                                           const ProjectFn& project,
                                                           const DigestFn& digest) {
  std::lock_guard one_at_a_time(project_mu_);
  Result<std::vector<StoredRecord>> records =
      QueryAll(db_, kQueuedRecords, {A::Text(name), A::Int(limit)}, "read the " + name + " queue",
               ReadStoredRecord);
  if (!records.ok()) return records.status();
  if (records->empty()) return std::uint32_t{0};
  if (digest) {
    if (Status s = digest(*records); !s.ok()) return s;
  }
  const std::string what = "dequeue from " + name;
  Status s = db_.Transact(what, [&](SqlConn& c, bool& commit) -> Status {
    Derived txn(c, db_.dialect(), name);
    if (Status p = project(*records, txn); !p.ok()) return p;
    // One DELETE per device's run of records rather than one per record. The records were read
    // in queue order, so each device's run holds every queued seq from its first to its last;
    // nothing joins the queue inside that range meanwhile (appends queue seqs above the stored
    // head). So the run deletes exactly its records, unless some were taken off meanwhile: then
    // fewer rows go and the transaction is refused.
    const std::vector<StoredRecord>& r = *records;
    for (std::size_t first = 0; first < r.size();) {
      std::size_t last = first;
      while (last + 1 < r.size() && r[last + 1].device_id == r[first].device_id) ++last;
      Result<std::uint64_t> del = c.Exec(
          "DELETE FROM projection_queue WHERE projection = ? AND device_id = ? "
          "AND seq BETWEEN ? AND ?",
          {A::Text(name), A::Text(r[first].device_id),
           A::Int(static_cast<std::int64_t>(r[first].seq)),
           A::Int(static_cast<std::int64_t>(r[last].seq))},
          what);
      if (!del.ok()) return del.status();
      if (*del != last - first + 1) {
        return Status::Conflict(what + ": records of " + r[first].device_id + " #" +
                                std::to_string(r[first].seq) + ".." + std::to_string(r[last].seq) +
                                " were taken off the queue meanwhile");
      }
      first = last + 1;
    }
    commit = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return static_cast<std::uint32_t>(records->size());
}

Result<std::uint64_t> ProjectionQueue::CountPending(const std::string& name) {
  Result<std::optional<std::int64_t>> n =
      QueryOne(db_, "SELECT COUNT(*) FROM projection_queue WHERE projection = ?", {A::Text(name)},
               "count the " + name + " queue", ReadInt0);
  if (!n.ok()) return n.status();
  return static_cast<std::uint64_t>(n->value_or(0));
}

Status ProjectionQueue::ForEachValue(
    const std::string& name, const std::string& prefix,
    const std::function<Status(const std::string& key, const std::string& value)>& visit) {
  // Page through by key so that no lock or connection is held while the caller works: the first
  // page from `prefix` itself (>=), the next ones after the last key seen (>), up to PrefixEnd.
  const std::string end = PrefixEnd(prefix).value_or(std::string());
  std::string from = prefix;
  bool first = true;
  for (;;) {
    std::string sql = "SELECT key, value FROM derived_values WHERE projection = ? AND key ";
    sql += first ? ">= ?" : "> ?";
    SqlArgs args = {A::Text(name), A::Blob(from)};
    if (!end.empty()) {
      sql += " AND key < ?";
      args.push_back(A::Blob(end));
    }
    sql += " ORDER BY key LIMIT 1000";
    std::vector<std::pair<std::string, std::string>> page;
    Status s = db_.Query(sql, args, "read " + name + " state",
                         [&](const SqlRow& row) { page.emplace_back(row.Text(0), row.Text(1)); });
    if (!s.ok()) return s;
    if (page.empty()) return Status::Ok();
    for (const auto& [key, value] : page) {
      if (Status v = visit(key, value); !v.ok()) return v;
    }
    from = page.back().first;
    first = false;
  }
}

}  // namespace canvass::server
