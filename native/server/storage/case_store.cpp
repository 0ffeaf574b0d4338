// CaseStore (storage/modules.h): follow-up cases and their notes. A case is opened by the cases
// projection inside its transaction (Open), changed under a row lock (ChangeCase), and every
// change's webhook events go to the outbox in the same transaction.
#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {
namespace {

using A = SqlArg;

// The WHERE, ORDER BY and LIMIT of ListCases; the values go to `args` in order (they view
// `filter`). Empty if the filter can match nothing: an empty location list, or text no backend
// stores.
std::optional<std::string> FilterSql(const CaseFilter& f, SqlArgs* args) {
  if (f.locations && f.locations->empty()) return std::nullopt;
  bool storable = true;
  auto text = [&](const std::string& v) {
    storable = storable && IsStorableText(v);
    args->push_back(A::Text(v));
    return "?";
  };
  std::string sql = " WHERE 1 = 1";
  if (f.state) sql += std::string(" AND state = ") + text(*f.state);
  if (f.locations) {
    sql += " AND location IN (";
    for (std::size_t i = 0; i < f.locations->size(); ++i) {
      sql += (i ? ", " : "") + std::string(text((*f.locations)[i]));
    }
    sql += ")";
  }
  if (f.overdue_at) {
    sql += " AND state <> 'resolved' AND due_ms <= ?";
    args->push_back(A::Int(*f.overdue_at));
  }
  if (f.escalated) {
    sql += *f.escalated ? " AND escalated_ms IS NOT NULL" : " AND escalated_ms IS NULL";
  }
  if (f.assignee) sql += std::string(" AND assignee = ") + text(*f.assignee);
  sql += " ORDER BY due_ms, case_id LIMIT ?";
  args->push_back(A::Int(f.limit));
  if (!storable) return std::nullopt;
  return sql;
}

}  // namespace

Result<std::vector<CaseRow>> CaseStore::ListCases(const CaseFilter& filter) {
  SqlArgs args;
  std::optional<std::string> where = FilterSql(filter, &args);
  if (!where) return std::vector<CaseRow>();
  return QueryAll(db_, std::string("SELECT ") + kCaseColumns + " FROM cases" + *where, args,
                  "list cases", ReadCase);
}

Result<std::optional<CaseRow>> CaseStore::FindCase(const std::string& case_id) {
  if (!IsStorableText(case_id)) return std::optional<CaseRow>();
  std::optional<CaseRow> found;
  // One transaction, so that the row and its notes are read at one moment.
  Status s = db_.Transact("read case", [&](SqlConn& c, bool& commit) -> Status {
    Result<std::optional<CaseRow>> row =
        QueryOne(c, std::string("SELECT ") + kCaseColumns + " FROM cases WHERE case_id = ?",
                 {A::Text(case_id)}, "read case", ReadCase);
    if (!row.ok()) return row.status();
    commit = true;
    found = std::move(*row);
    if (!found) return Status::Ok();
    return c.Query(
        "SELECT revision, author, time_ms, text FROM case_notes WHERE case_id = ? "
        "ORDER BY revision",
        {A::Text(case_id)}, "read case notes", [&](const SqlRow& r) {
          found->notes.push_back(
              {static_cast<std::uint32_t>(r.Int(0)), r.Text(1), r.Int(2), r.Text(3)});
        });
  });
  if (!s.ok()) return s;
  return found;
}

Result<CaseRow> CaseStore::ChangeCase(const std::string& case_id,
                                      const std::function<Result<CaseChange>(CaseRow&)>& change) {
  if (!IsStorableText(case_id)) return Status::NotFound("no case '" + case_id + "'");
  CaseRow row;
  const std::string select = std::string("SELECT ") + kCaseColumns +
                             " FROM cases WHERE case_id = ?" + db_.dialect().for_update;
  Status s = db_.Transact("change case", [&](SqlConn& c, bool& commit) -> Status {
    // The row lock serialises changes to one case across threads and server instances.
    Result<std::optional<CaseRow>> found =
        QueryOne(c, select, {A::Text(case_id)}, "change case", ReadCase);
    if (!found.ok()) return found.status();
    if (!*found) return Status::NotFound("no case '" + case_id + "'");
    row = std::move(**found);
    Result<CaseChange> done = change(row);
    if (!done.ok()) return done.status();
    commit = true;
    if (!done->changed) return Status::Ok();
    Result<std::uint64_t> upd = c.Exec(
        "UPDATE cases SET state = ?, category = ?, assignee = ?, updated_ms = ?, "
        "escalated_ms = ?, resolved_ms = ?, revision = ? WHERE case_id = ?",
        {A::Text(row.state), A::Text(row.category), A::Text(row.assignee), A::Int(row.updated_ms),
         A::OptInt(row.escalated_ms), A::OptInt(row.resolved_ms), A::Int(row.revision),
         A::Text(case_id)},
        "change case");
    if (!upd.ok()) return upd.status();
    if (const std::optional<CaseNote>& note = done->note) {
      Result<std::uint64_t> added = c.Exec(
          "INSERT INTO case_notes(case_id, revision, author, time_ms, text) "
          "VALUES (?, ?, ?, ?, ?)",
          {A::Text(case_id), A::Int(note->revision), A::Text(note->author), A::Int(note->time_ms),
           A::Text(note->text)},
          "add case note");
      if (!added.ok()) return added.status();
    }
    for (const CaseEvent& e : done->events) {
      if (Status q = WebhookOutbox::Enqueue(c, e); !q.ok()) return q;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return row;
}

Result<bool> CaseStore::Open(SqlConn& txn, const CaseRow& c) {
  Result<std::uint64_t> added =
      txn.Exec(std::string("INSERT INTO cases(") + kCaseColumns +
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT(case_id) DO NOTHING",
               {A::Text(c.case_id),
                A::Text(c.device_id),
                A::Int(static_cast<std::int64_t>(c.seq)),
                A::Text(c.survey_id),
                A::Text(c.location),
                A::Text(c.question),
                A::Text(c.metric),
                A::Int(c.score),
                A::Int(c.scale_min),
                A::Int(c.scale_max),
                A::Text(c.state),
                A::Text(c.category),
                A::Text(c.assignee),
                A::Blob(c.sealed_contact),
                A::Int(c.responded_ms),
                A::Int(c.opened_ms),
                A::Int(c.due_ms),
                A::Int(c.updated_ms),
                A::OptInt(c.escalated_ms),
                A::OptInt(c.resolved_ms),
                A::Int(c.revision)},
               "open case");
  if (!added.ok()) return added.status();
  return *added == 1;
}

}  // namespace canvass::server
