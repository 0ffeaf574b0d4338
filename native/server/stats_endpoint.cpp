// GET /v1/admin/stats: the statistics cube of one survey (shared/include/canvass/stats_cube.h),
// the mergeable statistics per (day, location, staff, channel, segment) that the dashboard
// filters and groups in the browser. The cube's bytes carry the latest published definition of
// the survey, which is also the definition GET /v1/admin/report reads the records with, so a
// dashboard figure and the report's agree for the same filter (docs/dashboard.md).
//
// The cells come from the statistics projection (stats_projection.h), brought up to date first
// (Projector::CatchUp), when they were all counted with that definition. Otherwise — no projector
// (tests calling Api directly), records older than the latest definition, records of a survey
// published after they came — the cube is counted from the stored records, with the same reader
// and counting as the report, and kept in memory until a record arrives or the definition changes.
// ETag: the BLAKE2b of the bytes; a dashboard that polls gets 304 until something changes. Gzipped
// for clients that accept it.
//
// Every role may call it. The owner gets every cell; a manager or staff member only the cells of
// their locations (a cell's location tag), so no other location's statistics or customer keys
// leave the server for their browser, and a survey published for none of their locations is
// unknown to them (404), as in GET /v1/admin/surveys.
#include <chrono>

#include "api.h"
#include "canvass/crypto.h"
#include "canvass/record.h"
#include "canvass/stats_cube.h"
#include "projector.h"
#include "published.h"
#include "static_files.h"
#include "stats_projection.h"

namespace canvass::server {

// The last cube counted from the records, per survey.
struct Api::StatsCache {
  struct Entry {
    Hash256 version{};
    std::uint64_t records = 0;  // records in the store when it was counted
    std::string bytes;
  };
  std::mutex mu;
  std::map<std::string, Entry> by_survey;
};

namespace {

// How long GET /v1/admin/stats waits for a batch in flight before it counts from the records.
constexpr auto kProjectionWait = std::chrono::milliseconds(500);

Result<std::string> CountFromRecords(ServerStore* store, const std::string& survey_id,
                                     const StatsCube& empty) {
  std::vector<ResponseRecord> records;
  Status s = store->ForEachRecord([&](const StoredRecord& stored) -> Status {
    Result<ResponseRecord> record = DecodeStoredRecord(stored);
    if (!record.ok()) return record.status();
    if (record->survey_id == survey_id) records.push_back(std::move(*record));
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("stats");
  StatsCube cube = empty;
  // Records the latest definition refuses are left out, as the report leaves them out.
  if (Status added = cube.AddRecords(records); !added.ok()) return added;
  return EncodeStatsCube(cube);
}

// The cells of `cube` at locations `who` works at (cells without a location tag belong to none).
Result<std::string> CellsOfLocations(const StatsCube& cube, const Principal& who) {
  Result<StatsCube> only = StatsCube::ForDefinition(cube.definition());
  if (!only.ok()) return only.status();
  for (const auto& [key, stats] : cube.cells()) {
    if (key.tags[0].empty() || !CanAccess(who, key.tags[0])) continue;
    if (Status s = only->AddCell(key, stats); !s.ok()) return s.WithContext("stats");
  }
  return EncodeStatsCube(*only);
}

}  // namespace

Result<bool> Api::ProjectionCurrent() {
  // CatchUp projects what this thread can claim. A batch another thread is applying right now
  // (or another server: PostgreSQL skips rows locked by others) is waited for, woken by each
  // batch this server's projector applies, until the request's deadline; if it is still in
  // flight then, the cube is counted from the records instead.
  const auto deadline = std::chrono::steady_clock::now() + kProjectionWait;
  for (;;) {
    const std::uint64_t seen = options_.projector->projected();
    if (Status s = options_.projector->CatchUp(); !s.ok()) return s;
    Result<std::uint64_t> pending = store_->CountPending(StatsProjection::kName);
    if (!pending.ok()) return pending.status();
    if (*pending == 0) return true;
    if (std::chrono::steady_clock::now() >= deadline ||
        !options_.projector->WaitProjected(seen, deadline)) {
      return false;
    }
  }
}

HttpResponse Api::Stats(const HttpRequest& r, const Principal& who) {
  auto it = r.query.find("survey");
  const std::string survey_id = it == r.query.end() ? std::string() : it->second;
  if (survey_id.empty()) {
    return ErrorResponse(400, "invalid_argument", "survey: name the survey (?survey=restaurant)");
  }
  Result<std::vector<SurveyRow>> surveys = store_->ListSurveys();
  if (!surveys.ok()) return StatusResponse(surveys.status());
  const SurveyRow* latest = LatestVersion(*surveys, survey_id);
  if (!latest || !CanAccessAny(who, latest->locations)) {
    return ErrorResponse(404, "not_found", "no published survey '" + survey_id + "'");
  }
  Result<StatsCube> empty = StatsCube::ForDefinition(latest->definition);
  if (!empty.ok()) return StatusResponse(empty.status());

  std::optional<std::string> bytes;
  if (options_.projector && options_.definitions) {
    // Another server may have published since: count from now on with what the store says.
    options_.definitions->Update(*surveys);
    Result<bool> current = ProjectionCurrent();
    if (!current.ok()) return StatusResponse(current.status());
    if (*current) {
      Result<std::optional<StatsCube>> projected =
          ProjectedCube(store_, survey_id, latest->version, *empty);
      if (!projected.ok()) return StatusResponse(projected.status().WithContext("stats"));
      if (*projected) bytes = EncodeStatsCube(**projected);
    }
  }
  if (!bytes) {
    std::call_once(stats_cache_once_, [this] { stats_cache_ = std::make_shared<StatsCache>(); });
    Result<std::uint64_t> count = store_->CountRecords();
    if (!count.ok()) return StatusResponse(count.status());
    {
      std::lock_guard lock(stats_cache_->mu);
      auto hit = stats_cache_->by_survey.find(survey_id);
      if (hit != stats_cache_->by_survey.end() && hit->second.version == latest->version &&
          hit->second.records == *count) {
        bytes = hit->second.bytes;
      }
    }
    if (!bytes) {
      Result<std::string> counted = CountFromRecords(store_, survey_id, *empty);
      if (!counted.ok()) return StatusResponse(counted.status());
      bytes = std::move(*counted);
      std::lock_guard lock(stats_cache_->mu);
      stats_cache_->by_survey[survey_id] = {latest->version, *count, *bytes};
    }
  }

  if (who.role != Role::kOwner) {
    // Decoded again rather than filtered in each path above: the cube counted from the records
    // is cached as bytes, and decoding is a few milliseconds (docs/dashboard.md, Figures).
    Result<StatsCube> whole = DecodeStatsCube(*bytes);
    if (!whole.ok()) return StatusResponse(whole.status().WithContext("stats"));
    Result<std::string> mine = CellsOfLocations(*whole, who);
    if (!mine.ok()) return StatusResponse(mine.status());
    bytes = std::move(*mine);
  }

  HttpResponse out;
  out.content_type = "application/octet-stream";
  out.body = std::move(*bytes);
  const std::string etag = "\"" + ToHex(Blake2b256(out.body)).substr(0, 32) + "\"";
  out.headers.emplace_back("ETag", etag);
  out.headers.emplace_back("Vary", "Accept-Encoding");
  auto inm = r.headers.find("if-none-match");
  if (inm != r.headers.end() && inm->second == etag) {
    out.status = 304;
    out.body.clear();
    return out;
  }
  // Counts compress well (the demo's cube: 150 KB, 54 KB gzipped); the HTTP layer leaves
  // application/octet-stream alone, so it is gzipped here for clients that take it.
  auto accepts = r.headers.find("accept-encoding");
  if (accepts != r.headers.end() && accepts->second.find("gzip") != std::string::npos) {
    std::string packed = Gzip(out.body);
    if (!packed.empty() && packed.size() < out.body.size()) {
      out.body = std::move(packed);
      out.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  return out;
}

}  // namespace canvass::server
