// RecordLog (storage/modules.h): the devices' chains of records, inbound messages, quarantine.
// AppendRecords reads the chain head under a row lock (FOR UPDATE; SQLite's write transaction
// does the same), so two servers given the same batch serialise on the device row and the second
// sees the first's records as duplicates. PRIMARY KEY(device_id, seq) is the backstop that makes
// a double accept impossible.
#include <algorithm>
#include <map>

#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {
namespace {

using A = SqlArg;

// The body of AppendRecords, inside its transaction. `commit` is set if the batch was stored.
Result<AppendResult> Append(SqlConn& c, const SqlDialect& dialect, const std::string& device_id,
                            const std::vector<VerifiedRecord>& records, std::int64_t now_ms) {
  if (!IsStorableText(device_id)) return Status::NotFound("no device '" + device_id + "'");
  std::optional<ChainHead> head;
  Status s = c.Query(std::string("SELECT head_seq, head_hash FROM devices WHERE device_id = ?") +
                         dialect.for_update,
                     {A::Text(device_id)}, "read chain head", [&](const SqlRow& row) {
                       head = ChainHead{row.Uint(0), row.Fixed<32>(1)};
                     });
  if (!s.ok()) return s;
  if (!head) return Status::NotFound("no device '" + device_id + "'");

  // Hashes already stored for the batch's seqs up to the head, in one query.
  std::map<std::uint64_t, Hash256> stored;
  std::uint64_t lo = UINT64_MAX, hi = 0;
  for (const VerifiedRecord& r : records) {
    if (r.seq > head->seq) continue;
    lo = std::min(lo, r.seq);
    hi = std::max(hi, r.seq);
  }
  if (lo <= hi) {
    s = c.Query("SELECT seq, hash FROM records WHERE device_id = ? AND seq BETWEEN ? AND ?",
                {A::Text(device_id), A::Int(static_cast<std::int64_t>(lo)),
                 A::Int(static_cast<std::int64_t>(hi))},
                "read stored record",
                [&](const SqlRow& row) { stored[row.Uint(0)] = row.Fixed<32>(1); });
    if (!s.ok()) return s;
  }
  auto stored_hash = [&](std::uint64_t seq) -> Result<Hash256> {
    auto it = stored.find(seq);
    if (it == stored.end()) {
      return Status::Corruption("read stored record: device '" + device_id + "' has head seq " +
                                std::to_string(head->seq) + " but no record " +
                                std::to_string(seq));
    }
    return it->second;
  };
  const std::uint64_t head_before = head->seq;
  std::vector<const VerifiedRecord*> fresh;  // not stored yet, in seq order
  Result<AppendResult> result = ClassifyBatch(*head, records, stored_hash, &fresh);
  if (!result.ok() || result->verdict != AppendResult::Verdict::kStored || fresh.empty()) {
    return result;
  }
  SqlArgs rows;
  rows.reserve(fresh.size() * 5);
  for (const VerifiedRecord* r : fresh) {
    rows.insert(rows.end(), {A::Text(device_id), A::Int(static_cast<std::int64_t>(r->seq)),
                             A::Blob(r->hash), A::Blob(r->envelope), A::Int(now_ms)});
  }
  s = c.InsertMany(
      "INSERT INTO records(device_id, seq, hash, envelope, stored_ms) VALUES (?, ?, ?, ?, ?)", 5,
      rows, "store records");
  if (!s.ok()) return s;
  // Every registered projection has the fresh records (head_before, new head] to see.
  Result<std::uint64_t> done = c.Exec(
      "INSERT INTO projection_queue(projection, device_id, seq) "
      "SELECT p.name, r.device_id, r.seq FROM projections p JOIN records r "
      "ON r.device_id = ? AND r.seq > ? AND r.seq <= ?",
      {A::Text(device_id), A::Int(static_cast<std::int64_t>(head_before)),
       A::Int(static_cast<std::int64_t>(result->head.seq))},
      "queue records for projections");
  if (!done.ok()) return done.status();
  done = c.Exec("UPDATE devices SET head_seq = ?, head_hash = ? WHERE device_id = ?",
                {A::Int(static_cast<std::int64_t>(result->head.seq)), A::Blob(result->head.hash),
                 A::Text(device_id)},
                "update chain head");
  if (!done.ok()) return done.status();
  return result;
}

}  // namespace

Result<AppendResult> RecordLog::AppendRecords(const std::string& device_id,
                                              const std::vector<VerifiedRecord>& records,
                                              std::int64_t now_ms) {
  std::optional<Result<AppendResult>> result;
  Status s = db_.Transact("store records", [&](SqlConn& c, bool& commit) {
    result = Append(c, db_.dialect(), device_id, records, now_ms);
    if (!result->ok()) return (*result).status();
    commit = (*result)->verdict == AppendResult::Verdict::kStored;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*result);
}

Result<InboundAppend> RecordLog::AppendInbound(const InboundMessage& message,
                                               const std::string& device_id,
                                               const VerifiedRecord& record, std::int64_t now_ms) {
  if (!IsStorableText(message.channel) || !IsStorableText(message.message_id)) {
    return Status::InvalidArgument("message id: not storable text");
  }
  const SqlDialect& dialect = db_.dialect();
  InboundAppend out;
  Status s = db_.Transact("store inbound message", [&](SqlConn& c, bool& commit) -> Status {
    out = InboundAppend();
    // The chain head's row lock first, as AppendRecords takes it: then two servers given the same
    // message wait for each other here, and the second sees the first's row.
    if (*dialect.for_update && IsStorableText(device_id)) {
      Status locked =
          c.Query(std::string("SELECT 1 FROM devices WHERE device_id = ?") + dialect.for_update,
                  {A::Text(device_id)}, "read chain head", [](const SqlRow&) {});
      if (!locked.ok()) return locked;
    }
    bool known = false;
    Status q = c.Query(
        "SELECT seq, received_ms FROM inbound_messages "
        "WHERE channel = ? AND message_id = ?",
        {A::Text(message.channel), A::Text(message.message_id)}, "read inbound message",
        [&](const SqlRow& row) {
          known = true;
          out.seq = row.Uint(0);
          out.first_ms = row.Int(1);
        });
    if (!q.ok()) return q;
    if (known && (message.window_ms == 0 || now_ms - out.first_ms < message.window_ms)) {
      out.duplicate = true;
      return Status::Ok();
    }
    Result<AppendResult> appended = Append(c, dialect, device_id, {record}, now_ms);
    if (!appended.ok()) return appended.status();
    out.append = *appended;
    if (appended->verdict != AppendResult::Verdict::kStored) return Status::Ok();
    out.seq = record.seq;
    out.first_ms = now_ms;
    Result<std::uint64_t> ins = c.Exec(
        "INSERT INTO inbound_messages(channel, message_id, device_id, seq, received_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel, message_id) DO UPDATE SET "
        "device_id = excluded.device_id, seq = excluded.seq, "
        "received_ms = excluded.received_ms",
        {A::Text(message.channel), A::Text(message.message_id), A::Text(device_id),
         A::Int(static_cast<std::int64_t>(record.seq)), A::Int(now_ms)},
        "remember inbound message");
    if (!ins.ok()) return ins.status();
    commit = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::int64_t> RecordLog::StoredTime(const std::string& device_id, std::uint64_t seq) {
  Result<std::optional<std::int64_t>> t = QueryOne(
      db_, "SELECT stored_ms FROM records WHERE device_id = ? AND seq = ?",
      {A::Text(device_id), A::Int(static_cast<std::int64_t>(seq))}, "stored time", ReadInt0);
  if (!t.ok()) return t.status();
  if (!*t) return Status::NotFound("record not stored");
  return **t;
}

Status RecordLog::ForEachRecord(const std::function<Status(const StoredRecord&)>& visit) {
  // Page through by key so that no lock or connection is held while the caller writes its output.
  std::string device;
  std::int64_t seq = -1;
  for (;;) {
    Result<std::vector<StoredRecord>> page =
        QueryAll(db_,
                 std::string("SELECT ") + kStoredRecordColumns +
                     " FROM records r LEFT JOIN devices d ON d.device_id = r.device_id "
                     "WHERE (r.device_id, r.seq) > (?, ?) ORDER BY r.device_id, r.seq LIMIT 1000",
                 {A::Text(device), A::Int(seq)}, "read records", ReadStoredRecord);
    if (!page.ok()) return page.status();
    if (page->empty()) return Status::Ok();
    for (const StoredRecord& r : *page) {
      if (Status s = visit(r); !s.ok()) return s;
    }
    device = page->back().device_id;
    seq = static_cast<std::int64_t>(page->back().seq);
  }
}

Result<std::uint64_t> RecordLog::CountRecords() {
  Result<std::optional<std::int64_t>> n =
      QueryOne(db_, "SELECT COUNT(*) FROM records", {}, "count records", ReadInt0);
  if (!n.ok()) return n.status();
  return static_cast<std::uint64_t>(n->value_or(0));
}

Status RecordLog::Quarantine(const QuarantineRow& row) {
  return db_
      .Exec(
          std::string("INSERT INTO quarantine(") + kQuarantineColumns + ") VALUES (?, ?, ?, ?, ?)",
          {A::Text(row.device_id), A::Int(static_cast<std::int64_t>(row.seq)), A::Text(row.reason),
           A::Blob(row.envelope), A::Int(row.received_ms)},
          "quarantine")
      .status();
}

Result<std::vector<QuarantineRow>> RecordLog::ListQuarantine(std::uint32_t limit) {
  return QueryAll(
      db_,
      std::string("SELECT ") + kQuarantineColumns + " FROM quarantine ORDER BY id DESC LIMIT ?",
      {A::Int(limit)}, "list quarantine", ReadQuarantine);
}

Result<std::pair<std::uint64_t, std::uint64_t>> RecordLog::QuarantineBytes(
    const std::string& device_id) {
  const std::string length = std::string(db_.dialect().byte_length) + "(envelope)";
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  Status s = db_.Query("SELECT COALESCE(SUM(CASE WHEN device_id = ? THEN " + length +
                           " END), 0), COALESCE(SUM(" + length + "), 0) FROM quarantine",
                       {A::Text(device_id)}, "quarantine size", [&](const SqlRow& row) {
                         out = {row.Uint(0), row.Uint(1)};
                       });
  if (!s.ok()) return s;
  return out;
}

}  // namespace canvass::server
