// GET /v1/admin/report: the shared/ report of one survey — the same code, options and JSON as
// `canvass report` (docs/report.md), so a manager's export run through the CLI and the server's
// own report agree figure for figure. format=html is the page of ReportToHtml, with its
// per-period trend report computed here from the same data.
//
// The report is computed from the statistics cube the dashboard reads (stats_projection.h) when
// the cube can answer it: a time range on whole UTC days, filters and group-bys on the cube's
// tags and periods, cells complete for the latest definition, and no record refused by that
// definition (the report over the records would name those in its warnings). Otherwise — other
// tags, times within a day, no projector (tests calling Api directly) — it is counted from the
// stored records. Both give the same report byte for byte (tests/unit/report_endpoint_test.cpp).
#include <algorithm>
#include <optional>

#include "api.h"
#include "canvass/interchange.h"
#include "canvass/record.h"
#include "canvass/report_format.h"
#include "canvass/stats_cube.h"
#include "canvass/survey.h"
#include "published.h"
#include "stats_projection.h"
#include "thread_executor.h"

namespace canvass::server {
namespace {

// True when the statistics cube holds what `options` select and group by.
bool CubeAnswers(const ReportOptions& options) {
  constexpr int64_t kDayMs = 86400000;
  auto whole_day = [](const std::optional<int64_t>& ms) { return !ms || *ms % kDayMs == 0; };
  auto cube_tag = [](const std::string& tag) {
    return std::find(kCubeTags.begin(), kCubeTags.end(), tag) != kCubeTags.end();
  };
  if (!whole_day(options.from_ms) || !whole_day(options.to_ms)) return false;
  for (const auto& [key, value] : options.where) {
    if (!cube_tag(key)) return false;
  }
  for (const GroupBy& g : options.by) {
    if (!g.period && !cube_tag(g.tag)) return false;
  }
  return true;
}

// The projection's cube of `latest` (a manager's: the cells of their locations), if it is complete
// for that definition and no record was refused; nullopt otherwise. The projection is current.
Result<std::optional<StatsCube>> ProjectedReportCube(ServerStore* store, const SurveyRow& latest,
                                                     const Principal* who) {
  Result<std::optional<uint64_t>> refused =
      ProjectedRefusals(store, latest.survey_id, latest.version);
  if (!refused.ok()) return refused.status();
  if (!*refused || **refused != 0) return std::optional<StatsCube>();
  Result<StatsCube> empty = StatsCube::ForDefinition(latest.definition);
  if (!empty.ok()) return empty.status();
  Result<std::optional<StatsCube>> projected =
      ProjectedCube(store, latest.survey_id, latest.version, *empty);
  if (!projected.ok() || !*projected || !who) return projected;
  // A manager's report: the cells of their locations only, as the records path reads them.
  StatsCube mine = std::move(*empty);
  for (const auto& [key, stats] : (*projected)->cells()) {
    if (key.tags[0].empty() || !CanAccess(*who, key.tags[0])) continue;
    if (Status s = mine.AddCell(key, stats); !s.ok()) return s;
  }
  return std::optional<StatsCube>(std::move(mine));
}

// The survey's records (a manager's: their locations only) as a table, as `canvass report` reads
// an export.
Result<ResponseTable> ReadTable(ServerStore* store, const Survey& survey, const Principal* who) {
  std::vector<ResponseRecord> records;
  Status s = store->ForEachRecord([&](const StoredRecord& stored) -> Status {
    Result<ResponseRecord> record = DecodeStoredRecord(stored);
    if (!record.ok()) return record.status();
    if (record->survey_id != survey.id) return Status::Ok();
    if (who) {  // a manager's report: their locations only
      auto location = record->tags.find("location");
      if (location == record->tags.end() || !CanAccess(*who, location->second)) return Status::Ok();
    }
    records.push_back(std::move(*record));
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("report");
  ResponseTable table(survey);
  table.Reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    // A stored record the latest definition refuses is counted and named in the warnings.
    (void)table.Add(records[i], i + 1);
  }
  return table;
}

}  // namespace

HttpResponse Api::Report(const HttpRequest& r, const Principal* who) {
  auto one = [&](const char* key) -> std::string {
    auto it = r.query.find(key);
    return it == r.query.end() ? std::string() : it->second;
  };
  const std::string survey_id = one("survey");
  if (survey_id.empty()) {
    return ErrorResponse(400, "invalid_argument", "survey: name the survey (?survey=restaurant)");
  }
  ReportOptions options;
  if (std::string from = one("from"); !from.empty()) {
    Result<std::int64_t> ms = ParseIsoTime(from);
    if (!ms.ok()) return StatusResponse(ms.status().WithContext("from"));
    options.from_ms = *ms;
  }
  if (std::string to = one("to"); !to.empty()) {
    Result<std::int64_t> ms = ParseIsoTime(to);
    if (!ms.ok()) return StatusResponse(ms.status().WithContext("to"));
    options.to_ms = *ms;
  }
  auto [where_begin, where_end] = r.query.equal_range("where");
  for (auto it = where_begin; it != where_end; ++it) {
    auto eq = it->second.find('=');
    if (eq == std::string::npos || eq == 0) {
      return ErrorResponse(400, "invalid_argument",
                           "where: use tag=value, e.g. where=location=Kyiv");
    }
    options.where.emplace_back(it->second.substr(0, eq), it->second.substr(eq + 1));
  }
  auto [by_begin, by_end] = r.query.equal_range("by");
  for (auto it = by_begin; it != by_end; ++it) {
    Result<GroupBy> by = ParseGroupBy(it->second);
    if (!by.ok()) return StatusResponse(by.status().WithContext("by"));
    options.by.push_back(*by);
  }
  if (std::string n = one("nonresponders"); !n.empty()) {
    if (n == "exclude")
      options.nonresponders = metrics::NonResponderTreatment::kExclude;
    else if (n == "as_passive")
      options.nonresponders = metrics::NonResponderTreatment::kAsPassive;
    else if (n == "as_detractor")
      options.nonresponders = metrics::NonResponderTreatment::kAsDetractor;
    else {
      return ErrorResponse(400, "invalid_argument",
                           "nonresponders: exclude, as_passive or as_detractor");
    }
  }
  if (std::string n = one("min_n"); !n.empty()) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(n.c_str(), &end, 10);
    if (*end || n[0] == '-' || v > 1000000) {
      return ErrorResponse(400, "invalid_argument", "min_n: a whole number up to 1000000");
    }
    options.min_n = v;
  }
  std::string format = one("format");
  if (format.empty()) format = "json";
  if (format != "json" && format != "table" && format != "csv" && format != "html") {
    return ErrorResponse(400, "invalid_argument", "format: json, table, csv or html");
  }

  // The latest published definition reads records of every earlier version of the survey.
  Result<std::vector<SurveyRow>> surveys = store_->ListSurveys();
  if (!surveys.ok()) return StatusResponse(surveys.status());
  const SurveyRow* latest = LatestVersion(*surveys, survey_id);
  if (!latest) return ErrorResponse(404, "not_found", "no published survey '" + survey_id + "'");
  Result<Survey> survey = ParseSurvey(latest->definition);
  if (!survey.ok()) return StatusResponse(survey.status());

  std::optional<StatsCube> cube;
  if (CubeAnswers(options) && options_.projector && options_.definitions) {
    options_.definitions->Update(*surveys);  // another server may have published since
    Result<bool> current = ProjectionCurrent();
    if (!current.ok()) return StatusResponse(current.status());
    if (*current) {
      Result<std::optional<StatsCube>> projected = ProjectedReportCube(store_, *latest, who);
      if (!projected.ok()) return StatusResponse(projected.status().WithContext("report"));
      cube = std::move(*projected);
    }
  }
  std::optional<ResponseTable> table;  // read from the records when the cube cannot answer
  ThreadExecutor executor;             // the rows are counted on every core (the same report)
  auto compute = [&](const ReportOptions& o) -> Result<canvass::Report> {
    if (cube) {
      Result<CollectedStats> stats = CollectFromCube(*cube, o);
      if (!stats.ok()) return stats.status();
      return ReportFromStats(*survey, *stats, o);
    }
    if (!table) {
      Result<ResponseTable> read = ReadTable(store_, *survey, who);
      if (!read.ok()) return read.status();
      table = std::move(*read);
    }
    return BuildReport(*table, o, &executor);
  };
  Result<canvass::Report> report = compute(options);
  if (!report.ok()) return StatusResponse(report.status());
  HttpResponse out;
  if (format == "html") {
    std::optional<canvass::Report> trend;
    if (!IsTrendReport(*report)) {
      Result<canvass::Report> t = compute(TrendOptions(options));
      if (!t.ok()) return StatusResponse(t.status());
      trend = std::move(*t);
    }
    out.content_type = "text/html; charset=utf-8";
    // The page has no scripts and loads nothing; say so to the browser too.
    out.headers.emplace_back("Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'");
    out.headers.emplace_back("Content-Disposition",
                             "inline; filename=\"" + survey_id + "-report.html\"");
    out.body = ReportToHtml(*report, trend ? &*trend : nullptr, *survey);
  } else if (format == "json") {
    out.body = ReportToJson(*report);
  } else if (format == "table") {
    out.content_type = "text/plain; charset=utf-8";
    out.body = ReportToTable(*report);
  } else {
    out.content_type = "text/csv; charset=utf-8";
    out.body = ReportToCsv(*report);
  }
  return out;
}

}  // namespace canvass::server
