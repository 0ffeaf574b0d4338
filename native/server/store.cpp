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

ServerStore::ServerStore(std::unique_ptr<SqlDb> db)
    : OwnedSqlDb(std::move(db)),
      SettingsStore(*owned_db),
      DeviceRegistry(*owned_db),
      RecordLog(*owned_db),
      ProjectionQueue(*owned_db),
      UserStore(*owned_db),
      CaseStore(*owned_db),
      WebhookOutbox(*owned_db) {}

Status ServerStore::Ping() {
  bool answered = false;
  Status s = owned_db->Query("SELECT 1", {}, "ping", [&](const SqlRow&) { answered = true; });
  if (s.ok() && !answered) return Status::IoError("ping: no answer");
  return s;
}

Result<std::unique_ptr<ServerStore>> OpenSqliteStore(const std::string& path,
                                                     std::uint32_t max_db_mb) {
  Result<std::unique_ptr<SqlDb>> db = OpenSqliteDb(path, max_db_mb);
  if (!db.ok()) return db.status();
  if (Status s = MigrateSchema(**db); !s.ok()) return s.WithContext(path);
  return std::make_unique<ServerStore>(std::move(*db));
}

Result<std::unique_ptr<ServerStore>> OpenPostgresStore(const std::string& url) {
  Result<std::unique_ptr<SqlDb>> db = OpenPostgresDb(url);
  if (!db.ok()) return db.status();
  // Not reaching the server is said as it is; what goes wrong after, with where.
  if (Status s = (*db)->Query("SELECT 1", {}, "connect", [](const SqlRow&) {}); !s.ok()) return s;
  if (Status s = MigrateSchema(**db); !s.ok()) {
    return s.WithContext("PostgreSQL at " + RedactPostgresUrl(url));
  }
  return std::make_unique<ServerStore>(std::move(*db));
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

Result<ResponseRecord> DecodeStoredRecord(const StoredRecord& stored) {
  Result<SignedRecord> envelope = DecodeSignedRecord(stored.envelope);
  if (!envelope.ok()) return envelope.status();
  Result<ResponseRecord> record = DecodeRecord(envelope->record_bytes);
  if (!record.ok()) return record.status();
  AttributeToDevice(&*record, stored.location, stored.channel);
  return record;
}

}  // namespace canvass::server
