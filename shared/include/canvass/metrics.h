// Metrics: the one implementation of every loyalty index (NPS, CSAT, CES, CSI, CLI, loyalty rate,
// response rate, differences, rankings, key drivers, trends). The server, CLI, widget and dashboard
// call these; none re-implements a formula. docs/metrics.md explains each formula and rule.
//
// Inputs are mergeable sufficient statistics (OutcomeCounts, ScaleCounts, CsiAttributeStats,
// PairedStats, CustomerVisits): fixed-width integer counts and sums. Merge() adds another part, so
// the statistics of a union equal the merge of its parts exactly, in any order, and every index
// computed from them is bit-identical on every target: the math uses only + - * / and sqrt on IEEE
// doubles (no libm transcendental functions, no unordered containers).
//
// Units: shares and indices are in percent; NPS and other net scores in points (-100..100); means
// on the question's own scale. Every estimate carries n and a 95% interval. With n == 0 the value
// is the midpoint of the possible range and the interval is the whole range: check n before
// showing.
//
// Thread-safety: no shared state; every function is pure. A stats object is a plain value and needs
// outside synchronization only while one thread writes it and another reads it.
//
// [SECTION] Estimates and intervals
// [SECTION] Sufficient statistics
// [SECTION] NPS and net scores
// [SECTION] Response rate, CSAT, CES
// [SECTION] CSI
// [SECTION] CLI
// [SECTION] Loyalty
// [SECTION] Differences
// [SECTION] Rankings
// [SECTION] Key drivers
// [SECTION] Trends
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canvass/status.h"

namespace canvass::metrics {

//-----------------------------------------------------------------------------
// [SECTION] Estimates and intervals
//-----------------------------------------------------------------------------

// The 97.5% quantile of the standard normal distribution: every interval is a 95% interval.
inline constexpr double kZ95 = 1.959963984540054;

struct Estimate {
  double value = 0;
  uint64_t n = 0;  // observations behind the value (respondents, customers, offers, pairs)
  double lo = 0;   // 95% interval
  double hi = 0;
  bool operator==(const Estimate&) const = default;
};

// Share successes/n in percent with the Wilson score interval. Precondition: successes <= n.
Estimate WilsonPercent(uint64_t successes, uint64_t n);

// Net score 100*(positives - negatives)/n (NPS-style, points) with the adjusted Wald interval: add
// 3/4 of a positive and 3/4 of a negative, n + 3, clamp to [-100, 100]. The interval is widened to
// contain the value when it would not (happens only for n <= 2). Precondition: positives +
// negatives <= n.
Estimate NetScore(uint64_t positives, uint64_t negatives, uint64_t n);

// The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1): a table to df 30, then
// the Cornish-Fisher expansion (error < 3e-8). df == 0 returns infinity.
double TQuantile975(uint64_t df);

//-----------------------------------------------------------------------------
// [SECTION] Sufficient statistics
//-----------------------------------------------------------------------------

// Offers of a survey by outcome (DESIGN section 3). Offered = the sum of all four.
struct OutcomeCounts {
  uint64_t completed = 0;
  uint64_t partial = 0;
  uint64_t declined = 0;
  uint64_t ignored = 0;

  uint64_t Offered() const { return completed + partial + declined + ignored; }
  // "Silent" customers: offered - completed.
  uint64_t NonResponders() const { return Offered() - completed; }
  void Merge(const OutcomeCounts& other);
  bool operator==(const OutcomeCounts&) const = default;
};

// The largest scale ScaleCounts holds: 101 points (e.g. 0..100), with points within +-1000.
inline constexpr int32_t kMaxScaleSpan = 100;
inline constexpr int32_t kMaxAbsScalePoint = 1000;

// Answers to one integer-scale question: a count per scale point, min_point..max_point inclusive.
// A default-constructed ScaleCounts has no scale yet and adopts the scale of the first Merge, so an
// empty accumulator can be merged into; answers to a different scale are refused, never rescaled.
class ScaleCounts {
 public:
  ScaleCounts() = default;
  // An invalid scale (see IsValidScale) gives an object without a scale: every Add then fails.
  ScaleCounts(int32_t min_point, int32_t max_point);
  static ScaleCounts Nps() { return ScaleCounts(0, 10); }
  // min < max, at most kMaxScaleSpan + 1 points, both within +-kMaxAbsScalePoint.
  static bool IsValidScale(int32_t min_point, int32_t max_point);

  bool has_scale() const { return !counts_.empty(); }
  int32_t min_point() const { return min_; }
  int32_t max_point() const { return max_; }
  int32_t Points() const { return static_cast<int32_t>(counts_.size()); }

  // InvalidArgument if there is no scale or `point` is outside it (the counts are unchanged).
  Status Add(int32_t point, uint64_t count = 1);
  // InvalidArgument if both have a scale and the scales differ (this is unchanged).
  Status Merge(const ScaleCounts& other);
  bool MergesWith(const ScaleCounts& other) const;

  uint64_t Count(int32_t point) const;  // 0 outside the scale
  // Answers with lo <= point <= hi.
  uint64_t CountBetween(int32_t lo, int32_t hi) const;
  uint64_t Total() const;
  const std::vector<uint64_t>& counts() const { return counts_; }  // [i] = answers of min + i

  bool operator==(const ScaleCounts&) const = default;

 private:
  int32_t min_ = 0;
  int32_t max_ = 0;
  std::vector<uint64_t> counts_;
};

// Mean of the answers with a Student-t interval (df = n - 1), clamped to the scale. With n == 1 the
// interval is the whole scale. InvalidArgument without a scale.
Result<Estimate> Mean(const ScaleCounts& answers);

// One CSI attribute (DESIGN section 2, `csi_attribute`): importance asked either as important/not
// (`important`, `not_important`) or as a rating (`importance_rating`, no scale when unused), and
// the satisfaction rating.
struct CsiAttributeStats {
  uint64_t important = 0;
  uint64_t not_important = 0;
  ScaleCounts importance_rating;
  ScaleCounts satisfaction;

  // InvalidArgument if a scale differs (this is unchanged).
  Status Merge(const CsiAttributeStats& other);
  bool operator==(const CsiAttributeStats&) const = default;
};

// Paired scores (x = an attribute's satisfaction, y = the 0..10 recommend score of the same
// respondent) as exact integer sums, for correlations. Points are scale points (|v| <= 1000).
struct PairedStats {
  uint64_t n = 0;
  int64_t sum_x = 0;
  int64_t sum_y = 0;
  uint64_t sum_xx = 0;
  uint64_t sum_yy = 0;
  int64_t sum_xy = 0;

  void Add(int32_t x, int32_t y);
  void Merge(const PairedStats& other);
  bool operator==(const PairedStats&) const = default;
};

// Visits per identified customer in a period, keyed by the pseudonymous customer key (never a card
// number). Merging adds visit counts, so a customer seen once on Monday at one location and once on
// Tuesday at another is one returning customer of the merged period.
class CustomerVisits {
 public:
  // InvalidArgument for an empty key (an unidentified customer is not counted). count 0 is a no-op.
  Status Add(std::string_view customer_key, uint64_t count = 1);
  void Merge(const CustomerVisits& other);

  uint64_t Customers() const { return static_cast<uint64_t>(visits_.size()); }
  uint64_t ReturningCustomers() const;  // customers with >= 2 visits
  uint64_t Visits() const;
  const std::map<std::string, uint64_t, std::less<>>& visits() const { return visits_; }

  bool operator==(const CustomerVisits&) const = default;

 private:
  std::map<std::string, uint64_t, std::less<>> visits_;
};

//-----------------------------------------------------------------------------
// [SECTION] NPS and net scores
//-----------------------------------------------------------------------------

// How customers who were offered the survey but gave no score count in NPS. Reports say which.
enum class NonResponderTreatment : int32_t {
  kExclude = 0,      // classic: (P - D) / n
  kAsPassive = 1,    // (P - D) / T, T = n + R; equals NPS x response rate
  kAsDetractor = 2,  // (P - D - R) / T: the pessimistic bound
};
// "exclude", "as_passive", "as_detractor": the names reports and survey settings use.
const char* TreatmentName(NonResponderTreatment treatment);

struct NpsResult {
  Estimate nps;      // under `treatment`; n = responders (exclude) or T = n + R
  Estimate classic;  // always the classic NPS of the responders, for the report beside the rate
  NonResponderTreatment treatment = NonResponderTreatment::kExclude;
  uint64_t promoters = 0;   // 9-10
  uint64_t passives = 0;    // 7-8
  uint64_t detractors = 0;  // 0-6
  uint64_t non_responders = 0;
  // Where the score would be if every silent customer were a detractor / a promoter:
  // [100(P - D - R)/T, 100(P + R - D)/T]. Equal to the classic NPS when R = 0.
  double bound_lo = 0;
  double bound_hi = 0;
  bool operator==(const NpsResult&) const = default;
};

// From counts (the other ComputeNps overloads count, then call this). Never fails.
NpsResult NpsFromCounts(uint64_t promoters, uint64_t passives, uint64_t detractors,
                        uint64_t non_responders = 0,
                        NonResponderTreatment treatment = NonResponderTreatment::kExclude);

// Classic NPS of 0..10 answers. A ScaleCounts without a scale counts as no answers; any other scale
// than 0..10 is InvalidArgument.
Result<NpsResult> ComputeNps(const ScaleCounts& scores);
// With non-responders R = offered - n (n = those who gave a score, whatever their outcome; 0 if the
// outcomes count fewer offers than scores).
Result<NpsResult> ComputeNps(const ScaleCounts& scores, const OutcomeCounts& outcomes,
                             NonResponderTreatment treatment);

//-----------------------------------------------------------------------------
// [SECTION] Response rate, CSAT, CES
//-----------------------------------------------------------------------------

inline constexpr double kDefaultMinResponseRatePercent = 20.0;

struct ResponseRateResult {
  Estimate rate;  // completed / offered, percent, Wilson interval; n = offered
  uint64_t offered = 0;
  uint64_t completed = 0;
  uint64_t non_responders = 0;
  // True when rate < the threshold, or nothing was offered: the answers may not represent the
  // customers.
  bool unrepresentative = false;
  bool operator==(const ResponseRateResult&) const = default;
};
ResponseRateResult ComputeResponseRate(const OutcomeCounts& outcomes,
                                       double min_rate_percent = kDefaultMinResponseRatePercent);

struct CsatResult {
  Estimate top2;  // share answering one of the scale's two highest points, percent, Wilson
  Estimate mean;  // on the scale, t interval
  bool operator==(const CsatResult&) const = default;
};
// InvalidArgument without a scale.
Result<CsatResult> ComputeCsat(const ScaleCounts& answers);

struct CesResult {
  Estimate mean;   // on the scale, t interval
  Estimate agree;  // share answering above the scale's midpoint (5-7 on CES 2.0's 1..7), Wilson
  int32_t agree_from = 0;  // the lowest point counted as agreeing
  bool operator==(const CesResult&) const = default;
};
// CES 2.0 (1..7) or any agreement scale. InvalidArgument without a scale.
Result<CesResult> ComputeCes(const ScaleCounts& answers);
// The seeds' 0..10 CES variant, counted like NPS (9-10 minus 0-6).
Result<NpsResult> ComputeCesNet(const ScaleCounts& answers);

//-----------------------------------------------------------------------------
// [SECTION] CSI
//-----------------------------------------------------------------------------

// Satisfaction bands: promoter if point >= promoter_min, neutral if neutral_min <= point <
// promoter_min, critic below neutral_min.
struct CutPoints {
  int32_t promoter_min = 0;
  int32_t neutral_min = 0;
  bool operator==(const CutPoints&) const = default;
};
// NPS's proportions on any scale of k points: promoters the top ceil(2k/11) points, neutrals the
// next ceil(2k/11) points, critics the rest (at least one point). 0..10 -> 9-10 / 7-8 / 0-6;
// 1..5 -> 5 / 4 / 1-3; 1..7 -> 6-7 / 4-5 / 1-3; 1..10 -> 9-10 / 7-8 / 1-6; 1..4 -> 4 / 3 / 1-2.
// Precondition: ScaleCounts::IsValidScale(min_point, max_point).
CutPoints DefaultCutPoints(int32_t min_point, int32_t max_point);

struct CsiAttributeResult {
  std::string attribute;
  // Percent saying "important", or the mean importance rating rescaled to 0..100; the important/not
  // answers win when there are any.
  Estimate importance;
  CutPoints cuts;
  uint64_t promoters = 0;
  uint64_t neutrals = 0;
  uint64_t critics = 0;
  Estimate index;         // %promoters - %critics, points, adjusted Wald like NPS
  Estimate satisfaction;  // mean satisfaction rescaled to 0..100: 100(mean - min)/(max - min)
  bool operator==(const CsiAttributeResult&) const = default;
};
// InvalidArgument if satisfaction has no scale, or `cuts` do not fit it
// (min <= neutral_min <= promoter_min <= max).
Result<CsiAttributeResult> ComputeCsiAttribute(std::string attribute,
                                               const CsiAttributeStats& stats,
                                               std::optional<CutPoints> cuts = std::nullopt);

struct CsiResult {
  std::vector<CsiAttributeResult> attributes;
  std::vector<double> weights;  // w_i = I_i / sum(I); equal weights if every importance is 0
  // Importance-weighted mean of the attribute indices, points. Interval: the same weights applied
  // to the attributes' bounds (conservative for correlated attributes; weights taken as fixed).
  Estimate index;
  // 0-100 CSI: sum w_i * satisfaction_i (the importance x satisfaction method); interval likewise.
  Estimate score;
  // Both: n = the smallest attribute n (of index / satisfaction).
  bool operator==(const CsiResult&) const = default;
};
// Combines attribute results (computed, or typed in from a report's percentages). Empty input gives
// n == 0 estimates.
CsiResult CombineCsi(std::vector<CsiAttributeResult> attributes);
// Attributes in display order (e.g. the 5P template's).
Result<CsiResult> ComputeCsi(
    const std::vector<std::pair<std::string, CsiAttributeStats>>& attributes,
    std::optional<CutPoints> cuts = std::nullopt);

//-----------------------------------------------------------------------------
// [SECTION] CLI
//-----------------------------------------------------------------------------

struct CliItemResult {
  Estimate mean;  // 0..10
  NpsResult net;  // NPS-style net score of the item
  bool operator==(const CliItemResult&) const = default;
};
struct CliResult {
  // Mean of the item means (0..10) over the items that have answers; interval: the mean of their
  // bounds; n = the smallest n among them.
  Estimate index;
  CliItemResult recommend;
  CliItemResult repurchase;
  CliItemResult cross_buy;
  bool operator==(const CliResult&) const = default;
};
// Each item 0..10 (or no scale = no answers); anything else is InvalidArgument.
Result<CliResult> ComputeCli(const ScaleCounts& recommend, const ScaleCounts& repurchase,
                             const ScaleCounts& cross_buy);

//-----------------------------------------------------------------------------
// [SECTION] Loyalty
//-----------------------------------------------------------------------------

struct LoyaltyResult {
  // Returning customers (>= 2 visits in the period) / identified customers, percent, Wilson.
  Estimate loyalty_rate;
  // Repeat visits (every visit after a customer's first) / all visits, percent, Wilson over visits.
  // Visits of one customer are not independent, so this interval is narrower than it should be.
  Estimate repeat_purchase_rate;
  uint64_t customers = 0;
  uint64_t returning_customers = 0;
  uint64_t visits = 0;
  bool operator==(const LoyaltyResult&) const = default;
};
LoyaltyResult ComputeLoyalty(const CustomerVisits& visits);
// Precondition: returning <= customers and visits >= customers + returning.
LoyaltyResult LoyaltyFromCounts(uint64_t customers, uint64_t returning, uint64_t visits);

//-----------------------------------------------------------------------------
// [SECTION] Differences
//-----------------------------------------------------------------------------

struct Difference {
  Estimate difference;       // a - b; n = n_a + n_b
  bool significant = false;  // the 95% interval excludes 0
  bool operator==(const Difference&) const = default;
};
// Two independent NPS (each under its own treatment): adjusted Wald on each side, SE =
// sqrt(Var_a/N_a + Var_b/N_b), clamped to [-200, 200]. Not significant if either side has n == 0.
Difference NpsDifference(const NpsResult& a, const NpsResult& b);
// Two independent shares (response rates, top-2 boxes, loyalty rates), percent points: Newcombe's
// hybrid score interval built from the two Wilson intervals.
Difference ShareDifference(uint64_t successes_a, uint64_t n_a, uint64_t successes_b, uint64_t n_b);
// Two independent estimates of any index, from their own 95% intervals: MOVER (Zou & Donner 2008),
// d - sqrt((a - lo_a)^2 + (hi_b - b)^2) .. d + sqrt((hi_a - a)^2 + (b - lo_b)^2), clamped to
// [-span, span]. ShareDifference is this over Wilson intervals; use it for indices that have no
// two-sample test of their own (CSI index and 0-100 score, CLI). Not significant if either n == 0.
Difference IntervalDifference(const Estimate& a, const Estimate& b, double span);
// Two independent means on the same scale: Welch's SE and Student's t with the Welch-Satterthwaite
// df rounded down. With n < 2 on either side: the whole range, not significant. InvalidArgument if
// the scales differ or are missing.
Result<Difference> MeanDifference(const ScaleCounts& a, const ScaleCounts& b);

//-----------------------------------------------------------------------------
// [SECTION] Rankings
//-----------------------------------------------------------------------------

inline constexpr uint64_t kDefaultMinGroupN = 30;

enum class Better : int32_t { kHigher = 0, kLower = 1 };

struct RankedGroup {
  std::string group;
  int32_t rank = 0;  // 1 = best; equal values share a rank (1, 2, 2, 4); 0 in too_few
  Estimate estimate;
  bool operator==(const RankedGroup&) const = default;
};
struct Ranking {
  std::vector<RankedGroup> ranked;   // best first; ties by group name
  std::vector<RankedGroup> too_few;  // n < min_n, by group name, not ranked
  uint64_t min_n = kDefaultMinGroupN;
  bool operator==(const Ranking&) const = default;
};
Ranking Rank(const std::map<std::string, Estimate>& groups, uint64_t min_n = kDefaultMinGroupN,
             Better better = Better::kHigher);

// Ranks groups of any statistics by any index: `index(stats)` returns an Estimate.
template <typename Stats, typename IndexFn>
Ranking RankBy(const std::map<std::string, Stats>& groups, IndexFn index,
               uint64_t min_n = kDefaultMinGroupN, Better better = Better::kHigher) {
  std::map<std::string, Estimate> estimates;
  for (const auto& [group, stats] : groups) estimates.emplace(group, index(stats));
  return Rank(estimates, min_n, better);
}

// Classic NPS per group (staff, location).
Result<Ranking> RankByNps(const std::map<std::string, ScaleCounts>& groups,
                          uint64_t min_n = kDefaultMinGroupN);

//-----------------------------------------------------------------------------
// [SECTION] Key drivers
//-----------------------------------------------------------------------------

// Pearson r from the exact sums, with the Fisher z interval (needs n >= 4, else [-1, 1]). When
// either score does not vary, r is undefined: value 0, interval [-1, 1].
Estimate Correlation(const PairedStats& pairs);

// Importance-performance quadrants; split at the mean importance and the mean performance across
// the attributes analysed together; a value equal to the mean counts as high.
enum class Quadrant : int32_t {
  kFixFirst = 0,          // high importance, low performance
  kKeepUp = 1,            // high importance, high performance
  kLowPriority = 2,       // low importance, low performance
  kPossibleOverkill = 3,  // low importance, high performance
};
const char* QuadrantName(Quadrant quadrant);  // "fix first", "keep up", ...

struct DriverInput {
  std::string attribute;
  PairedStats pairs;  // x = attribute satisfaction on scale_min..scale_max, y = recommend 0..10
  int32_t scale_min = 1;
  int32_t scale_max = 5;
};
struct DriverResult {
  std::string attribute;
  Estimate correlation;   // r of satisfaction with the recommend score
  double importance = 0;  // derived importance = r
  Estimate performance;   // mean satisfaction rescaled to 0..100, t interval
  Quadrant quadrant = Quadrant::kLowPriority;
  bool operator==(const DriverResult&) const = default;
};
// In input order. InvalidArgument for an invalid scale.
Result<std::vector<DriverResult>> KeyDrivers(const std::vector<DriverInput>& attributes);

// Where KeyDrivers split the quadrants: the mean importance (r) and the mean performance (0..100)
// of the attributes analysed together. Zeros for no attributes. For charts that draw the split.
struct QuadrantSplit {
  double importance = 0;
  double performance = 0;
  bool operator==(const QuadrantSplit&) const = default;
};
QuadrantSplit QuadrantSplitOf(const std::vector<DriverResult>& drivers);

//-----------------------------------------------------------------------------
// [SECTION] Trends
//-----------------------------------------------------------------------------

struct TrendPoint {
  std::string period;  // the caller's label: "2024-05-01", "2024-W18", "2024-05"
  Estimate estimate;
  bool operator==(const TrendPoint&) const = default;
};

// One estimate per period, in the given order: `index(stats)` returns an Estimate.
template <typename Stats, typename IndexFn>
std::vector<TrendPoint> Trend(const std::vector<std::pair<std::string, Stats>>& periods,
                              IndexFn index) {
  std::vector<TrendPoint> series;
  series.reserve(periods.size());
  for (const auto& [period, stats] : periods) series.push_back(TrendPoint{period, index(stats)});
  return series;
}

// Classic NPS per period.
Result<std::vector<TrendPoint>> NpsTrend(
    const std::vector<std::pair<std::string, ScaleCounts>>& periods);

}  // namespace canvass::metrics
