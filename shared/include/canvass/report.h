// Reports: filter, group and summarise the responses to one survey with the metrics engine
// (DESIGN.md §7). docs/report.md documents the JSON format and the rules below.
//
// ResponseTable holds the offers of one survey as columns (struct of arrays): outcome, time, each
// tag key as ids into its own string dictionary, the customer key likewise, and one column per
// question (scale answers as int8 offsets from the scale's minimum, -1 = no answer). It is filled
// from parsed records or straight from JSON Lines; every refused line is counted with its number
// and reason, and the rest are used.
//
// CollectStats() filters (time range [from, to), tags key=value AND-ed) and groups (any tags,
// period day / ISO week / month) the table into mergeable metrics statistics; ReportFromStats()
// computes every index from them. BuildReport() is both in one (and counts loyalty without
// building per-customer maps). ReportToJson / ReportToTable / ReportToCsv / ReportToHtml print a
// Report (ReportToHtml lives in report_html.cpp); the output is byte-identical natively and in
// wasm (our own number formatting, ordered containers).
//
// Thread-safety: a table and a report are plain values; concurrent reads are safe.
//
// [SECTION] Periods and group-by
// [SECTION] Response table
// [SECTION] Statistics
// [SECTION] Report
// [SECTION] Output
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "canvass/executor.h"
#include "canvass/json.h"  // FormatNumber
#include "canvass/metrics.h"
#include "canvass/record.h"
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
// [SECTION] Response table
//-----------------------------------------------------------------------------

inline constexpr int8_t kNoAnswer = -1;
// The most refused lines a table lists by number (all are counted).
inline constexpr std::size_t kMaxListedIssues = 20;

// Strings of one kind (a tag's values, customer keys) as dense ids. Id 0 means "absent"; the
// string of id i > 0 is values[i - 1]. Ids follow first appearance, so they are deterministic.
class Dictionary {
 public:
  uint32_t Intern(const std::string& value);  // "" -> 0
  std::optional<uint32_t> Find(const std::string& value) const;
  const std::string& Value(uint32_t id) const { return values_[id - 1]; }  // id > 0
  uint32_t Size() const { return static_cast<uint32_t>(values_.size()); }  // ids 1..Size()

 private:
  std::vector<std::string> values_;
  std::unordered_map<std::string, uint32_t> ids_;  // looked up, never iterated
};

// One question's answers. Which vectors are filled depends on the question's kind.
struct QuestionColumn {
  // nps, rating: answer - scale.min; csi_attribute: satisfaction - scale.min; text: 0 answered;
  // single/multi choice: 0 answered, 1 answered with "other" text; contact: consent 0 / 1.
  // kNoAnswer when not answered.
  std::vector<int8_t> value;
  std::vector<int8_t> importance;  // csi_attribute: 0/1 (binary) or rating - importance.min
  std::vector<uint64_t> choices;   // choice kinds: bit i set = choices[i] picked
};

struct InputIssue {
  uint64_t line = 0;  // 1-based; for records given as a vector, the index + 1
  std::string message;
  bool operator==(const InputIssue&) const = default;
};

// What a table refused while it was filled.
struct InputIssues {
  uint64_t read = 0;          // non-blank lines (or records) seen
  uint64_t refused = 0;       // invalid: not used
  uint64_t other_survey = 0;  // records of another survey: skipped, not an error
  // Refused lines by reason: "not valid JSON", "unknown question", "outside the scale",
  // "wrong type", "missing field", "invalid".
  std::map<std::string, uint64_t> by_reason;
  std::vector<InputIssue> listed;  // the first kMaxListedIssues refused, in line order
};

class ResponseTable {
 public:
  explicit ResponseTable(Survey survey);

  // Adds one record; `line` numbers it in issues. A record of another survey is skipped
  // (counted in other_survey); one with an unknown question or an invalid answer is refused
  // (counted, listed) and InvalidArgument is returned. The table is unchanged unless it is OK.
  Status Add(const ResponseRecord& record, uint64_t line = 0);
  // Parses one JSON line (interchange.h) against the survey and adds it. Blank lines are
  // ignored. Nothing here throws or stops: a bad line is counted and listed in issues().
  void AddJsonLine(std::string_view line, uint64_t line_number);
  // For big inputs: reserve room for `rows` rows.
  void Reserve(std::size_t rows);

  const Survey& survey() const { return survey_; }
  std::size_t size() const { return outcome_.size(); }
  const InputIssues& issues() const { return issues_; }

  // Columns (row i of each belongs together).
  const std::vector<uint8_t>& outcome() const { return outcome_; }  // Outcome values
  const std::vector<int64_t>& time_ms() const { return time_ms_; }
  // Tag key -> column of ids into the tag's dictionary (0 = the row has no such tag).
  struct TagColumn {
    Dictionary dictionary;
    std::vector<uint32_t> ids;
  };
  const std::map<std::string, TagColumn>& tags() const { return tags_; }
  const Dictionary& customers() const { return customers_; }
  const std::vector<uint32_t>& customer_ids() const { return customer_ids_; }
  const std::vector<QuestionColumn>& questions() const { return questions_; }  // survey order
  int64_t min_time_ms() const { return min_time_ms_; }                         // 0 when empty
  int64_t max_time_ms() const { return max_time_ms_; }

 private:
  void Refuse(uint64_t line, const std::string& message);

  Survey survey_;
  InputIssues issues_;
  std::vector<uint8_t> outcome_;
  std::vector<int64_t> time_ms_;
  std::map<std::string, TagColumn> tags_;
  Dictionary customers_;
  std::vector<uint32_t> customer_ids_;
  std::vector<QuestionColumn> questions_;
  int64_t min_time_ms_ = 0;
  int64_t max_time_ms_ = 0;
};

//-----------------------------------------------------------------------------
// [SECTION] Statistics
//-----------------------------------------------------------------------------

struct ReportOptions {
  metrics::NonResponderTreatment nonresponders = metrics::NonResponderTreatment::kExclude;
  uint64_t min_n = metrics::kDefaultMinGroupN;  // rankings and "too few" warnings
  double min_response_rate = metrics::kDefaultMinResponseRatePercent;  // percent
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
Result<CollectedStats> CollectStats(const ResponseTable& table, const ReportOptions& options,
                                    Executor* executor = nullptr);

//-----------------------------------------------------------------------------
// [SECTION] Report
//-----------------------------------------------------------------------------

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

//-----------------------------------------------------------------------------
// [SECTION] Output
//-----------------------------------------------------------------------------

// The stable JSON format of docs/report.md, one object, keys in a fixed order, ending in "\n".
std::string ReportToJson(const Report& report);
// For people: aligned columns, each index with its interval and n, warnings in words.
std::string ReportToTable(const Report& report);
// One row for everything selected, then one per group; UTF-8 with a BOM for spreadsheets.
std::string ReportToCsv(const Report& report);

// The selection and rules of `options` grouped by one period only: the second report that
// ReportToHtml draws the trend from. The period is the first among options.by, else the ISO week.
ReportOptions TrendOptions(const ReportOptions& options);
// True when `report` is grouped by one period and nothing else: it is its own trend report.
bool IsTrendReport(const Report& report);

// One self-contained HTML page for people (docs/report.md): no scripts, no external resources,
// inline CSS and SVG charts drawn here; printable on A4. `trend` is the report of the same
// selection under TrendOptions() (nullptr: none, or the report itself when IsTrendReport()).
// `survey` gives the title and question texts. Every text is HTML-escaped; every number is
// printed with FormatNumber as in the JSON and carries data-figure="<JSON path>". Deterministic:
// the same bytes natively and in wasm.
std::string ReportToHtml(const Report& report, const Report* trend, const Survey& survey);

}  // namespace canvass
