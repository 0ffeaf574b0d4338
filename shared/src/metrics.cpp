// Indices must come out bit-identical on every target, so no fused multiply-add: GCC fuses a*b + c
// under -std=gnu++XX on an FMA-capable -march, clang under its default -ffp-contract=on. The golden
// checksum in tests/unit/metrics_test.cpp catches any flag that changes the arithmetic.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "canvass/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace canvass::metrics {
namespace {

// Exact products of 64-bit sums (n * sum of squares reaches 2^100 on big data sets). Both g++ and
// Emscripten's clang support these; __extension__ keeps -Wpedantic quiet.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

constexpr double kLn2 = 0.6931471805599453;
constexpr double kSqrtHalf = 0.7071067811865476;

double Clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// No data: the midpoint and the whole range (the header's rule), so nothing looks precise.
Estimate Unknown(double lo, double hi) { return Estimate{(lo + hi) / 2, 0, lo, hi}; }

// Widens [lo, hi] to contain the point estimate: shrunken intervals (adjusted Wald) can miss it on
// tiny samples, and a report showing a value outside its own interval confuses everyone.
Estimate Contain(Estimate e) {
  e.lo = std::min(e.lo, e.value);
  e.hi = std::max(e.hi, e.value);
  return e;
}

int32_t FloorHalf(int32_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

// libm's log and exp may differ in the last bit between glibc and Emscripten's musl, so the few
// transcendental values we need come from exact argument reduction (frexp, ldexp) and series in
// + - * / only: identical bits on every IEEE target.
double PortableLog(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1);  // |s| <= 0.172, so 2 atanh(s) converges fast
  const double s2 = s * s;
  double term = s;
  double sum = 0;
  for (int k = 1; k <= 31; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return 2 * sum + e * kLn2;
}

double PortableExp(double x) {
  if (x > 709) return std::numeric_limits<double>::infinity();
  if (x < -745) return 0;
  const double k = std::floor(x / kLn2 + 0.5);
  const double r = x - k * kLn2;  // |r| <= 0.35
  double term = 1;
  double sum = 1;
  for (int i = 1; i <= 22; ++i) {
    term *= r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

double PortableTanh(double x) { return 1 - 2 / (PortableExp(2 * x) + 1); }

// The adjusted Wald pieces of a net score: shares after adding 3/4 of a positive and a negative.
struct AdjustedNet {
  double center;    // p - d
  double variance;  // p + d - (p - d)^2, per respondent
  double n_adj;     // n + 3
};

AdjustedNet Adjust(uint64_t positives, uint64_t negatives, uint64_t n) {
  const double n_adj = static_cast<double>(n) + 3.0;
  const double p = (static_cast<double>(positives) + 0.75) / n_adj;
  const double d = (static_cast<double>(negatives) + 0.75) / n_adj;
  const double c = p - d;
  return AdjustedNet{c, std::max(0.0, p + d - c * c), n_adj};
}

double NetValue(uint64_t positives, uint64_t negatives, uint64_t n) {
  return 100.0 * (static_cast<double>(positives) - static_cast<double>(negatives)) /
         static_cast<double>(n);
}

// Mean and t interval from n, the sum and the exact spread n*sum(v^2) - sum(v)^2.
Estimate MeanInterval(uint64_t n, double sum, Uint128 spread, double lo_bound, double hi_bound) {
  if (n == 0) return Unknown(lo_bound, hi_bound);
  const double nd = static_cast<double>(n);
  const double mean = sum / nd;
  if (n == 1) return Estimate{mean, 1, lo_bound, hi_bound};
  const double variance = static_cast<double>(spread) / (nd * (nd - 1.0));
  const double half = TQuantile975(n - 1) * std::sqrt(variance / nd);
  return Contain(Estimate{mean, n, Clamp(mean - half, lo_bound, hi_bound),
                          Clamp(mean + half, lo_bound, hi_bound)});
}

struct ScaleMoments {
  uint64_t n = 0;
  int64_t sum = 0;     // sum of points
  Uint128 spread = 0;  // n * sum(v^2) - sum(v)^2, computed on v - min to stay small
  uint64_t sum_sq_shifted = 0;
};

ScaleMoments Moments(const ScaleCounts& a) {
  ScaleMoments m;
  uint64_t s1 = 0;
  uint64_t s2 = 0;
  const std::vector<uint64_t>& counts = a.counts();
  for (uint64_t i = 0; i < counts.size(); ++i) {
    const uint64_t c = counts[i];
    m.n += c;
    m.sum += static_cast<int64_t>(c) * (a.min_point() + static_cast<int64_t>(i));
    s1 += c * i;
    s2 += c * i * i;
  }
  m.spread = static_cast<Uint128>(m.n) * s2 - static_cast<Uint128>(s1) * s1;
  return m;
}

Estimate Rescale(Estimate e, double min, double max) {
  const auto f = [&](double v) { return 100.0 * (v - min) / (max - min); };
  return Estimate{f(e.value), e.n, f(e.lo), f(e.hi)};
}

Status NeedNpsScale(const ScaleCounts& s, const char* what) {
  if (!s.has_scale() || (s.min_point() == 0 && s.max_point() == 10)) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " needs a 0..10 scale, got " +
                                 std::to_string(s.min_point()) + ".." +
                                 std::to_string(s.max_point()));
}

Status NeedScale(const ScaleCounts& s, const char* what) {
  if (s.has_scale()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) +
                                 ": the answers have no scale (nothing merged)");
}

Difference Verdict(Estimate e) { return Difference{e, e.n > 0 && (e.lo > 0 || e.hi < 0)}; }

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Estimates and intervals
//-----------------------------------------------------------------------------

Estimate WilsonPercent(uint64_t successes, uint64_t n) {
  if (n == 0) return Unknown(0, 100);
  const double nd = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nd;
  const double z2 = kZ95 * kZ95;
  const double denom = 1.0 + z2 / nd;
  const double center = (p + z2 / (2.0 * nd)) / denom;
  const double half = kZ95 * std::sqrt(p * (1.0 - p) / nd + z2 / (4.0 * nd * nd)) / denom;
  // At 0 and n the bounds are exactly 0 and 100; rounding would leave a stray 1e-15.
  const double lo = successes == 0 ? 0.0 : Clamp(100.0 * (center - half), 0, 100);
  const double hi = successes == n ? 100.0 : Clamp(100.0 * (center + half), 0, 100);
  return Estimate{100.0 * static_cast<double>(successes) / nd, n, lo, hi};
}

Estimate NetScore(uint64_t positives, uint64_t negatives, uint64_t n) {
  if (n == 0) return Unknown(-100, 100);
  const AdjustedNet a = Adjust(positives, negatives, n);
  const double half = kZ95 * std::sqrt(a.variance / a.n_adj);
  return Contain(Estimate{NetValue(positives, negatives, n), n,
                          Clamp(100.0 * (a.center - half), -100, 100),
                          Clamp(100.0 * (a.center + half), -100, 100)});
}

double TQuantile975(uint64_t df) {
  static constexpr double kTable[31] = {std::numeric_limits<double>::infinity(),
                                        12.706204736174705,
                                        4.3026527297494639,
                                        3.1824463052837096,
                                        2.7764451051977944,
                                        2.5705818356363155,
                                        2.4469118511449700,
                                        2.3646242515927853,
                                        2.3060041352041667,
                                        2.2621571627982055,
                                        2.2281388519862747,
                                        2.2009851600916399,
                                        2.1788128296672289,
                                        2.1603686564627925,
                                        2.1447866879178038,
                                        2.1314495455597757,
                                        2.1199052992212547,
                                        2.1098155778333171,
                                        2.1009220402410385,
                                        2.0930240544083098,
                                        2.0859634472658648,
                                        2.0796138447276804,
                                        2.0738730679040262,
                                        2.0686576104190487,
                                        2.0638985616280258,
                                        2.0595385527532977,
                                        2.0555294386428732,
                                        2.0518305164802856,
                                        2.0484071417952452,
                                        2.0452296421327043,
                                        2.0422724563012383};
  if (df <= 30) return kTable[df];
  // Cornish-Fisher expansion of t in powers of 1/df around the normal quantile.
  const double z = kZ95;
  const double z2 = z * z;
  const double z3 = z2 * z;
  const double z5 = z3 * z2;
  const double z7 = z5 * z2;
  const double z9 = z7 * z2;
  const double v = static_cast<double>(df);
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
         (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
}

//-----------------------------------------------------------------------------
// [SECTION] Sufficient statistics
//-----------------------------------------------------------------------------

void OutcomeCounts::Merge(const OutcomeCounts& other) {
  completed += other.completed;
  partial += other.partial;
  declined += other.declined;
  ignored += other.ignored;
}

bool ScaleCounts::IsValidScale(int32_t min_point, int32_t max_point) {
  return min_point < max_point && min_point >= -kMaxAbsScalePoint &&
         max_point <= kMaxAbsScalePoint && max_point - min_point <= kMaxScaleSpan;
}

ScaleCounts::ScaleCounts(int32_t min_point, int32_t max_point) {
  if (!IsValidScale(min_point, max_point)) return;
  min_ = min_point;
  max_ = max_point;
  counts_.assign(static_cast<uint64_t>(max_point - min_point + 1), 0);
}

Status ScaleCounts::Add(int32_t point, uint64_t count) {
  if (!has_scale())
    return Status::InvalidArgument("answer " + std::to_string(point) +
                                   ": the question has no valid scale");
  if (point < min_ || point > max_) {
    return Status::InvalidArgument("answer " + std::to_string(point) + " is outside the scale " +
                                   std::to_string(min_) + ".." + std::to_string(max_));
  }
  counts_[static_cast<uint64_t>(point - min_)] += count;
  return Status::Ok();
}

bool ScaleCounts::MergesWith(const ScaleCounts& other) const {
  return !has_scale() || !other.has_scale() || (min_ == other.min_ && max_ == other.max_);
}

Status ScaleCounts::Merge(const ScaleCounts& other) {
  if (!MergesWith(other)) {
    return Status::InvalidArgument("cannot merge answers on scale " + std::to_string(other.min_) +
                                   ".." + std::to_string(other.max_) + " into scale " +
                                   std::to_string(min_) + ".." + std::to_string(max_));
  }
  if (!other.has_scale()) return Status::Ok();
  if (!has_scale()) {
    *this = other;
    return Status::Ok();
  }
  for (uint64_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  return Status::Ok();
}

uint64_t ScaleCounts::Count(int32_t point) const {
  if (!has_scale() || point < min_ || point > max_) return 0;
  return counts_[static_cast<uint64_t>(point - min_)];
}

uint64_t ScaleCounts::CountBetween(int32_t lo, int32_t hi) const {
  if (!has_scale()) return 0;
  lo = std::max(lo, min_);
  hi = std::min(hi, max_);
  uint64_t total = 0;
  for (int32_t v = lo; v <= hi; ++v) total += counts_[static_cast<uint64_t>(v - min_)];
  return total;
}

uint64_t ScaleCounts::Total() const {
  uint64_t total = 0;
  for (uint64_t c : counts_) total += c;
  return total;
}

Result<Estimate> Mean(const ScaleCounts& answers) {
  if (Status s = NeedScale(answers, "mean"); !s.ok()) return s;
  const ScaleMoments m = Moments(answers);
  return MeanInterval(m.n, static_cast<double>(m.sum), m.spread, answers.min_point(),
                      answers.max_point());
}

Status CsiAttributeStats::Merge(const CsiAttributeStats& other) {
  if (!importance_rating.MergesWith(other.importance_rating)) {
    return importance_rating.Merge(other.importance_rating).WithContext("importance");
  }
  if (!satisfaction.MergesWith(other.satisfaction)) {
    return satisfaction.Merge(other.satisfaction).WithContext("satisfaction");
  }
  important += other.important;
  not_important += other.not_important;
  // Both checked above: these cannot fail.
  (void)importance_rating.Merge(other.importance_rating);
  (void)satisfaction.Merge(other.satisfaction);
  return Status::Ok();
}

void PairedStats::Add(int32_t x, int32_t y) {
  const int64_t x64 = x;
  const int64_t y64 = y;
  n += 1;
  sum_x += x64;
  sum_y += y64;
  sum_xx += static_cast<uint64_t>(x64 * x64);
  sum_yy += static_cast<uint64_t>(y64 * y64);
  sum_xy += x64 * y64;
}

void PairedStats::Merge(const PairedStats& other) {
  n += other.n;
  sum_x += other.sum_x;
  sum_y += other.sum_y;
  sum_xx += other.sum_xx;
  sum_yy += other.sum_yy;
  sum_xy += other.sum_xy;
}

Status CustomerVisits::Add(std::string_view customer_key, uint64_t count) {
  if (customer_key.empty()) {
    return Status::InvalidArgument("customer visit without a customer key");
  }
  if (count == 0) return Status::Ok();
  auto it = visits_.find(customer_key);
  if (it == visits_.end()) {
    visits_.emplace(std::string(customer_key), count);
  } else {
    it->second += count;
  }
  return Status::Ok();
}

void CustomerVisits::Merge(const CustomerVisits& other) {
  for (const auto& [key, count] : other.visits_) visits_[key] += count;
}

uint64_t CustomerVisits::ReturningCustomers() const {
  uint64_t returning = 0;
  for (const auto& [key, count] : visits_) returning += count >= 2 ? 1 : 0;
  return returning;
}

uint64_t CustomerVisits::Visits() const {
  uint64_t total = 0;
  for (const auto& [key, count] : visits_) total += count;
  return total;
}

//-----------------------------------------------------------------------------
// [SECTION] NPS and net scores
//-----------------------------------------------------------------------------

const char* TreatmentName(NonResponderTreatment treatment) {
  switch (treatment) {
    case NonResponderTreatment::kExclude:
      return "exclude";
    case NonResponderTreatment::kAsPassive:
      return "as_passive";
    case NonResponderTreatment::kAsDetractor:
      return "as_detractor";
  }
  return "unknown";
}

NpsResult NpsFromCounts(uint64_t promoters, uint64_t passives, uint64_t detractors,
                        uint64_t non_responders, NonResponderTreatment treatment) {
  NpsResult r;
  r.treatment = treatment;
  r.promoters = promoters;
  r.passives = passives;
  r.detractors = detractors;
  r.non_responders = non_responders;
  const uint64_t n = promoters + passives + detractors;
  const uint64_t total = n + non_responders;
  r.classic = NetScore(promoters, detractors, n);
  switch (treatment) {
    case NonResponderTreatment::kExclude:
      r.nps = r.classic;
      break;
    case NonResponderTreatment::kAsPassive:
      r.nps = NetScore(promoters, detractors, total);
      break;
    case NonResponderTreatment::kAsDetractor:
      r.nps = NetScore(promoters, detractors + non_responders, total);
      break;
  }
  if (total == 0) {
    r.bound_lo = -100;
    r.bound_hi = 100;
  } else {
    const double t = static_cast<double>(total);
    const double p = static_cast<double>(promoters);
    const double d = static_cast<double>(detractors);
    const double s = static_cast<double>(non_responders);
    r.bound_lo = 100.0 * (p - d - s) / t;
    r.bound_hi = 100.0 * (p + s - d) / t;
  }
  return r;
}

Result<NpsResult> ComputeNps(const ScaleCounts& scores) {
  return ComputeNps(scores, OutcomeCounts{}, NonResponderTreatment::kExclude);
}

Result<NpsResult> ComputeNps(const ScaleCounts& scores, const OutcomeCounts& outcomes,
                             NonResponderTreatment treatment) {
  if (Status s = NeedNpsScale(scores, "NPS"); !s.ok()) return s;
  const uint64_t promoters = scores.CountBetween(9, 10);
  const uint64_t passives = scores.CountBetween(7, 8);
  const uint64_t detractors = scores.CountBetween(0, 6);
  const uint64_t n = promoters + passives + detractors;
  const uint64_t offered = outcomes.Offered();
  const uint64_t non_responders = offered > n ? offered - n : 0;
  return NpsFromCounts(promoters, passives, detractors, non_responders, treatment);
}

//-----------------------------------------------------------------------------
// [SECTION] Response rate, CSAT, CES
//-----------------------------------------------------------------------------

ResponseRateResult ComputeResponseRate(const OutcomeCounts& outcomes, double min_rate_percent) {
  ResponseRateResult r;
  r.offered = outcomes.Offered();
  r.completed = outcomes.completed;
  r.non_responders = outcomes.NonResponders();
  r.rate = WilsonPercent(r.completed, r.offered);
  r.unrepresentative = r.offered == 0 || r.rate.value < min_rate_percent;
  return r;
}

Result<CsatResult> ComputeCsat(const ScaleCounts& answers) {
  if (Status s = NeedScale(answers, "CSAT"); !s.ok()) return s;
  CsatResult r;
  r.top2 = WilsonPercent(answers.CountBetween(answers.max_point() - 1, answers.max_point()),
                         answers.Total());
  r.mean = *Mean(answers);
  return r;
}

Result<CesResult> ComputeCes(const ScaleCounts& answers) {
  if (Status s = NeedScale(answers, "CES"); !s.ok()) return s;
  CesResult r;
  r.agree_from = FloorHalf(answers.min_point() + answers.max_point()) + 1;
  r.mean = *Mean(answers);
  r.agree = WilsonPercent(answers.CountBetween(r.agree_from, answers.max_point()), answers.Total());
  return r;
}

Result<NpsResult> ComputeCesNet(const ScaleCounts& answers) {
  if (Status s = NeedNpsScale(answers, "CES net score"); !s.ok()) return s;
  return ComputeNps(answers);
}

//-----------------------------------------------------------------------------
// [SECTION] CSI
//-----------------------------------------------------------------------------

CutPoints DefaultCutPoints(int32_t min_point, int32_t max_point) {
  const int32_t k = max_point - min_point + 1;
  const int32_t band = (2 * k + 10) / 11;  // ceil(2k / 11): NPS gives 2 of its 11 points per band
  const int32_t promoter_min = max_point - band + 1;
  const int32_t neutrals = std::min(band, k - band - 1);  // leave critics at least one point
  return CutPoints{promoter_min, promoter_min - neutrals};
}

Result<CsiAttributeResult> ComputeCsiAttribute(std::string attribute,
                                               const CsiAttributeStats& stats,
                                               std::optional<CutPoints> cuts) {
  const ScaleCounts& sat = stats.satisfaction;
  if (Status s = NeedScale(sat, "CSI satisfaction"); !s.ok()) return s.WithContext(attribute);
  const int32_t min = sat.min_point();
  const int32_t max = sat.max_point();
  CsiAttributeResult r;
  r.cuts = cuts ? *cuts : DefaultCutPoints(min, max);
  if (!(min <= r.cuts.neutral_min && r.cuts.neutral_min <= r.cuts.promoter_min &&
        r.cuts.promoter_min <= max)) {
    return Status::InvalidArgument(attribute + ": cut points " +
                                   std::to_string(r.cuts.neutral_min) + "/" +
                                   std::to_string(r.cuts.promoter_min) + " do not fit the scale " +
                                   std::to_string(min) + ".." + std::to_string(max));
  }
  r.promoters = sat.CountBetween(r.cuts.promoter_min, max);
  r.neutrals = sat.CountBetween(r.cuts.neutral_min, r.cuts.promoter_min - 1);
  r.critics = sat.CountBetween(min, r.cuts.neutral_min - 1);
  r.index = NetScore(r.promoters, r.critics, sat.Total());
  r.satisfaction = Rescale(*Mean(sat), min, max);

  const uint64_t asked = stats.important + stats.not_important;
  if (asked > 0) {
    r.importance = WilsonPercent(stats.important, asked);
  } else if (stats.importance_rating.has_scale()) {
    r.importance = Rescale(*Mean(stats.importance_rating), stats.importance_rating.min_point(),
                           stats.importance_rating.max_point());
  } else {
    r.importance = Unknown(0, 100);
  }
  r.attribute = std::move(attribute);
  return r;
}

CsiResult CombineCsi(std::vector<CsiAttributeResult> attributes) {
  CsiResult r;
  r.attributes = std::move(attributes);
  const uint64_t k = r.attributes.size();
  // Attributes nobody rated carry no information: weight 0.
  double importance_sum = 0;
  uint64_t rated = 0;
  for (const CsiAttributeResult& a : r.attributes) {
    if (a.index.n == 0) continue;
    importance_sum += a.importance.value;
    ++rated;
  }
  r.weights.assign(k, 0.0);
  if (rated == 0) {
    r.index = Unknown(-100, 100);
    r.score = Unknown(0, 100);
    return r;
  }
  // Nobody finds anything important: every rated attribute counts the same.
  const bool equal = !(importance_sum > 0);
  const auto importance = [&](const CsiAttributeResult& a) {
    return a.index.n == 0 ? 0.0 : (equal ? 1.0 : a.importance.value);
  };
  const double total = equal ? static_cast<double>(rated) : importance_sum;
  Estimate index;
  Estimate score;
  uint64_t n_index = std::numeric_limits<uint64_t>::max();
  uint64_t n_score = std::numeric_limits<uint64_t>::max();
  // Sum I_i * x_i first and divide once: typed-in whole percentages then come out exact.
  for (uint64_t i = 0; i < k; ++i) {
    const CsiAttributeResult& a = r.attributes[i];
    const double w = importance(a);
    r.weights[i] = w / total;
    if (a.index.n == 0) continue;
    index.value += w * a.index.value;
    index.lo += w * a.index.lo;
    index.hi += w * a.index.hi;
    score.value += w * a.satisfaction.value;
    score.lo += w * a.satisfaction.lo;
    score.hi += w * a.satisfaction.hi;
    n_index = std::min(n_index, a.index.n);
    n_score = std::min(n_score, a.satisfaction.n);
  }
  r.index = Estimate{index.value / total, n_index, index.lo / total, index.hi / total};
  r.score = Estimate{score.value / total, n_score, score.lo / total, score.hi / total};
  return r;
}

Result<CsiResult> ComputeCsi(
    const std::vector<std::pair<std::string, CsiAttributeStats>>& attributes,
    std::optional<CutPoints> cuts) {
  std::vector<CsiAttributeResult> results;
  results.reserve(attributes.size());
  for (const auto& [name, stats] : attributes) {
    Result<CsiAttributeResult> a = ComputeCsiAttribute(name, stats, cuts);
    if (!a.ok()) return a.status();
    results.push_back(std::move(a).value());
  }
  return CombineCsi(std::move(results));
}

//-----------------------------------------------------------------------------
// [SECTION] CLI
//-----------------------------------------------------------------------------

Result<CliResult> ComputeCli(const ScaleCounts& recommend, const ScaleCounts& repurchase,
                             const ScaleCounts& cross_buy) {
  CliResult r;
  const std::pair<const ScaleCounts*, CliItemResult*> items[] = {
      {&recommend, &r.recommend}, {&repurchase, &r.repurchase}, {&cross_buy, &r.cross_buy}};
  const char* names[] = {"CLI recommend", "CLI repurchase", "CLI cross_buy"};
  double sum = 0;
  double lo = 0;
  double hi = 0;
  uint64_t answered = 0;
  uint64_t n = std::numeric_limits<uint64_t>::max();
  for (int i = 0; i < 3; ++i) {
    const ScaleCounts& item = *items[i].first;
    if (Status s = NeedNpsScale(item, names[i]); !s.ok()) return s;
    CliItemResult& out = *items[i].second;
    out.mean = *Mean(item.has_scale() ? item : ScaleCounts::Nps());
    out.net = *ComputeNps(item);
    if (out.mean.n == 0) continue;
    sum += out.mean.value;
    lo += out.mean.lo;
    hi += out.mean.hi;
    ++answered;
    n = std::min(n, out.mean.n);
  }
  if (answered == 0) {
    r.index = Unknown(0, 10);
  } else {
    const double k = static_cast<double>(answered);
    r.index = Estimate{sum / k, n, lo / k, hi / k};
  }
  return r;
}

//-----------------------------------------------------------------------------
// [SECTION] Loyalty
//-----------------------------------------------------------------------------

LoyaltyResult LoyaltyFromCounts(uint64_t customers, uint64_t returning, uint64_t visits) {
  LoyaltyResult r;
  r.customers = customers;
  r.returning_customers = returning;
  r.visits = visits;
  r.loyalty_rate = WilsonPercent(returning, customers);
  r.repeat_purchase_rate = WilsonPercent(visits >= customers ? visits - customers : 0, visits);
  return r;
}

LoyaltyResult ComputeLoyalty(const CustomerVisits& visits) {
  return LoyaltyFromCounts(visits.Customers(), visits.ReturningCustomers(), visits.Visits());
}

//-----------------------------------------------------------------------------
// [SECTION] Differences
//-----------------------------------------------------------------------------

Difference NpsDifference(const NpsResult& a, const NpsResult& b) {
  // The counts each side's score was computed from, after its non-responder treatment.
  struct Counts {
    uint64_t positives, negatives, n;
  };
  const auto effective = [](const NpsResult& r) {
    const uint64_t n = r.promoters + r.passives + r.detractors;
    switch (r.treatment) {
      case NonResponderTreatment::kExclude:
        break;
      case NonResponderTreatment::kAsPassive:
        return Counts{r.promoters, r.detractors, n + r.non_responders};
      case NonResponderTreatment::kAsDetractor:
        return Counts{r.promoters, r.detractors + r.non_responders, n + r.non_responders};
    }
    return Counts{r.promoters, r.detractors, n};
  };
  const Counts ca = effective(a);
  const Counts cb = effective(b);
  const double value = a.nps.value - b.nps.value;
  if (ca.n == 0 || cb.n == 0) return Difference{Estimate{value, ca.n + cb.n, -200, 200}, false};
  const AdjustedNet ja = Adjust(ca.positives, ca.negatives, ca.n);
  const AdjustedNet jb = Adjust(cb.positives, cb.negatives, cb.n);
  const double center = ja.center - jb.center;
  const double half = kZ95 * std::sqrt(ja.variance / ja.n_adj + jb.variance / jb.n_adj);
  return Verdict(Contain(Estimate{value, ca.n + cb.n, Clamp(100.0 * (center - half), -200, 200),
                                  Clamp(100.0 * (center + half), -200, 200)}));
}

Difference ShareDifference(uint64_t successes_a, uint64_t n_a, uint64_t successes_b, uint64_t n_b) {
  return IntervalDifference(WilsonPercent(successes_a, n_a), WilsonPercent(successes_b, n_b), 100);
}

Difference IntervalDifference(const Estimate& a, const Estimate& b, double span) {
  const double d = a.value - b.value;
  if (a.n == 0 || b.n == 0) return Difference{Estimate{d, a.n + b.n, -span, span}, false};
  const double below =
      std::sqrt((a.value - a.lo) * (a.value - a.lo) + (b.hi - b.value) * (b.hi - b.value));
  const double above =
      std::sqrt((a.hi - a.value) * (a.hi - a.value) + (b.value - b.lo) * (b.value - b.lo));
  return Verdict(
      Estimate{d, a.n + b.n, Clamp(d - below, -span, span), Clamp(d + above, -span, span)});
}

Result<Difference> MeanDifference(const ScaleCounts& a, const ScaleCounts& b) {
  if (Status s = NeedScale(a, "mean difference"); !s.ok()) return s;
  if (Status s = NeedScale(b, "mean difference"); !s.ok()) return s;
  if (a.min_point() != b.min_point() || a.max_point() != b.max_point()) {
    return Status::InvalidArgument("mean difference: the two scales differ");
  }
  const ScaleMoments ma = Moments(a);
  const ScaleMoments mb = Moments(b);
  const double span = a.max_point() - a.min_point();
  const double na = static_cast<double>(ma.n);
  const double nb = static_cast<double>(mb.n);
  const double d =
      (ma.n ? static_cast<double>(ma.sum) / na : (a.min_point() + a.max_point()) / 2.0) -
      (mb.n ? static_cast<double>(mb.sum) / nb : (b.min_point() + b.max_point()) / 2.0);
  if (ma.n < 2 || mb.n < 2) return Difference{Estimate{d, ma.n + mb.n, -span, span}, false};
  const double va = static_cast<double>(ma.spread) / (na * (na - 1)) / na;  // Var(mean_a)
  const double vb = static_cast<double>(mb.spread) / (nb * (nb - 1)) / nb;
  const double se2 = va + vb;
  if (!(se2 > 0)) return Verdict(Estimate{d, ma.n + mb.n, d, d});
  const double df = se2 * se2 / (va * va / (na - 1) + vb * vb / (nb - 1));
  const double t = TQuantile975(std::max<uint64_t>(1, static_cast<uint64_t>(df)));
  const double half = t * std::sqrt(se2);
  return Verdict(
      Estimate{d, ma.n + mb.n, Clamp(d - half, -span, span), Clamp(d + half, -span, span)});
}

//-----------------------------------------------------------------------------
// [SECTION] Rankings
//-----------------------------------------------------------------------------

Ranking Rank(const std::map<std::string, Estimate>& groups, uint64_t min_n, Better better) {
  Ranking r;
  r.min_n = min_n;
  for (const auto& [group, estimate] : groups) {
    (estimate.n < min_n ? r.too_few : r.ranked).push_back(RankedGroup{group, 0, estimate});
  }
  // Stable over the map's name order, so ties list by name on every target.
  std::stable_sort(r.ranked.begin(), r.ranked.end(),
                   [better](const RankedGroup& x, const RankedGroup& y) {
                     return better == Better::kHigher ? x.estimate.value > y.estimate.value
                                                      : x.estimate.value < y.estimate.value;
                   });
  for (uint64_t i = 0; i < r.ranked.size(); ++i) {
    const bool tie = i > 0 && r.ranked[i].estimate.value == r.ranked[i - 1].estimate.value;
    r.ranked[i].rank = tie ? r.ranked[i - 1].rank : static_cast<int32_t>(i + 1);
  }
  return r;
}

Result<Ranking> RankByNps(const std::map<std::string, ScaleCounts>& groups, uint64_t min_n) {
  std::map<std::string, Estimate> estimates;
  for (const auto& [group, scores] : groups) {
    Result<NpsResult> nps = ComputeNps(scores);
    if (!nps.ok()) return nps.status().WithContext(group);
    estimates.emplace(group, nps->nps);
  }
  return Rank(estimates, min_n, Better::kHigher);
}

//-----------------------------------------------------------------------------
// [SECTION] Key drivers
//-----------------------------------------------------------------------------

Estimate Correlation(const PairedStats& p) {
  const Uint128 n = p.n;
  const auto spread = [&](int64_t sum, uint64_t sum_sq) {
    const Uint128 abs_sum =
        sum < 0 ? static_cast<Uint128>(-static_cast<Int128>(sum)) : static_cast<Uint128>(sum);
    return n * sum_sq - abs_sum * abs_sum;
  };
  const Uint128 vx = spread(p.sum_x, p.sum_xx);
  const Uint128 vy = spread(p.sum_y, p.sum_yy);
  if (vx == 0 || vy == 0) return Estimate{0, p.n, -1, 1};
  const Int128 cov = static_cast<Int128>(p.n) * p.sum_xy - static_cast<Int128>(p.sum_x) * p.sum_y;
  const double r = Clamp(static_cast<double>(cov) / (std::sqrt(static_cast<double>(vx)) *
                                                     std::sqrt(static_cast<double>(vy))),
                         -1, 1);
  if (p.n < 4) return Estimate{r, p.n, -1, 1};
  if (r == 1 || r == -1) return Estimate{r, p.n, r, r};
  const double z = 0.5 * PortableLog((1 + r) / (1 - r));  // Fisher's atanh(r)
  const double half = kZ95 / std::sqrt(static_cast<double>(p.n) - 3);
  return Contain(
      Estimate{r, p.n, Clamp(PortableTanh(z - half), -1, 1), Clamp(PortableTanh(z + half), -1, 1)});
}

const char* QuadrantName(Quadrant quadrant) {
  switch (quadrant) {
    case Quadrant::kFixFirst:
      return "fix first";
    case Quadrant::kKeepUp:
      return "keep up";
    case Quadrant::kLowPriority:
      return "low priority";
    case Quadrant::kPossibleOverkill:
      return "possible overkill";
  }
  return "unknown";
}

QuadrantSplit QuadrantSplitOf(const std::vector<DriverResult>& drivers) {
  QuadrantSplit split;
  if (drivers.empty()) return split;
  double importance_sum = 0;
  double performance_sum = 0;
  for (const DriverResult& r : drivers) {
    importance_sum += r.importance;
    performance_sum += r.performance.value;
  }
  const double k = static_cast<double>(drivers.size());
  split.importance = importance_sum / k;
  split.performance = performance_sum / k;
  return split;
}

Result<std::vector<DriverResult>> KeyDrivers(const std::vector<DriverInput>& attributes) {
  std::vector<DriverResult> out;
  out.reserve(attributes.size());
  for (const DriverInput& in : attributes) {
    if (!ScaleCounts::IsValidScale(in.scale_min, in.scale_max)) {
      return Status::InvalidArgument(in.attribute + ": invalid scale " +
                                     std::to_string(in.scale_min) + ".." +
                                     std::to_string(in.scale_max));
    }
    DriverResult r;
    r.attribute = in.attribute;
    r.correlation = Correlation(in.pairs);
    r.importance = r.correlation.value;
    const PairedStats& p = in.pairs;
    const Uint128 abs_sum = p.sum_x < 0 ? static_cast<Uint128>(-static_cast<Int128>(p.sum_x))
                                        : static_cast<Uint128>(p.sum_x);
    const Uint128 spread = static_cast<Uint128>(p.n) * p.sum_xx - abs_sum * abs_sum;
    r.performance =
        Rescale(MeanInterval(p.n, static_cast<double>(p.sum_x), spread, in.scale_min, in.scale_max),
                in.scale_min, in.scale_max);
    out.push_back(std::move(r));
  }
  const QuadrantSplit split = QuadrantSplitOf(out);
  for (DriverResult& r : out) {
    const bool important = r.importance >= split.importance;
    const bool performing = r.performance.value >= split.performance;
    r.quadrant = important ? (performing ? Quadrant::kKeepUp : Quadrant::kFixFirst)
                           : (performing ? Quadrant::kPossibleOverkill : Quadrant::kLowPriority);
  }
  return out;
}

//-----------------------------------------------------------------------------
// [SECTION] Trends
//-----------------------------------------------------------------------------

Result<std::vector<TrendPoint>> NpsTrend(
    const std::vector<std::pair<std::string, ScaleCounts>>& periods) {
  std::vector<TrendPoint> series;
  series.reserve(periods.size());
  for (const auto& [period, scores] : periods) {
    Result<NpsResult> nps = ComputeNps(scores);
    if (!nps.ok()) return nps.status().WithContext(period);
    series.push_back(TrendPoint{period, nps->nps});
  }
  return series;
}

}  // namespace canvass::metrics
