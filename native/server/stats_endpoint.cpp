// GET /v1/admin/stats: the statistics cube of one survey (shared/include/canvass/stats_cube.h),
// the mergeable statistics per (day, location, staff, channel, segment) that the dashboard
// filters and groups in the browser. The cube's bytes carry the latest published definition of
// the survey, which is also the definition GET /v1/admin/report reads the records with, so a
// dashboard figure and the report's agree for the same filter (docs/dashboard.md).
//
// The cube is built on demand from the stored records, with the same reader and counting as the
// report. ETag: the BLAKE2b of the bytes; a dashboard that polls gets 304 until something changes.
#include "api.h"
#include "canvass/crypto.h"
#include "canvass/record.h"
#include "canvass/stats_cube.h"

namespace canvass::server {

HttpResponse Api::Stats(const HttpRequest& r) {
  auto it = r.query.find("survey");
  const std::string survey_id = it == r.query.end() ? std::string() : it->second;
  if (survey_id.empty()) {
    return ErrorResponse(400, "invalid_argument", "survey: name the survey (?survey=restaurant)");
  }
  Result<std::vector<SurveyRow>> surveys = store_->ListSurveys();
  if (!surveys.ok()) return StatusResponse(surveys.status());
  const SurveyRow* latest = nullptr;
  for (const SurveyRow& s : *surveys) {
    if (s.survey_id == survey_id) latest = &s;
  }
  if (!latest) return ErrorResponse(404, "not_found", "no published survey '" + survey_id + "'");
  Result<StatsCube> cube = StatsCube::ForDefinition(latest->definition);
  if (!cube.ok()) return StatusResponse(cube.status());

  std::vector<ResponseRecord> records;
  Status s = store_->ForEachRecord([&](const StoredRecord& stored) -> Status {
    Result<SignedRecord> envelope = DecodeSignedRecord(stored.envelope);
    if (!envelope.ok()) return envelope.status();
    Result<ResponseRecord> record = DecodeRecord(envelope->record_bytes);
    if (!record.ok()) return record.status();
    if (record->survey_id == survey_id) records.push_back(std::move(*record));
    return Status::Ok();
  });
  if (!s.ok()) return StatusResponse(s.WithContext("stats"));
  // Records the latest definition refuses are left out, as the report leaves them out.
  if (Status added = cube->AddRecords(records); !added.ok()) return StatusResponse(added);

  HttpResponse out;
  out.content_type = "application/octet-stream";
  out.body = EncodeStatsCube(*cube);
  const std::string etag = "\"" + ToHex(Blake2b256(out.body)).substr(0, 32) + "\"";
  out.headers.emplace_back("ETag", etag);
  auto inm = r.headers.find("if-none-match");
  if (inm != r.headers.end() && inm->second == etag) {
    out.status = 304;
    out.body.clear();
  }
  return out;
}

}  // namespace canvass::server
