// The dashboard's model: the statistics cubes it has loaded (one per survey), the filter, and
// every figure the dashboard shows, computed by the shared engine — CollectFromCube() and
// ReportFromStats() for the indices, report.h's CompareStats() and metrics' difference functions
// for the changes against the previous period. No ImGui and no browser calls: ui.cpp draws the
// figures, api.cpp feeds the model and answers the JS test hook. docs/dashboard.md.
//
// Figures are recomputed only when the filter or a cube changed (Figures() is cheap otherwise).
// Not thread-safe; the browser's main thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/metrics.h"
#include "canvass/report.h"
#include "canvass/stats_cube.h"

namespace canvass::dashboard {

inline constexpr int kTagCount = static_cast<int>(kCubeTags.size());

struct Filter {
  std::string survey;
  int64_t from_day = 0;                            // inclusive, UTC days since 1970-01-01
  int64_t to_day = 0;                              // inclusive
  std::array<std::string, kCubeTags.size()> tags;  // kCubeTags order; "" = every value
  Period trend = Period::kWeek;                    // the NPS trend's period
  int group_by = 0;                                // the groups chart: index into kCubeTags
  bool operator==(const Filter&) const = default;
};

// One change against the previous period of equal length.
using Change = std::optional<metrics::Difference>;

struct Figures {
  bool ready = false;     // a cube for the filter's survey is loaded and the figures computed
  std::string error;      // why not, when not ready and not just loading
  ReportOptions options;  // the current filter as report options (the server's query)
  ReportOptions previous_options;  // the previous period of equal length, same tags
  Report current;                  // everything selected
  Report previous;
  Report trend;        // by the filter's period
  Report groups;       // by the filter's group-by tag
  GroupChange change;  // nps, response_rate, csat, ces vs the previous period
  Change csi_index, csi_score, cli, loyalty;
  metrics::QuadrantSplit split;  // of the current CSI drivers
  double compute_ms = 0;         // the last recomputation
};

class Model {
 public:
  // Decodes a cube (GET /v1/admin/stats) and keeps it as its survey's; the first cube also sets
  // the default filter (that survey, the last 30 days with data). Corruption if it does not decode.
  // Returns the cube as kept.
  Result<const StatsCube*> LoadCube(std::string_view bytes, double* decode_ms = nullptr);
  // The surveys the server has (GET /v1/admin/surveys), in its order; cubes come separately.
  void SetSurveys(std::vector<std::string> ids);
  const std::vector<std::string>& surveys() const { return surveys_; }
  bool HasCube(const std::string& survey) const { return cubes_.count(survey) > 0; }
  // The cube of the filter's survey, or null while it is not loaded.
  const StatsCube* cube() const;

  const Filter& filter() const { return filter_; }
  void SetFilter(const Filter& filter);
  // Shortcuts the UI calls.
  void SelectSurvey(const std::string& survey);  // keeps the period; clears the tag filters
  void SetTag(int tag, const std::string& value);
  void SetPreset(int days);  // the last `days` days with data; 0 = every day with data
  void ShiftFrom(int days);
  void ShiftTo(int days);
  int PresetDays() const;  // the preset the filter matches (7, 30, 90, 0 = all), or -1

  // First and last day with data in the filter's survey (0, -1 when none).
  int64_t FirstDay() const;
  int64_t LastDay() const;
  // The values of a tag in the cube, among the cells that pass the other tags' filters (any day).
  std::vector<std::string> TagValues(int tag) const;

  const Figures& figures();

 private:
  void Recompute();

  std::vector<std::string> surveys_;
  std::map<std::string, StatsCube> cubes_;
  Filter filter_;
  Figures figures_;
  int preset_ = 30;  // the last preset chosen, for the next survey shown
  bool dirty_ = true;
};

// "2026-11-22" for a day number, and the report query (?survey=...&from=...&to=...&where=...)
// the server answers with the same figures.
std::string DayLabel(int64_t day);
std::string ReportQuery(const Filter& filter);

}  // namespace canvass::dashboard
