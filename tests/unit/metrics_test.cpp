// Tests for canvass/metrics.h: the seeds' worked examples, hand-computed intervals, a seeded Monte
// Carlo coverage check, and the merge property (statistics of any split merge to exactly the
// whole).
#include "canvass/metrics.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace canvass::metrics {
namespace {

// The bit pattern of a double (memcpy: Emscripten 3.1.6's libc++ has no std::bit_cast).
uint64_t DoubleBits(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

// Hand-computed values are checked to 1e-9 absolute, not Catch's default relative epsilon.
Approx Near(double v) { return Approx(v).epsilon(0).margin(1e-9); }

// SplitMix64 with our own mapping to ranges: the same numbers under libstdc++ and libc++, unlike
// std::uniform_int_distribution.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // 0 <= result < bound, by multiply-shift on the top 32 bits (bias < 2^-32 * bound).
  uint32_t Below(uint32_t bound) {
    return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(bound)) >> 32);
  }

 private:
  uint64_t state_;
};

// Adds without one Catch assertion per answer, so the assertion count stays meaningful.
void MustOk(const Status& status) {
  if (!status.ok()) FAIL(status.ToString());
}
void MustAdd(ScaleCounts& s, int32_t point, uint64_t count = 1) { MustOk(s.Add(point, count)); }

ScaleCounts Answers(int32_t min_point, int32_t max_point, const std::vector<int32_t>& answers) {
  ScaleCounts s(min_point, max_point);
  for (int32_t a : answers) MustAdd(s, a);
  return s;
}

ScaleCounts NpsCounts(uint64_t promoters, uint64_t passives, uint64_t detractors) {
  ScaleCounts s = ScaleCounts::Nps();
  REQUIRE(s.Add(10, promoters).ok());
  REQUIRE(s.Add(8, passives).ok());
  REQUIRE(s.Add(3, detractors).ok());
  return s;
}

//-----------------------------------------------------------------------------
// The seeds' worked examples
//-----------------------------------------------------------------------------

TEST_CASE("NPS of 25% detractors, 55% passives, 20% promoters is exactly -5", "[metrics][nps]") {
  Result<NpsResult> r = ComputeNps(NpsCounts(20, 55, 25));
  REQUIRE(r.ok());
  CHECK(r->nps.value == -5.0);
  CHECK(r->nps.n == 100);
  CHECK(r->promoters == 20);
  CHECK(r->passives == 55);
  CHECK(r->detractors == 25);
  CHECK(r->treatment == NonResponderTreatment::kExclude);
  // Any multiple gives the same exact score.
  CHECK(ComputeNps(NpsCounts(2000, 5500, 2500))->nps.value == -5.0);
  CHECK(NpsFromCounts(4, 11, 5).nps.value == -5.0);
}

TEST_CASE("NPS of answers 10, 9, 6, 6, 3 is exactly -20", "[metrics][nps]") {
  Result<NpsResult> r = ComputeNps(Answers(0, 10, {10, 9, 6, 6, 3}));
  REQUIRE(r.ok());
  CHECK(r->nps.value == -20.0);
  CHECK(r->promoters == 2);
  CHECK(r->passives == 0);
  CHECK(r->detractors == 3);
}

// Satisfaction on 1..5 with the default cut points 5 / 4 / 1-3, 100 respondents per attribute, so
// the seeds' percentages are the counts.
CsiAttributeStats SeedAttribute(uint64_t important, uint64_t promoters, uint64_t neutrals,
                                uint64_t critics) {
  CsiAttributeStats a;
  a.important = important;
  a.not_important = 100 - important;
  a.satisfaction = ScaleCounts(1, 5);
  REQUIRE(a.satisfaction.Add(5, promoters).ok());
  REQUIRE(a.satisfaction.Add(4, neutrals).ok());
  REQUIRE(a.satisfaction.Add(2, critics).ok());
  return a;
}

TEST_CASE("CSI seed table: price 20, staff 0, location 30", "[metrics][csi]") {
  Result<CsiResult> r = ComputeCsi({{"price", SeedAttribute(89, 30, 60, 10)},
                                    {"staff", SeedAttribute(11, 5, 90, 5)},
                                    {"location", SeedAttribute(60, 40, 50, 10)}});
  REQUIRE(r.ok());
  REQUIRE(r->attributes.size() == 3);
  CHECK(r->attributes[0].attribute == "price");
  CHECK(r->attributes[0].importance.value == 89.0);
  CHECK(r->attributes[0].index.value == 20.0);
  CHECK(r->attributes[1].index.value == 0.0);
  CHECK(r->attributes[2].index.value == 30.0);
  CHECK(r->attributes[0].promoters == 30);
  CHECK(r->attributes[0].neutrals == 60);
  CHECK(r->attributes[0].critics == 10);
  // Overall: (89*20 + 11*0 + 60*30) / (89 + 11 + 60) = 3580 / 160 = 22.375, exact in binary.
  CHECK(r->index.value == 22.375);
  CHECK(r->index.n == 100);
  CHECK(r->weights[0] == Near(89.0 / 160));
  CHECK(r->weights[1] == Near(11.0 / 160));
  CHECK(r->weights[2] == Near(60.0 / 160));
  // 0-100 CSI: satisfaction means 4.1, 3.95, 4.2 on 1..5 -> 77.5, 73.75, 80 on 0..100;
  // (89*77.5 + 11*73.75 + 60*80) / 160 = 12508.75 / 160 = 78.1796875.
  CHECK(r->attributes[0].satisfaction.value == Near(77.5));
  CHECK(r->score.value == Near(78.1796875));
}

TEST_CASE("CSI combines a report's typed-in percentages exactly", "[metrics][csi]") {
  const auto typed = [](const char* name, double importance, double index) {
    CsiAttributeResult a;
    a.attribute = name;
    a.importance = Estimate{importance, 100, importance, importance};
    a.index = Estimate{index, 100, index, index};
    a.satisfaction = Estimate{50, 100, 50, 50};
    return a;
  };
  // Attribute indices as %promoters - %critics, straight from the seeds' table.
  CsiResult r = CombineCsi({typed("price", 89, 30.0 - 10.0), typed("staff", 11, 5.0 - 5.0),
                            typed("location", 60, 40.0 - 10.0)});
  CHECK(r.index.value == 22.375);
  CHECK(r.index.lo == 22.375);
  CHECK(r.score.value == 50.0);
}

TEST_CASE("15 regulars of 100 customers is a loyalty rate of exactly 15%", "[metrics][loyalty]") {
  CustomerVisits visits;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "customer-" + std::to_string(i);
    REQUIRE(visits.Add(key).ok());
    if (i < 15) REQUIRE(visits.Add(key, 1 + i % 3).ok());  // regulars come 2 to 4 times
  }
  LoyaltyResult r = ComputeLoyalty(visits);
  CHECK(r.customers == 100);
  CHECK(r.returning_customers == 15);
  CHECK(r.loyalty_rate.value == 15.0);
  CHECK(r.loyalty_rate.n == 100);
  // Repeat visits: 5 regulars each of +1, +2, +3 -> 30 repeats of 130 visits.
  CHECK(r.visits == 130);
  CHECK(r.repeat_purchase_rate.value == Near(100.0 * 30 / 130));
  CHECK(LoyaltyFromCounts(100, 15, 130) == r);
  CHECK(visits.Add("").code() == StatusCode::kInvalidArgument);
}

//-----------------------------------------------------------------------------
// Hand-computed intervals
//-----------------------------------------------------------------------------

TEST_CASE("Adjusted Wald NPS intervals match hand computation", "[metrics][nps][interval]") {
  // 10, 9, 6, 6, 3: P = 2, D = 3, N = 5. Adjusted: N' = 8, p = 2.75/8 = 0.34375,
  // d = 3.75/8 = 0.46875, p - d = -0.125, Var = p + d - (p - d)^2 = 0.8125 - 0.015625 = 0.796875,
  // SE = sqrt(0.796875 / 8) = 0.315609... ; z*SE = 0.493583310652315;
  // interval = 100 * (-0.125 -+ 0.493583310652315) = [-74.3583310652315, 49.3583310652315].
  const NpsResult small = *ComputeNps(Answers(0, 10, {10, 9, 6, 6, 3}));
  CHECK(small.nps.lo == Near(-74.358331065231534));
  CHECK(small.nps.hi == Near(49.358331065231534));

  // Seed: P = 20, D = 25, N = 100. N' = 103, p = 20.75/103, d = 25.75/103, p - d = -5/103
  // = -0.0485436893203883, Var = 46.5/103 - 25/103^2 = 0.449099820906777, SE = sqrt(Var/103)
  // = 0.0660313...; z*SE = 0.129419...; interval = [-17.7963547507416, 8.08761688666395].
  const NpsResult seed = *ComputeNps(NpsCounts(20, 55, 25));
  CHECK(seed.nps.lo == Near(-17.796354750741621));
  CHECK(seed.nps.hi == Near(8.0876168866639508));

  // All promoters, N = 1: N' = 4, p = 1.75/4 = 0.4375, d = 0.75/4 = 0.1875, p - d = 0.25,
  // Var = 0.625 - 0.0625 = 0.5625, SE = sqrt(0.5625/4) = 0.375. The shrunken interval
  // 100 * (0.25 -+ z*0.375) = [-48.498649420252, 98.498649420252] misses the value 100, so its
  // top is widened to 100.
  const Estimate one = NetScore(1, 0, 1);
  CHECK(one.value == 100.0);
  CHECK(one.hi == 100.0);
  CHECK(one.lo == Near(-48.498649420252025));
  // No answers: the midpoint and the whole range.
  CHECK(NetScore(0, 0, 0) == Estimate{0, 0, -100, 100});
}

TEST_CASE("Wilson intervals match hand computation", "[metrics][interval]") {
  // 15 of 100: p = 0.15, z^2 = 3.841458820694124, denominator 1 + z^2/100 = 1.03841458820694,
  // centre (0.15 + z^2/200) / 1.0384... = 0.162947723870..., half-width
  // z * sqrt(0.15*0.85/100 + z^2/40000) / 1.0384... = 0.069888...;
  // interval = [9.30598528365663, 23.2835595908324] percent.
  const Estimate e = WilsonPercent(15, 100);
  CHECK(e.value == 15.0);
  CHECK(e.n == 100);
  CHECK(e.lo == Near(9.3059852836566319));
  CHECK(e.hi == Near(23.283559590832365));
  // 4 of 5: [37.5534629762525, 96.377589136757].
  CHECK(WilsonPercent(4, 5).lo == Near(37.553462976252531));
  CHECK(WilsonPercent(4, 5).hi == Near(96.377589136756983));
  // The ends are exact.
  CHECK(WilsonPercent(0, 7).lo == 0.0);
  CHECK(WilsonPercent(7, 7).hi == 100.0);
  CHECK(WilsonPercent(0, 0) == Estimate{50, 0, 0, 100});
}

TEST_CASE("t quantiles: table, expansion and the normal limit", "[metrics][interval]") {
  CHECK(TQuantile975(1) == Near(12.706204736174705));
  CHECK(TQuantile975(4) == Near(2.7764451051977944));
  CHECK(TQuantile975(30) == Near(2.0422724563012383));
  // Beyond the table the Cornish-Fisher expansion, checked against the t distribution's quantiles
  // (inverted regularized incomplete beta, 30 digits): t(40) = 2.0210753903062734,
  // t(100) = 1.9839715185235523, t(10^6) = 1.959966356814107; error < 3e-8.
  CHECK(std::fabs(TQuantile975(40) - 2.0210753903062734) < 3e-8);
  CHECK(std::fabs(TQuantile975(100) - 1.9839715185235523) < 1e-9);
  CHECK(TQuantile975(1000000) == Near(1.959966356814107));
}

TEST_CASE("Response rate: Wilson interval and the representativeness warning",
          "[metrics][response]") {
  OutcomeCounts o;
  o.completed = 15;
  o.partial = 5;
  o.declined = 30;
  o.ignored = 50;
  const ResponseRateResult r = ComputeResponseRate(o);
  CHECK(r.offered == 100);
  CHECK(r.non_responders == 85);
  CHECK(r.rate == WilsonPercent(15, 100));
  CHECK(r.unrepresentative);  // 15% < 20%
  CHECK_FALSE(ComputeResponseRate(o, 10.0).unrepresentative);
  o.completed = 20;
  o.ignored = 45;
  CHECK_FALSE(ComputeResponseRate(o).unrepresentative);          // exactly 20% is not below 20%
  CHECK(ComputeResponseRate(OutcomeCounts{}).unrepresentative);  // nothing offered
}

TEST_CASE("CSAT: top-2 box with Wilson, mean with t interval", "[metrics][csat]") {
  // 5, 4, 4, 3, 5 on 1..5: top-2 (4-5) = 4 of 5. Mean 4.2, s^2 = (0.64+0.04+0.04+1.44+0.64)/4
  // = 0.7, t(4) = 2.7764451051977944, half = t*sqrt(0.7/5) = 1.0388506336835680:
  // [3.161149366316432, 5.238850633683568] -> clamped to the scale: hi = 5.
  const CsatResult r = *ComputeCsat(Answers(1, 5, {5, 4, 4, 3, 5}));
  CHECK(r.top2 == WilsonPercent(4, 5));
  CHECK(r.mean.value == Near(4.2));
  CHECK(r.mean.lo == Near(3.161149366316432));
  CHECK(r.mean.hi == 5.0);
  CHECK(r.mean.n == 5);
  // One answer says nothing about spread: the whole scale.
  CHECK(ComputeCsat(Answers(1, 5, {4}))->mean == Estimate{4, 1, 1, 5});
  CHECK(ComputeCsat(ScaleCounts()).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("CES: 1..7 mean and agreement 5-7; the 0..10 variant counts like NPS", "[metrics][ces]") {
  const CesResult r = *ComputeCes(Answers(1, 7, {7, 6, 5, 4, 3, 7, 2, 5}));
  CHECK(r.agree_from == 5);
  CHECK(r.agree.value == Near(100.0 * 5 / 8));
  CHECK(r.mean.value == Near(39.0 / 8));
  CHECK(ComputeCes(ScaleCounts(1, 5))->agree_from == 4);
  CHECK(ComputeCes(ScaleCounts(1, 4))->agree_from == 3);
  const NpsResult net = *ComputeCesNet(Answers(0, 10, {10, 9, 8, 2}));
  CHECK(net.nps.value == 25.0);
  CHECK(ComputeCesNet(ScaleCounts(1, 7)).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Default cut points keep NPS's proportions on every scale", "[metrics][csi]") {
  CHECK(DefaultCutPoints(0, 10) == CutPoints{9, 7});
  CHECK(DefaultCutPoints(1, 5) == CutPoints{5, 4});
  CHECK(DefaultCutPoints(1, 7) == CutPoints{6, 4});
  CHECK(DefaultCutPoints(1, 10) == CutPoints{9, 7});
  CHECK(DefaultCutPoints(1, 4) == CutPoints{4, 3});
  CHECK(DefaultCutPoints(1, 3) == CutPoints{3, 2});
  CHECK(DefaultCutPoints(0, 1) == CutPoints{1, 1});  // no neutrals on a yes/no scale
}

TEST_CASE("CSI attribute: rated importance, custom cut points, errors", "[metrics][csi]") {
  CsiAttributeStats a;
  a.importance_rating = Answers(1, 5, {5, 4, 4, 3});  // mean 4 -> 75 on 0..100
  a.satisfaction = Answers(1, 7, {7, 6, 5, 4, 1});
  const CsiAttributeResult r = *ComputeCsiAttribute("product", a);
  CHECK(r.importance.value == 75.0);
  CHECK(r.cuts == CutPoints{6, 4});
  CHECK(r.promoters == 2);
  CHECK(r.neutrals == 2);
  CHECK(r.critics == 1);
  CHECK(r.index.value == 20.0);
  const CsiAttributeResult strict = *ComputeCsiAttribute("product", a, CutPoints{7, 5});
  CHECK(strict.index.value == Near(100.0 * (1 - 2) / 5));
  CHECK(ComputeCsiAttribute("product", a, CutPoints{3, 5}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(ComputeCsiAttribute("product", CsiAttributeStats{}).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("CLI: mean of the item means and each item's net score", "[metrics][cli]") {
  // recommend 10, 9, 8 (mean 9; net 2/3); repurchase 5, 5 (mean 5; net -100);
  // cross_buy 0, 10 (mean 5; net 0). Index = (9 + 5 + 5) / 3 = 19/3.
  const CliResult r =
      *ComputeCli(Answers(0, 10, {10, 9, 8}), Answers(0, 10, {5, 5}), Answers(0, 10, {0, 10}));
  CHECK(r.index.value == Near(19.0 / 3));
  CHECK(r.index.n == 2);
  CHECK(r.recommend.mean.value == Near(9.0));
  CHECK(r.recommend.net.nps.value == Near(200.0 / 3));
  CHECK(r.repurchase.net.nps.value == -100.0);
  CHECK(r.cross_buy.net.nps.value == 0.0);
  // An item nobody answered is left out of the index.
  const CliResult partial = *ComputeCli(Answers(0, 10, {10, 8}), ScaleCounts(), ScaleCounts::Nps());
  CHECK(partial.index.value == 9.0);
  CHECK(partial.repurchase.mean.n == 0);
  CHECK(ComputeCli(ScaleCounts(1, 5), ScaleCounts(), ScaleCounts()).status().code() ==
        StatusCode::kInvalidArgument);
}

//-----------------------------------------------------------------------------
// Non-responders, differences, rankings
//-----------------------------------------------------------------------------

TEST_CASE("NPS non-responder treatments and bounds on a worked example", "[metrics][nps]") {
  // 10 responders: P = 6, passives 2, D = 2; 20 offers, so R = 10 silent customers, T = 20.
  // exclude:      100 * (6 - 2) / 10       = 40
  // as_passive:   100 * (6 - 2) / 20       = 20 (= 40 x the 50% response rate)
  // as_detractor: 100 * (6 - 2 - 10) / 20  = -30
  // bounds:       [100 * (6 - 2 - 10) / 20, 100 * (6 + 10 - 2) / 20] = [-30, 70]
  ScaleCounts scores = Answers(0, 10, {10, 10, 10, 9, 9, 9, 8, 7, 6, 0});
  OutcomeCounts outcomes;
  outcomes.completed = 10;
  outcomes.declined = 6;
  outcomes.ignored = 4;

  const NpsResult ex = *ComputeNps(scores, outcomes, NonResponderTreatment::kExclude);
  const NpsResult pa = *ComputeNps(scores, outcomes, NonResponderTreatment::kAsPassive);
  const NpsResult de = *ComputeNps(scores, outcomes, NonResponderTreatment::kAsDetractor);
  CHECK(ex.nps.value == 40.0);
  CHECK(ex.nps.n == 10);
  CHECK(pa.nps.value == 20.0);
  CHECK(pa.nps.n == 20);
  CHECK(de.nps.value == -30.0);
  CHECK(de.nps.n == 20);
  for (const NpsResult& r : {ex, pa, de}) {
    CHECK(r.classic.value == 40.0);
    CHECK(r.non_responders == 10);
    CHECK(r.bound_lo == -30.0);
    CHECK(r.bound_hi == 70.0);
  }
  CHECK(pa.treatment == NonResponderTreatment::kAsPassive);
  CHECK(std::string(TreatmentName(de.treatment)) == "as_detractor");
  // Intervals use the treated counts. as_passive: N' = 23, p = 6.75/23, d = 2.75/23 ->
  // [-7.89403873844005, 42.6766474340922]. as_detractor: D = 12, p = 6.75/23, d = 12.75/23 ->
  // [-62.1754134966759, 10.0015004531976]. exclude: N' = 13 ->
  // [-12.5855799688081, 74.1240415072697].
  CHECK(pa.nps.lo == Near(-7.894038738440052));
  CHECK(pa.nps.hi == Near(42.676647434092226));
  CHECK(de.nps.lo == Near(-62.175413496675896));
  CHECK(de.nps.hi == Near(10.001500453197635));
  CHECK(ex.nps.lo == Near(-12.585579968808116));
  CHECK(ex.nps.hi == Near(74.124041507269654));
  // No silent customers: the bounds collapse onto the classic score.
  const NpsResult all = NpsFromCounts(6, 2, 2, 0, NonResponderTreatment::kAsDetractor);
  CHECK(all.bound_lo == 40.0);
  CHECK(all.bound_hi == 40.0);
  CHECK(all.nps.value == 40.0);
}

TEST_CASE("NPS difference: significant and not significant", "[metrics][difference]") {
  // A: 60/30/10 (NPS 50) vs B: 20/30/50 (NPS -30). Adjusted: centres 49.25/103 and -29.25/103 ...
  // SE = sqrt(VarA/103 + VarB/103); interval [57.7132344568362, 97.6265713684065]: significant.
  const Difference sig = NpsDifference(NpsFromCounts(60, 30, 10), NpsFromCounts(20, 30, 50));
  CHECK(sig.difference.value == 80.0);
  CHECK(sig.difference.n == 200);
  CHECK(sig.difference.lo == Near(57.713234456836176));
  CHECK(sig.difference.hi == Near(97.626571368406543));
  CHECK(sig.significant);
  // A: 30/50/20 (NPS 10) vs B: 25/55/20 (NPS 5): [-13.8661572747973, 23.57489513887496].
  const Difference ns = NpsDifference(NpsFromCounts(30, 50, 20), NpsFromCounts(25, 55, 20));
  CHECK(ns.difference.value == 5.0);
  CHECK(ns.difference.lo == Near(-13.866157274797291));
  CHECK(ns.difference.hi == Near(23.574895138874961));
  CHECK_FALSE(ns.significant);
  // Reversed order: the mirror image.
  const Difference back = NpsDifference(NpsFromCounts(20, 30, 50), NpsFromCounts(60, 30, 10));
  CHECK(back.difference.value == -80.0);
  CHECK(back.difference.hi == Near(-57.713234456836176));
  CHECK(back.significant);
  CHECK_FALSE(NpsDifference(NpsFromCounts(0, 0, 0), NpsFromCounts(9, 0, 0)).significant);
}

TEST_CASE("Share and mean differences", "[metrics][difference]") {
  // Newcombe: 30/100 vs 20/100, d = 10; Wilson A = [21.9..., 39.6...], B = [13.3..., 28.9...];
  // lo = 10 - sqrt((30 - loA)^2 + (hiB - 20)^2) = -2.02493621530134,
  // hi = 10 + sqrt((hiA - 30)^2 + (20 - loB)^2) = 21.6734354017786: not significant.
  const Difference share = ShareDifference(30, 100, 20, 100);
  CHECK(share.difference.value == 10.0);
  CHECK(share.difference.lo == Near(-2.024936215301336));
  CHECK(share.difference.hi == Near(21.673435401778591));
  CHECK_FALSE(share.significant);
  CHECK(ShareDifference(60, 100, 20, 100).significant);

  std::vector<int32_t> high(40, 5);
  std::vector<int32_t> low(40, 2);
  high[0] = 4;
  low[0] = 3;
  const Difference mean = *MeanDifference(Answers(1, 5, high), Answers(1, 5, low));
  CHECK(mean.difference.value == Near(4.975 - 2.025));
  CHECK(mean.significant);
  CHECK(MeanDifference(ScaleCounts(1, 5), ScaleCounts(1, 7)).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("Ranking leaves out groups with n below min_n and lists them as too few",
          "[metrics][ranking]") {
  std::map<std::string, ScaleCounts> staff;
  staff["anna"] = NpsCounts(25, 10, 5);     // n 40, NPS 50
  staff["boris"] = NpsCounts(29, 0, 0);     // n 29, NPS 100: too few to rank
  staff["clara"] = NpsCounts(18, 9, 3);     // n 30, NPS 50: ties with anna
  staff["dmitro"] = NpsCounts(30, 50, 20);  // n 100, NPS 10
  const Ranking r = *RankByNps(staff);
  REQUIRE(r.ranked.size() == 3);
  CHECK(r.ranked[0].group == "anna");
  CHECK(r.ranked[0].rank == 1);
  CHECK(r.ranked[1].group == "clara");
  CHECK(r.ranked[1].rank == 1);
  CHECK(r.ranked[2].group == "dmitro");
  CHECK(r.ranked[2].rank == 3);
  CHECK(r.ranked[2].estimate == ComputeNps(staff["dmitro"])->nps);
  REQUIRE(r.too_few.size() == 1);
  CHECK(r.too_few[0].group == "boris");
  CHECK(r.too_few[0].rank == 0);
  CHECK(r.too_few[0].estimate.n == 29);
  CHECK(r.min_n == 30);

  // Lower is better (e.g. an effort score), any index, any min_n.
  std::map<std::string, ScaleCounts> effort = {
      {"a", Answers(1, 7, {1, 2})}, {"b", Answers(1, 7, {6, 7})}, {"c", Answers(1, 7, {4})}};
  const Ranking e = RankBy(
      effort, [](const ScaleCounts& s) { return *Mean(s); }, 2, Better::kLower);
  REQUIRE(e.ranked.size() == 2);
  CHECK(e.ranked[0].group == "a");
  CHECK(e.ranked[1].group == "b");
  CHECK(e.too_few.size() == 1);
}

TEST_CASE("Key drivers: correlations and importance-performance quadrants", "[metrics][drivers]") {
  // y = 0, 2, 4, 6, 8, 10 twice. price x = 1,1,2,2,3,3 twice: n = 12, sum x = 24, sum y = 60,
  // sum x^2 = 56, sum y^2 = 440, sum xy = 152; cov = 12*152 - 24*60 = 384, vx = 12*56 - 24^2 = 96,
  // vy = 12*440 - 60^2 = 1680; r = 384 / sqrt(96 * 1680) = 0.956182887467515. Fisher:
  // tanh(atanh(r) -+ z/3) = [0.847169919243459, 0.987944896423751].
  const std::vector<int32_t> y = {0, 2, 4, 6, 8, 10, 0, 2, 4, 6, 8, 10};
  const auto input = [&](const char* name, std::vector<int32_t> x) {
    DriverInput in;
    in.attribute = name;
    for (uint64_t i = 0; i < x.size(); ++i) in.pairs.Add(x[i], y[i]);
    return in;
  };
  const std::vector<DriverResult> r = *KeyDrivers({
      input("price", {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}),     // matters, performs badly
      input("staff", {3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5}),     // matters, performs well
      input("location", {1, 3, 2, 2, 3, 1, 3, 1, 2, 2, 1, 3}),  // r = 0, performs badly
      input("parking", {5, 3, 4, 4, 3, 5, 3, 5, 4, 4, 5, 3}),   // r = 0, performs well
  });
  REQUIRE(r.size() == 4);
  CHECK(r[0].correlation.value == Near(0.95618288746751491));
  CHECK(r[0].correlation.lo == Near(0.84716991924345867));
  CHECK(r[0].correlation.hi == Near(0.98794489642375144));
  CHECK(r[0].correlation.n == 12);
  CHECK(r[0].importance == r[0].correlation.value);
  CHECK(r[0].performance.value == 25.0);  // mean 2 on 1..5
  CHECK(r[2].correlation.value == 0.0);
  CHECK(r[2].correlation.lo == Near(-0.57390161701127989));
  CHECK(r[0].quadrant == Quadrant::kFixFirst);
  CHECK(r[1].quadrant == Quadrant::kKeepUp);
  CHECK(r[2].quadrant == Quadrant::kLowPriority);
  CHECK(r[3].quadrant == Quadrant::kPossibleOverkill);
  CHECK(std::string(QuadrantName(r[3].quadrant)) == "possible overkill");

  PairedStats flat;
  for (int i = 0; i < 10; ++i) flat.Add(4, i);
  CHECK(Correlation(flat) == Estimate{0, 10, -1, 1});  // undefined when x never varies
}

TEST_CASE("Trend turns periods into a series of estimates", "[metrics][trend]") {
  const std::vector<std::pair<std::string, ScaleCounts>> weeks = {
      {"2024-W18", NpsCounts(20, 55, 25)},
      {"2024-W19", NpsCounts(30, 50, 20)},
      {"2024-W20", ScaleCounts()},
  };
  const std::vector<TrendPoint> nps = *NpsTrend(weeks);
  REQUIRE(nps.size() == 3);
  CHECK(nps[0].period == "2024-W18");
  CHECK(nps[0].estimate.value == -5.0);
  CHECK(nps[1].estimate.value == 10.0);
  CHECK(nps[2].estimate.n == 0);
  const std::vector<TrendPoint> top = Trend(
      weeks, [](const ScaleCounts& s) { return WilsonPercent(s.CountBetween(9, 10), s.Total()); });
  CHECK(top[1].estimate.value == 30.0);
}

TEST_CASE("ScaleCounts refuses foreign scales and adopts the first one merged",
          "[metrics][stats]") {
  ScaleCounts s(1, 5);
  CHECK(s.Add(6).code() == StatusCode::kInvalidArgument);
  CHECK(s.Add(0).code() == StatusCode::kInvalidArgument);
  CHECK(s.Total() == 0);
  CHECK(s.Merge(ScaleCounts(0, 10)).code() == StatusCode::kInvalidArgument);
  ScaleCounts empty;
  CHECK(empty.Add(3).code() == StatusCode::kInvalidArgument);
  REQUIRE(empty.Merge(Answers(1, 5, {3, 4})).ok());
  CHECK(empty == Answers(1, 5, {3, 4}));
  REQUIRE(empty.Merge(ScaleCounts()).ok());
  CHECK(empty.Total() == 2);
  CHECK_FALSE(ScaleCounts(5, 5).has_scale());
  CHECK_FALSE(ScaleCounts(0, 101).has_scale());
  CHECK(ScaleCounts(0, 100).has_scale());

  CsiAttributeStats a;
  a.satisfaction = ScaleCounts(1, 5);
  CsiAttributeStats b;
  b.important = 3;
  b.satisfaction = ScaleCounts(1, 7);
  CHECK(a.Merge(b).code() == StatusCode::kInvalidArgument);
  CHECK(a.important == 0);  // unchanged on failure
}

//-----------------------------------------------------------------------------
// Seeded Monte Carlo coverage
//-----------------------------------------------------------------------------

TEST_CASE("NPS adjusted Wald interval covers the true NPS 93-97% of the time at n = 50",
          "[metrics][nps][montecarlo]") {
  struct Population {
    uint32_t promoters_per_mille;
    uint32_t detractors_per_mille;
  };
  // True NPS = (promoters - detractors) / 10, exact.
  const Population populations[] = {{400, 200}, {300, 300}, {600, 100}, {150, 500}};
  constexpr int kTrials = 4000;
  constexpr int kN = 50;
  SplitMix64 rng(20240501);
  for (const Population& pop : populations) {
    const double true_nps =
        (static_cast<double>(pop.promoters_per_mille) - pop.detractors_per_mille) / 10.0;
    int covered = 0;
    for (int t = 0; t < kTrials; ++t) {
      ScaleCounts s = ScaleCounts::Nps();
      for (int i = 0; i < kN; ++i) {
        const uint32_t u = rng.Below(1000);
        int32_t score = 7 + static_cast<int32_t>(rng.Below(2));  // passive 7-8
        if (u < pop.promoters_per_mille) {
          score = 9 + static_cast<int32_t>(rng.Below(2));
        } else if (u < pop.promoters_per_mille + pop.detractors_per_mille) {
          score = static_cast<int32_t>(rng.Below(7));
        }
        MustAdd(s, score);
      }
      const Estimate e = ComputeNps(s)->nps;
      if (e.lo <= true_nps && true_nps <= e.hi) ++covered;
    }
    const double coverage = static_cast<double>(covered) / kTrials;
    INFO("population P=" << pop.promoters_per_mille << " D=" << pop.detractors_per_mille
                         << "/1000, coverage " << coverage);
    CHECK(coverage >= 0.93);
    CHECK(coverage <= 0.97);
  }
}

//-----------------------------------------------------------------------------
// Merge property
//-----------------------------------------------------------------------------

struct Record {
  int32_t day;
  int32_t location;
  int32_t outcome;  // 0 completed, 1 partial, 2 declined, 3 ignored
  int32_t nps;      // -1 when not answered
  int32_t csat;
  int32_t ces;
  int32_t repurchase;
  int32_t cross_buy;
  int32_t satisfaction[3];
  int32_t important[2];  // 0/1 for price and staff
  int32_t importance;    // 1..5 rating for location
  std::string customer;  // empty when not identified
};

std::vector<Record> MakeRecords(uint64_t seed, int count) {
  SplitMix64 rng(seed);
  std::vector<Record> records;
  for (int i = 0; i < count; ++i) {
    Record r;
    r.day = static_cast<int32_t>(rng.Below(7));
    r.location = static_cast<int32_t>(rng.Below(4));
    const uint32_t o = rng.Below(100);
    r.outcome = o < 55 ? 0 : o < 65 ? 1 : o < 85 ? 2 : 3;
    const bool answered = r.outcome == 0 || (r.outcome == 1 && rng.Below(2) == 0);
    r.nps = answered ? static_cast<int32_t>(rng.Below(11)) : -1;
    r.csat = 1 + static_cast<int32_t>(rng.Below(5));
    r.ces = 1 + static_cast<int32_t>(rng.Below(7));
    r.repurchase = static_cast<int32_t>(rng.Below(11));
    r.cross_buy = static_cast<int32_t>(rng.Below(11));
    for (int32_t& s : r.satisfaction) s = 1 + static_cast<int32_t>(rng.Below(5));
    for (int32_t& s : r.important) s = static_cast<int32_t>(rng.Below(2));
    r.importance = 1 + static_cast<int32_t>(rng.Below(5));
    if (rng.Below(3) != 0) r.customer = "key-" + std::to_string(rng.Below(300));
    records.push_back(r);
  }
  return records;
}

// What the server keeps per (day x tags), as the dashboard would download it.
struct Bundle {
  OutcomeCounts outcomes;
  ScaleCounts nps = ScaleCounts::Nps();
  ScaleCounts csat{1, 5};
  ScaleCounts ces{1, 7};
  ScaleCounts repurchase = ScaleCounts::Nps();
  ScaleCounts cross_buy = ScaleCounts::Nps();
  CsiAttributeStats csi[3];
  PairedStats drivers[3];
  CustomerVisits visits;

  void Add(const Record& r) {
    switch (r.outcome) {
      case 0:
        outcomes.completed += 1;
        break;
      case 1:
        outcomes.partial += 1;
        break;
      case 2:
        outcomes.declined += 1;
        break;
      default:
        outcomes.ignored += 1;
        break;
    }
    if (!r.customer.empty() && !visits.Add(r.customer).ok()) FAIL("visit not counted");
    if (r.nps < 0) return;
    MustAdd(nps, r.nps);
    MustAdd(csat, r.csat);
    MustAdd(ces, r.ces);
    MustAdd(repurchase, r.repurchase);
    MustAdd(cross_buy, r.cross_buy);
    for (int i = 0; i < 3; ++i) {
      // Scales are set on first use, so parts that never saw an answer merge as "no scale".
      if (!csi[i].satisfaction.has_scale()) csi[i].satisfaction = ScaleCounts(1, 5);
      MustAdd(csi[i].satisfaction, r.satisfaction[i]);
      drivers[i].Add(r.satisfaction[i], r.nps);
    }
    for (int i = 0; i < 2; ++i) (r.important[i] ? csi[i].important : csi[i].not_important) += 1;
    if (!csi[2].importance_rating.has_scale()) csi[2].importance_rating = ScaleCounts(1, 5);
    MustAdd(csi[2].importance_rating, r.importance);
  }

  void Merge(const Bundle& o) {
    outcomes.Merge(o.outcomes);
    MustOk(nps.Merge(o.nps));
    MustOk(csat.Merge(o.csat));
    MustOk(ces.Merge(o.ces));
    MustOk(repurchase.Merge(o.repurchase));
    MustOk(cross_buy.Merge(o.cross_buy));
    for (int i = 0; i < 3; ++i) {
      MustOk(csi[i].Merge(o.csi[i]));
      drivers[i].Merge(o.drivers[i]);
    }
    visits.Merge(o.visits);
  }

  bool operator==(const Bundle&) const = default;
};

// Every index, and the bit pattern of every double in it.
std::vector<uint64_t> Report(const Bundle& b) {
  std::vector<uint64_t> bits;
  const auto put = [&](const Estimate& e) {
    bits.push_back(e.n);
    for (double v : {e.value, e.lo, e.hi}) bits.push_back(DoubleBits(v));
  };
  for (NonResponderTreatment t :
       {NonResponderTreatment::kExclude, NonResponderTreatment::kAsPassive,
        NonResponderTreatment::kAsDetractor}) {
    const NpsResult n = *ComputeNps(b.nps, b.outcomes, t);
    put(n.nps);
    put(n.classic);
    bits.push_back(DoubleBits(n.bound_lo));
    bits.push_back(DoubleBits(n.bound_hi));
  }
  put(ComputeResponseRate(b.outcomes).rate);
  const CsatResult csat = *ComputeCsat(b.csat);
  put(csat.top2);
  put(csat.mean);
  const CesResult ces = *ComputeCes(b.ces);
  put(ces.mean);
  put(ces.agree);
  const CliResult cli = *ComputeCli(b.nps, b.repurchase, b.cross_buy);
  put(cli.index);
  put(cli.cross_buy.net.nps);
  const CsiResult csi =
      *ComputeCsi({{"price", b.csi[0]}, {"staff", b.csi[1]}, {"place", b.csi[2]}});
  put(csi.index);
  put(csi.score);
  for (const CsiAttributeResult& a : csi.attributes) {
    put(a.importance);
    put(a.index);
    put(a.satisfaction);
  }
  std::vector<DriverInput> inputs;
  for (int i = 0; i < 3; ++i)
    inputs.push_back(DriverInput{"a" + std::to_string(i), b.drivers[i], 1, 5});
  const std::vector<DriverResult> drivers = *KeyDrivers(inputs);
  for (const DriverResult& d : drivers) {
    put(d.correlation);
    put(d.performance);
    bits.push_back(static_cast<uint64_t>(d.quadrant));
  }
  const LoyaltyResult loyalty = ComputeLoyalty(b.visits);
  put(loyalty.loyalty_rate);
  put(loyalty.repeat_purchase_rate);
  return bits;
}

TEST_CASE("Merging the statistics of any split gives exactly the result over the whole",
          "[metrics][merge]") {
  const std::vector<Record> records = MakeRecords(7, 3000);
  Bundle whole;
  for (const Record& r : records) whole.Add(r);
  const std::vector<uint64_t> expected = Report(whole);

  const auto check_split = [&](const char* how, int parts, auto part_of) {
    std::vector<Bundle> bundles(static_cast<uint64_t>(parts));
    for (const Record& r : records) bundles[static_cast<uint64_t>(part_of(r))].Add(r);
    Bundle forward;
    for (const Bundle& b : bundles) forward.Merge(b);
    Bundle backward;
    for (auto it = bundles.rbegin(); it != bundles.rend(); ++it) backward.Merge(*it);
    INFO("split " << how);
    CHECK(forward == whole);
    CHECK(backward == whole);
    CHECK(Report(forward) == expected);
    CHECK(Report(backward) == expected);
  };
  check_split("by day", 7, [](const Record& r) { return r.day; });
  check_split("by location", 4, [](const Record& r) { return r.location; });
  SplitMix64 rng(99);
  check_split("at random into 5", 5, [&](const Record&) { return static_cast<int>(rng.Below(5)); });
  int next = 0;
  check_split("one record per part", static_cast<int>(records.size()),
              [&](const Record&) { return next++; });

  // Tree-shaped merge (day x location cells, then days), as shards and servers would do it.
  std::map<std::pair<int32_t, int32_t>, Bundle> cells;
  for (const Record& r : records) cells[{r.day, r.location}].Add(r);
  std::map<int32_t, Bundle> days;
  for (const auto& [key, cell] : cells) days[key.first].Merge(cell);
  Bundle tree;
  for (const auto& [day, b] : days) tree.Merge(b);
  CHECK(tree == whole);
  CHECK(Report(tree) == expected);
}

TEST_CASE("Merge is exact on large counts (no floating-point accumulation)", "[metrics][merge]") {
  PairedStats a;
  PairedStats b;
  for (int i = 0; i < 1000; ++i) a.Add(i % 5 + 1, i % 11);
  for (int i = 0; i < 777; ++i) b.Add(i % 3 + 2, (i * 7) % 11);
  PairedStats ab = a;
  ab.Merge(b);
  PairedStats ba = b;
  ba.Merge(a);
  CHECK(ab == ba);
  CHECK(DoubleBits(Correlation(ab).value) == DoubleBits(Correlation(ba).value));

  OutcomeCounts big;
  big.completed = uint64_t{1} << 40;
  OutcomeCounts other = big;
  other.Merge(big);
  CHECK(other.completed == uint64_t{1} << 41);
}

// Every target must compute every index to the same bits (DESIGN section 7: an index comes out the
// same natively and in wasm). The checksum is FNV-1a over the bit patterns of a full report; it
// breaks if anything changes the arithmetic: a formula, the order of operations, or a build flag
// such as -ffast-math or FMA contraction (-ffp-contract=fast with -march=haswell).
TEST_CASE("Indices are bit-identical on every target (golden checksum)", "[metrics][golden]") {
  Bundle whole;
  for (const Record& r : MakeRecords(7, 3000)) whole.Add(r);
  uint64_t hash = 0xcbf29ce484222325ull;
  for (uint64_t word : Report(whole)) {
    for (int i = 0; i < 8; ++i) {
      hash ^= (word >> (8 * i)) & 0xff;
      hash *= 0x100000001b3ull;
    }
  }
  CHECK(hash == 0x9fff9fa726905200ull);
}

}  // namespace
}  // namespace canvass::metrics
