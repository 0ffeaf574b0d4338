#include "store.h"

namespace canvass::server {

Result<AppendResult> ClassifyBatch(const ChainHead& head,
                                   const std::vector<VerifiedRecord>& records,
                                   const std::function<Result<Hash256>(std::uint64_t)>& stored_hash,
                                   std::vector<const VerifiedRecord*>* fresh) {
  AppendResult result;
  result.head = head;
  fresh->clear();
  for (const VerifiedRecord& r : records) {
    if (r.seq == 0) return Status::InvalidArgument("record seq 0: seqs start at 1");
    if (r.seq <= result.head.seq) {
      Result<Hash256> stored = stored_hash(r.seq);
      if (!stored.ok()) return stored.status();
      if (*stored != r.hash) {
        result.verdict = AppendResult::Verdict::kFork;
        result.message = "fork at seq " + std::to_string(r.seq) +
                         ": the server already holds a different record with this seq "
                         "(a cloned or tampered device); the batch is quarantined for an admin";
        return result;
      }
      ++result.duplicates;
      continue;
    }
    if (r.seq > result.head.seq + 1) {
      result.verdict = AppendResult::Verdict::kGap;
      result.message = "gap: the server expects seq " + std::to_string(result.head.seq + 1) +
                       " next, the batch continues at seq " + std::to_string(r.seq) +
                       "; send the missing records first";
      return result;
    }
    if (r.prev_hash != result.head.hash) {
      result.verdict = AppendResult::Verdict::kFork;
      result.message = "fork at seq " + std::to_string(r.seq) +
                       ": its prev_hash differs from the stored record " +
                       std::to_string(result.head.seq) + "; the batch is quarantined for an admin";
      return result;
    }
    fresh->push_back(&r);
    result.head = ChainHead{r.seq, r.hash};
    ++result.stored;
  }
  return result;
}

Result<std::unique_ptr<ServerStore>> OpenStore(const std::string& spec, const std::string& data_dir,
                                               const StoreOptions& options) {
  if (spec.empty() || spec == "sqlite") {
    return OpenSqliteStore(data_dir + "/canvass.db", options.sqlite_max_db_mb);
  }
  if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) {
    if (options.sqlite_max_db_mb != 0) {
      return Status::InvalidArgument(
          "--max-db-mb limits the SQLite store only; give PostgreSQL a quota of its own");
    }
    return OpenPostgresStore(spec);
  }
  return Status::InvalidArgument("--db: use sqlite or a postgresql:// URL, not '" + spec + "'");
}

std::optional<std::string> CaseFilterSql(const CaseFilter& f,
                                         const std::function<std::string(int)>& placeholder,
                                         std::vector<SqlValue>* params) {
  if (f.locations && f.locations->empty()) return std::nullopt;
  params->clear();
  auto text = [&](const std::string& v) {
    params->emplace_back(std::in_place_type<std::string>, v);
    return placeholder(static_cast<int>(params->size()));
  };
  auto number = [&](std::int64_t v) {
    params->emplace_back(std::in_place_type<std::int64_t>, v);
    return placeholder(static_cast<int>(params->size()));
  };
  std::string sql = " WHERE 1 = 1";
  if (f.state) sql += " AND state = " + text(*f.state);
  if (f.locations) {
    sql += " AND location IN (";
    for (std::size_t i = 0; i < f.locations->size(); ++i) {
      sql += (i ? ", " : "") + text((*f.locations)[i]);
    }
    sql += ")";
  }
  if (f.overdue_at) sql += " AND state <> 'resolved' AND due_ms <= " + number(*f.overdue_at);
  if (f.escalated) {
    sql += *f.escalated ? " AND escalated_ms IS NOT NULL" : " AND escalated_ms IS NULL";
  }
  if (f.assignee) sql += " AND assignee = " + text(*f.assignee);
  sql += " ORDER BY due_ms, case_id LIMIT " + number(f.limit);
  return sql;
}

bool IsStorableText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::string JoinLocations(const std::vector<std::string>& locations) {
  std::string out;
  for (const auto& s : locations) out += (out.empty() ? "" : "\n") + s;
  return out;
}

std::vector<std::string> SplitLocations(const std::string& joined) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (!joined.empty() && start <= joined.size()) {
    std::size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<ResponseRecord> DecodeStoredRecord(const StoredRecord& stored) {
  Result<SignedRecord> envelope = DecodeSignedRecord(stored.envelope);
  if (!envelope.ok()) return envelope.status();
  Result<ResponseRecord> record = DecodeRecord(envelope->record_bytes);
  if (!record.ok()) return record.status();
  AttributeToDevice(&*record, stored.location, stored.channel);
  return record;
}

}  // namespace canvass::server
