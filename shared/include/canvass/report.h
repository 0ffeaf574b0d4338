// Reports: every index, ranking, change and driver of one survey's responses, computed from the
// mergeable statistics of stats.h with the metrics engine (DESIGN.md §7). The second layer of the
// core: no counting of rows here (stats.h) and no printing (report_format.h prints a Report as
// JSON, text, CSV or HTML). docs/report.md documents the rules below.
//
// ReportFromStats() computes a Report from collected statistics (a table's, or a cube's);
// BuildReport() counts a table and computes in one go (and counts loyalty without building
// per-customer maps). Reports are deterministic: the same bytes natively and in wasm.
//
// Thread-safety: a report is a plain value; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canvass/executor.h"
#include "canvass/json.h"  // FormatNumber: warnings print numbers as every output does
#include "canvass/metrics.h"
#include "canvass/record.h"
#include "canvass/response_table.h"
#include "canvass/stats.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

// What a report selects (stats.h's Selection) and the rules its indices follow.
struct ReportOptions : Selection {
  metrics::NonResponderTreatment nonresponders = metrics::NonResponderTreatment::kExclude;
  uint64_t min_n = metrics::kDefaultMinGroupN;  // rankings and "too few" warnings
  double min_response_rate = metrics::kDefaultMinResponseRatePercent;  // percent
};

struct NpsSummary {
  std::string question;
  metrics::NpsResult result;
  bool operator==(const NpsSummary&) const = default;
};
struct CsatSummary {
  std::string question;
  metrics::CsatResult result;
  bool operator==(const CsatSummary&) const = default;
};
// CES 2.0 (an agreement scale: mean and share agreeing) or the seeds' 0..10 variant (net score).
struct CesSummary {
  std::string question;
  std::optional<metrics::CesResult> agreement;
  std::optional<metrics::NpsResult> net;
  bool operator==(const CesSummary&) const = default;
};
struct CsiAttributeSummary {
  metrics::CsiAttributeResult result;           // attribute = question id
  metrics::Estimate mean;                       // satisfaction on its own scale
  std::optional<metrics::DriverResult> driver;  // vs the recommend score
  bool operator==(const CsiAttributeSummary&) const = default;
};
struct CsiSummary {
  metrics::CsiResult result;
  std::vector<CsiAttributeSummary> attributes;  // survey order
  std::string drivers_vs;                       // the recommend question ("" = no drivers)
  bool operator==(const CsiSummary&) const = default;
};
struct CliSummary {
  metrics::CliResult result;
  std::string recommend, repurchase, cross_buy;  // question ids used ("" = none)
  bool operator==(const CliSummary&) const = default;
};

// Every index of one group (or of everything selected). Absent optionals: the survey has no
// question with that metric role.
struct Indices {
  metrics::OutcomeCounts outcomes;
  metrics::ResponseRateResult response_rate;
  std::optional<NpsSummary> nps;
  std::optional<CsatSummary> csat;
  std::optional<CesSummary> ces;
  std::optional<CsiSummary> csi;
  std::optional<CliSummary> cli;
  metrics::LoyaltyResult loyalty;
  bool operator==(const Indices&) const = default;
};

// One question over everything selected. With rotate_one delivery each question has its own
// offers (its share of all offers) and its results pool only the customers who were asked it.
struct QuestionSummary {
  std::string id;
  QuestionKind kind = QuestionKind::kRating;
  MetricRole metric = MetricRole::kNone;
  uint64_t offered = 0;
  uint64_t answered = 0;
  metrics::ScaleCounts answers;           // nps, rating; csi: satisfaction
  std::optional<metrics::Estimate> mean;  // scale questions
  std::optional<metrics::NpsResult> net;  // nps, cli.*, ces on 0..10
  std::optional<metrics::CsatResult> csat;
  std::optional<metrics::CesResult> ces;
  std::optional<metrics::CsiAttributeResult> csi;
  std::vector<std::pair<std::string, uint64_t>> choices;  // choice id -> answers
  uint64_t other = 0;
  uint64_t consent = 0;
  bool operator==(const QuestionSummary&) const = default;
};

struct GroupRank {
  std::string index;     // the index ranked: "nps", "csat", "ces", "csi", "cli", "response_rate"
  std::string within;    // the period this ranking is within ("" = all groups)
  int32_t position = 0;  // 1 = best; 0 when too few
  uint64_t of = 0;       // groups ranked together
  bool too_few = false;  // n < min_n: listed, not ranked
  bool operator==(const GroupRank&) const = default;
};
struct GroupChange {
  std::string vs;  // the previous period's label
  std::optional<metrics::Difference> nps, response_rate, csat, ces;
  bool operator==(const GroupChange&) const = default;
};
struct GroupEntry {
  GroupKey key;
  Indices indices;
  std::optional<GroupRank> rank;
  std::optional<GroupChange> change;  // with a period group-by, vs the previous period
  bool operator==(const GroupEntry&) const = default;
};

struct Report {
  std::string survey;
  ReportOptions options;
  uint64_t rows = 0;
  uint64_t selected = 0;
  Indices all;
  std::vector<QuestionSummary> questions;  // survey order
  std::vector<GroupBy> by;
  std::string ranked_by;  // "" when nothing is ranked
  std::vector<GroupEntry> groups;
  std::vector<std::string> warnings;  // in words, for people
};

// The estimate of one index by the names rankings use ("nps", "csat", "ces", "csi", "cli",
// "response_rate"); nullopt when the survey has no such index. Report::ranked_by names one.
std::optional<metrics::Estimate> IndexEstimate(const Indices& indices, std::string_view index);

// The changes of `current` against `previous` (two independent selections, e.g. a period and the
// one before it), by the same rules as a period group's `change`; `vs` is left empty.
// InvalidArgument if the statistics are not shaped for `survey`.
Result<GroupChange> CompareStats(const Survey& survey, const GroupStats& current,
                                 const GroupStats& previous, const ReportOptions& options);

// Every index, ranking, change and driver from collected statistics. `issues` (optional) adds the
// input's refused lines to the warnings.
Result<Report> ReportFromStats(const Survey& survey, const CollectedStats& stats,
                               const ReportOptions& options, const InputIssues* issues = nullptr);
// CollectStats + ReportFromStats in one pass, without per-customer maps; includes the table's
// input issues in the warnings. The executor, if any, as for CollectStats: the same report.
Result<Report> BuildReport(const ResponseTable& table, const ReportOptions& options,
                           Executor* executor = nullptr);
// Convenience: a table from records (other surveys skipped, invalid records refused and warned
// about with their index + 1 as the line number), then BuildReport.
Result<Report> BuildReport(const Survey& survey, const std::vector<ResponseRecord>& records,
                           const ReportOptions& options);

// The selection and rules of `options` grouped by one period only: the second report that
// ReportToHtml draws the trend from. The period is the first among options.by, else the ISO week.
ReportOptions TrendOptions(const ReportOptions& options);
// True when `report` is grouped by one period and nothing else: it is its own trend report.
bool IsTrendReport(const Report& report);

}  // namespace canvass
