// Benchmark (a): NPS with its interval over one int8 score column of 100M responses, single
// thread, beside a plain memory-read bandwidth measured on the same buffer in the same run.
//
//   canvass_bench_nps [responses]          (native)
//   node --no-experimental-fetch canvass_bench_nps.js [responses]   (wasm)
//
// The column is what ResponseTable stores for a 0..10 question: the score, or -1 (kNoAnswer).
// Fast path: CountAtLeast (byte_counts.h) counts the bytes >= 0, >= 7 and >= 9 in one vectorised
// pass (three compares per 16 bytes), then metrics::NpsFromCounts gives the NPS and its adjusted
// Wald interval. Also timed: the full 11-point histogram (CountSmallValues, eleven compares per 16
// bytes) that the report keeps per question, and the scalar histogram.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "canvass/byte_counts.h"
#include "canvass/metrics.h"
#include "canvass/random.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Best and median of `runs` timings of `fn`, after two untimed warm-up calls. `fn` is called
// through std::function, so it stays a function of its own: V8 runs a wasm function first with
// its baseline compiler (Liftoff) and only a later call gets the optimised code; a kernel inlined
// into main() would be timed at baseline speed in every run.
std::pair<double, double> Time(int runs, const std::function<void()>& fn) {
  fn();
  fn();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const Clock::time_point start = Clock::now();
    fn();
    t.push_back(Seconds(start, Clock::now()));
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000000ull;
  const int runs = 7;
  // A realistic mix: 12% no answer, scores skewed high. One draw fills eight bytes.
  int8_t map[256];
  for (int b = 0; b < 256; ++b) {
    static constexpr int8_t kWeights[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    static constexpr int kCumulative[] = {31, 34, 37, 41, 46, 53, 63, 83, 123, 171, 215, 256};
    int v = 0;
    while (b >= kCumulative[v]) ++v;
    map[b] = kWeights[v];
  }
  std::vector<int8_t> column(static_cast<std::size_t>(n));
  canvass::SplitMix64 rng(42);
  for (uint64_t i = 0; i < n; i += 8) {
    uint64_t r = rng.Next();
    for (uint64_t j = i; j < i + 8 && j < n; ++j, r >>= 8) column[j] = map[r & 255];
  }

  // Plain read bandwidth: sum the same bytes as 64-bit words, four independent accumulators.
  const uint64_t* words = reinterpret_cast<const uint64_t*>(column.data());
  const std::size_t word_count = static_cast<std::size_t>(n / 8);
  volatile uint64_t sink = 0;
  const auto [read_best, read_median] = Time(runs, [&] {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    std::size_t i = 0;
    for (; i + 4 <= word_count; i += 4) {
      s0 += words[i];
      s1 += words[i + 1];
      s2 += words[i + 2];
      s3 += words[i + 3];
    }
    for (; i < word_count; ++i) s0 += words[i];
    sink = sink + s0 + s1 + s2 + s3;
  });

  // NPS needs three counts: answered (>= 0), passives and up, promoters. The band edges come
  // from the metrics engine (its 0..10 cut points are NPS's), not from this file.
  const canvass::metrics::CutPoints cuts = canvass::metrics::DefaultCutPoints(0, 10);
  const int8_t thresholds[3] = {0, static_cast<int8_t>(cuts.neutral_min),
                                static_cast<int8_t>(cuts.promoter_min)};
  canvass::metrics::NpsResult nps;
  const auto [nps_best, nps_median] = Time(runs, [&] {
    uint64_t at_least[3] = {};
    canvass::CountAtLeast(column.data(), column.size(), thresholds, 3, at_least);
    nps = canvass::metrics::NpsFromCounts(at_least[2], at_least[1] - at_least[2],
                                          at_least[0] - at_least[1]);
  });

  // The full 11-point histogram (what the report keeps for every 0..10 question).
  canvass::metrics::NpsResult nps_from_histogram;
  const auto [hist_best, hist_median] = Time(runs, [&] {
    uint64_t counts[11] = {};
    canvass::CountSmallValues(column.data(), column.size(), 11, counts);
    canvass::metrics::ScaleCounts scores = canvass::metrics::ScaleCounts::Nps();
    for (int32_t v = 0; v <= 10; ++v) (void)scores.Add(v, counts[v]);
    nps_from_histogram = *canvass::metrics::ComputeNps(scores);
  });
  if (!(nps_from_histogram == nps)) {
    std::printf("the two kernels disagree\n");
    return 1;
  }

  // The scalar path (what a build without vectors runs), for comparison.
  const auto [scalar_best, scalar_median] = Time(3, [&] {
    uint64_t hist[256] = {};
    canvass::byte_counts_detail::Histogram(column.data(), column.size(), hist);
    sink = sink + hist[10];
  });

  const double gb = static_cast<double>(n) / 1e9;
#if defined(CANVASS_BYTE_COUNTS_VECTOR)
  const char* path = "vector (128-bit)";
#else
  const char* path = "scalar";
#endif
  std::printf("NPS over one int8 column: %llu responses (%.0f MB), kernel: %s\n",
              static_cast<unsigned long long>(n), gb * 1000, path);
  std::printf("  NPS %.2f [%.2f, %.2f], n %llu (promoters %llu, passives %llu, detractors %llu)\n",
              nps.nps.value, nps.nps.lo, nps.nps.hi, static_cast<unsigned long long>(nps.nps.n),
              static_cast<unsigned long long>(nps.promoters),
              static_cast<unsigned long long>(nps.passives),
              static_cast<unsigned long long>(nps.detractors));
  std::printf("  memory read     : %7.2f GB/s  (best of %d; median %.2f GB/s)\n", gb / read_best,
              runs, gb / read_median);
  std::printf("  NPS + interval  : %7.2f GB/s  %.0f M responses/s  %.1f ms  (median %.2f GB/s)\n",
              gb / nps_best, static_cast<double>(n) / nps_best / 1e6, nps_best * 1000,
              gb / nps_median);
  std::printf("  ratio NPS / read: %7.0f%%\n", 100.0 * read_best / nps_best);
  std::printf("  11-point histogram + NPS: %.2f GB/s  %.1f ms  (median %.2f GB/s)\n",
              gb / hist_best, hist_best * 1000, gb / hist_median);
  std::printf("  scalar histogram: %7.2f GB/s  (for comparison)\n", gb / scalar_best);
  return sink == 1 ? 1 : 0;
}
