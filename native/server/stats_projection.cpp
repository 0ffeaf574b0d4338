#include "stats_projection.h"

#include <algorithm>
#include <cstring>

#include "canvass/record.h"
#include "published.h"

namespace canvass::server {
namespace {

// Keys of the projection's state. A survey id never holds a 0 byte, so "<kind><survey>\0" ends
// the survey part of every key and one survey's keys are never a prefix of another's.
//   "c" survey \0 version(32) cell  -> EncodeCubeCell (cell: the day, then each tag, sortable)
//   "v" survey \0                   -> the definition versions cells were counted with (32 each)
//   "u" survey \0                   -> "1": records came while no definition was known
//   "r" survey \0 version(32)       -> records that definition refused (8 bytes, big-endian),
//                                      kept since cells were first counted with that version
std::string SurveyKey(char kind, const std::string& survey_id) {
  return std::string(1, kind) + survey_id + std::string(1, '\0');
}

std::string CellsPrefix(const std::string& survey_id, const Hash256& version) {
  return SurveyKey('c', survey_id) +
         std::string(reinterpret_cast<const char*>(version.data()), version.size());
}

void BigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string CellKeyBytes(const CubeCellKey& key) {
  std::string out;
  BigEndian(&out, static_cast<uint64_t>(key.day) ^ (uint64_t{1} << 63), 8);  // sorts as signed
  for (const std::string& tag : key.tags) {
    BigEndian(&out, tag.size(), 4);
    out += tag;
  }
  return out;
}

std::string RefusedKey(const std::string& survey_id, const Hash256& version) {
  return SurveyKey('r', survey_id) +
         std::string(reinterpret_cast<const char*>(version.data()), version.size());
}

std::string CountBytes(uint64_t count) {
  std::string out;
  BigEndian(&out, count, 8);
  return out;
}

uint64_t ParseCount(const std::string& value) {
  uint64_t v = 0;
  for (char c : value) v = v << 8 | static_cast<unsigned char>(c);
  return v;
}

std::vector<Hash256> ParseVersions(const std::string& value) {
  std::vector<Hash256> out;
  for (std::size_t at = 0; at + 32 <= value.size(); at += 32) {
    Hash256 v{};
    std::memcpy(v.data(), value.data() + at, 32);
    out.push_back(v);
  }
  return out;
}

}  // namespace

void SurveyDefinitions::Update(const std::vector<SurveyRow>& rows) {
  const std::map<std::string, const SurveyRow*> last = LatestVersions(rows);
  std::lock_guard lock(mu_);
  for (const auto& [id, row] : last) {
    auto it = latest_.find(id);
    if (it != latest_.end() && it->second.version == row->version) continue;
    Result<StatsCube> empty = StatsCube::ForDefinition(row->definition);
    if (!empty.ok()) continue;  // published definitions parse; nothing to count with otherwise
    latest_.insert_or_assign(
        id, Latest{row->version, std::make_shared<const StatsCube>(std::move(*empty))});
  }
}

Status SurveyDefinitions::Refresh(ServerStore* store) {
  Result<std::vector<SurveyRow>> rows = store->ListSurveys();
  if (!rows.ok()) return rows.status();
  Update(*rows);
  return Status::Ok();
}

std::optional<SurveyDefinitions::Latest> SurveyDefinitions::Find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = latest_.find(id);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

Status StatsProjection::Digest(const std::vector<StoredRecord>& records) {
  counted_.clear();
  digested_.clear();
  std::map<std::string, std::vector<ResponseRecord>> by_survey;
  for (const StoredRecord& stored : records) {
    // The server verified every record before storing it; one that does not decode now has
    // nothing to count (skipped, as the report skips it).
    Result<ResponseRecord> record = DecodeStoredRecord(stored);
    if (!record.ok()) continue;
    by_survey[record->survey_id].push_back(std::move(*record));
  }
  for (auto& [survey_id, survey_records] : by_survey) {
    Counted c{survey_id, definitions_->Find(survey_id), std::nullopt};
    if (c.latest) {
      c.batch = *c.latest->empty;
      // Records the definition refuses are left out, as the report leaves them out.
      InputIssues issues;
      if (Status s = c.batch->AddRecords(survey_records, &issues); !s.ok()) return s;
      c.refused = issues.refused;
    }
    counted_.push_back(std::move(c));
  }
  digested_ = BatchName(records);
  return Status::Ok();
}

Status StatsProjection::Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) {
  // The store hands Apply the records it gave Digest; anything else is digested here.
  if (digested_.empty() || digested_ != BatchName(records)) {
    if (Status s = Digest(records); !s.ok()) return s;
  }
  digested_.clear();  // this Apply uses it up (a retried transaction digests again)
  for (const Counted& c : counted_) {
    const std::string& survey_id = c.survey_id;
    if (!c.latest) {
      // Not published (yet): these records are in no cell, so the cells are not the whole.
      if (Status s = txn.PutValue(SurveyKey('u', survey_id), "1"); !s.ok()) return s;
      continue;
    }
    const StatsCube& batch = *c.batch;
    const SurveyDefinitions::Latest& latest = *c.latest;

    const std::string versions_key = SurveyKey('v', survey_id);
    Result<std::optional<std::string>> versions = txn.GetValue(versions_key);
    if (!versions.ok()) return versions.status();
    std::vector<Hash256> known = ParseVersions(versions->value_or(""));
    const std::string refused_key = RefusedKey(survey_id, latest.version);
    if (std::find(known.begin(), known.end(), latest.version) == known.end()) {
      std::string value = versions->value_or("");
      value.append(reinterpret_cast<const char*>(latest.version.data()), latest.version.size());
      if (Status s = txn.PutValue(versions_key, value); !s.ok()) return s;
      // The count starts with the version's first cells; without it, nobody knows.
      if (Status s = txn.PutValue(refused_key, CountBytes(c.refused)); !s.ok()) return s;
    } else if (c.refused > 0) {
      Result<std::optional<std::string>> held = txn.GetValue(refused_key);
      if (!held.ok()) return held.status();
      if (*held) {
        const std::string value = CountBytes(ParseCount(**held) + c.refused);
        if (Status s = txn.PutValue(refused_key, value); !s.ok()) return s;
      }
    }

    const Survey& survey = batch.survey();
    const std::string prefix = CellsPrefix(survey_id, latest.version);
    for (const auto& [key, stats] : batch.cells()) {
      const std::string cell_key = prefix + CellKeyBytes(key);
      Result<std::optional<std::string>> old = txn.GetValue(cell_key);
      if (!old.ok()) return old.status();
      GroupStats merged = stats;
      if (*old) {
        Result<std::pair<CubeCellKey, GroupStats>> held = DecodeCubeCell(survey, **old);
        // Cells are only ever written here, with this definition: damage is a storage failure.
        if (!held.ok()) return held.status().WithContext("stored statistics cell");
        if (Status s = merged.Merge(held->second); !s.ok()) return s;
      }
      if (Status s = txn.PutValue(cell_key, EncodeCubeCell(survey, key, merged)); !s.ok()) {
        return s;
      }
    }
  }
  return Status::Ok();
}

Result<std::optional<StatsCube>> ProjectedCube(ServerStore* store, const std::string& survey_id,
                                               const Hash256& version, const StatsCube& empty) {
  bool unknown = false;
  std::vector<Hash256> versions;
  Status s = store->ForEachValue(StatsProjection::kName, SurveyKey('u', survey_id),
                                 [&](const std::string&, const std::string&) {
                                   unknown = true;
                                   return Status::Ok();
                                 });
  if (s.ok()) {
    s = store->ForEachValue(StatsProjection::kName, SurveyKey('v', survey_id),
                            [&](const std::string&, const std::string& value) {
                              versions = ParseVersions(value);
                              return Status::Ok();
                            });
  }
  if (!s.ok()) return s;
  if (unknown || (!versions.empty() && (versions.size() != 1 || versions[0] != version))) {
    return std::optional<StatsCube>();
  }
  StatsCube cube = empty;
  s = store->ForEachValue(StatsProjection::kName, CellsPrefix(survey_id, version),
                          [&](const std::string&, const std::string& value) -> Status {
                            Result<std::pair<CubeCellKey, GroupStats>> cell =
                                DecodeCubeCell(cube.survey(), value);
                            if (!cell.ok())
                              return cell.status().WithContext("stored statistics cell");
                            return cube.AddCell(cell->first, cell->second);
                          });
  if (!s.ok()) return s;
  return std::optional<StatsCube>(std::move(cube));
}

Result<std::optional<uint64_t>> ProjectedRefusals(ServerStore* store, const std::string& survey_id,
                                                  const Hash256& version) {
  std::optional<uint64_t> refused;
  Status s = store->ForEachValue(StatsProjection::kName, RefusedKey(survey_id, version),
                                 [&](const std::string&, const std::string& value) {
                                   refused = ParseCount(value);
                                   return Status::Ok();
                                 });
  if (!s.ok()) return s;
  return refused;
}

}  // namespace canvass::server
