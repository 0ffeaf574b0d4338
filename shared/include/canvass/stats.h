// The statistics layer: filter and group a ResponseTable into mergeable counts (metrics.h types)
// that add up exactly, whoever counted them and however the rows were split. No presentation and
// no indices here: report.h computes those, report_format.h prints them, and the statistics cube
// (stats_cube.h) stores these counts per day and tags.
//
// CollectStats() filters (time range [from, to), tags key=value AND-ed) and groups (any tags,
// period day / ISO week / month) a table in one pass of fused histograms; CountStats() is the
// same with loyalty as counts rather than customer keys (what a report needs, and cheaper).
//
// Thread-safety: plain values; the functions only read the table.
//
// [SECTION] Periods and group-by
// [SECTION] Selection and statistics
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canvass/executor.h"
#include "canvass/metrics.h"
#include "canvass/response_table.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

//-----------------------------------------------------------------------------
// [SECTION] Periods and group-by
//-----------------------------------------------------------------------------

enum class Period : int32_t { kDay = 0, kWeek = 1, kMonth = 2 };
const char* PeriodName(Period period);  // "day", "week", "month"

// The label of the period holding `days` (days since 1970-01-01, UTC): "2026-11-22", the ISO
// 8601 week "2026-W47" (weeks start on Monday; week 1 holds the year's first Thursday), "2026-11".
// Labels of one kind sort in time order.
std::string PeriodLabel(Period period, int64_t days);

// One group-by dimension: a tag key, or a period.
struct GroupBy {
  std::string tag;               // empty for a period
  std::optional<Period> period;  // set for a period
  std::string Name() const;      // "location", "period:week"
  bool operator==(const GroupBy&) const = default;
};
// "location" or "period:day" / "period:week" / "period:month". InvalidArgument otherwise.
Result<GroupBy> ParseGroupBy(std::string_view text);

//-----------------------------------------------------------------------------
// [SECTION] Selection and statistics
//-----------------------------------------------------------------------------

// Which rows are counted and how they are grouped. ReportOptions (report.h) adds the rules of the
// indices to it.
struct Selection {
  std::optional<int64_t> from_ms;  // keep offers at from <= time < to (device time, UTC)
  std::optional<int64_t> to_ms;
  std::vector<std::pair<std::string, std::string>> where;  // tag key = value, all must hold
  std::vector<GroupBy> by;                                 // group-by dimensions, in order
};

// Mergeable statistics of one question (metrics.h types). Scales come from the survey, so parts
// built from the same survey always merge.
struct QuestionStats {
  uint64_t answered = 0;
  metrics::ScaleCounts answers;    // nps, rating
  metrics::CsiAttributeStats csi;  // csi_attribute
  metrics::PairedStats pairs;      // csi_attribute: (satisfaction, recommend score) pairs
  std::vector<uint64_t> choices;   // choice kinds: answers per choice, survey order
  uint64_t other = 0;              // choice kinds: answers with "other" text
  uint64_t consent = 0;            // contact: consent given

  Status Merge(const QuestionStats& other);
  bool MergesWith(const QuestionStats& other) const;  // Merge would succeed
  bool operator==(const QuestionStats&) const = default;
};

// Mergeable statistics of one group (or of everything selected).
struct GroupStats {
  metrics::OutcomeCounts outcomes;
  std::vector<QuestionStats> questions;  // survey order
  metrics::CustomerVisits customers;     // every offer with a customer key is a visit

  Status Merge(const GroupStats& other);
  bool operator==(const GroupStats&) const = default;
};
// Empty statistics shaped for `survey` (every scale set).
GroupStats EmptyStats(const Survey& survey);

// One value per GroupBy dimension; "" where the row has no such tag.
using GroupKey = std::vector<std::string>;

struct CollectedStats {
  std::vector<GroupBy> by;
  GroupStats all;                         // everything selected
  std::map<GroupKey, GroupStats> groups;  // empty without a group-by
  uint64_t rows = 0;                      // rows looked at
  uint64_t selected = 0;                  // rows that passed the filters

  // InvalidArgument if the group-bys differ. Otherwise adds `other` group by group.
  Status Merge(const CollectedStats& other);
  bool operator==(const CollectedStats&) const = default;
};

// InvalidArgument for a group-by or filter that makes no sense (a tag key both filtered and
// unknown is fine: it selects nothing). With an executor (native callers), ranges of rows are
// counted side by side and merged; the statistics are the same either way.
Result<CollectedStats> CollectStats(const ResponseTable& table, const Selection& selection,
                                    Executor* executor = nullptr);

// Loyalty of one group as counts: distinct customers, those with two visits or more, visits.
struct LoyaltyCounts {
  uint64_t customers = 0;
  uint64_t returning = 0;
  uint64_t visits = 0;
  bool operator==(const LoyaltyCounts&) const = default;
};
// CollectStats without customer keys (every `customers` is left empty), with each group's
// loyalty counted by customer id instead: what a report needs, without per-customer maps.
struct CountedStats {
  CollectedStats stats;
  LoyaltyCounts all;
  std::map<GroupKey, LoyaltyCounts> groups;
};
Result<CountedStats> CountStats(const ResponseTable& table, const Selection& selection,
                                Executor* executor = nullptr);

}  // namespace canvass
