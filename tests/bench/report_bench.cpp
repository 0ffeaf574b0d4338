// Benchmark (b): a full grouped report (location x ISO week, every index the survey has) over
// 10M offers in a ResponseTable: natively on every core (the table's rows split across threads by
// an Executor, the counts merged), and on one thread beside it; in wasm on one thread.
//
//   canvass_bench_report [offers]          (native)
//   node --no-experimental-fetch canvass_bench_report.js [offers]   (wasm)
//
// The survey is the restaurant example's shape: NPS, a free-text reason, five CSI attributes
// (binary importance, 1..5 satisfaction) and a contact question, tagged with location, staff and
// channel; a third of offers carry a customer key. Filling the table is timed separately: it is
// the cost of reading the data, not of the report.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "canvass/interchange.h"
#include "canvass/random.h"
#include "canvass/report_format.h"

#include "bench_executor.h"
#include "bench_records.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000ull;
  canvass::Result<canvass::Survey> survey = canvass::ParseSurvey(canvass::bench::kSurvey);
  if (!survey.ok()) {
    std::fprintf(stderr, "%s\n", survey.status().ToString().c_str());
    return 1;
  }

  // Fill: 8 locations x 5 staff, 13 weeks, 60% completed; scores follow a per-location mood.
  const Clock::time_point fill_start = Clock::now();
  canvass::ResponseTable table(*survey);
  table.Reserve(static_cast<std::size_t>(n));
  canvass::SplitMix64 rng(7);
  canvass::ResponseRecord r;
  r.device_id = "kiosk";
  for (uint64_t i = 0; i < n; ++i) {
    canvass::bench::NextRecord(rng, i, n, &r);
    if (!table.Add(r).ok()) {
      std::fprintf(stderr, "record %llu refused\n", static_cast<unsigned long long>(i));
      return 1;
    }
  }
  const double fill_ms = Ms(fill_start, Clock::now());

  canvass::ReportOptions grouped;
  grouped.by = {*canvass::ParseGroupBy("location"), *canvass::ParseGroupBy("period:week")};
  canvass::ReportOptions plain;
  canvass::Executor* const parallel = canvass::bench::ParallelExecutor();
  const unsigned threads = parallel ? parallel->Concurrency() : 1;

  // Wall time, and process CPU time (all threads) beside it: on a shared machine the wall clock
  // also counts time spent waiting for a core.
  struct Timing {
    std::vector<double> wall, cpu;
    std::string json;
    std::size_t groups = 0;
  };
  auto time = [&](const canvass::ReportOptions& options, canvass::Executor* executor, Timing& t) {
    const std::clock_t c0 = std::clock();
    const Clock::time_point t0 = Clock::now();
    canvass::Result<canvass::Report> report = canvass::BuildReport(table, options, executor);
    const Clock::time_point t1 = Clock::now();
    t.cpu.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    t.wall.push_back(Ms(t0, t1));
    if (!report.ok()) return false;
    t.groups = report->groups.size();
    if (t.json.empty()) t.json = canvass::ReportToJson(*report);
    return true;
  };
  Timing grouped_par, grouped_one, plain_par, plain_one;
  for (int run = 0; run < 7; ++run) {
    if (!time(grouped, parallel, grouped_par) || !time(plain, parallel, plain_par)) return 1;
    if (parallel && (!time(grouped, nullptr, grouped_one) || !time(plain, nullptr, plain_one))) {
      return 1;
    }
  }
  // The split must not change a byte of the report.
  if (parallel && (grouped_par.json != grouped_one.json || plain_par.json != plain_one.json)) {
    std::fprintf(stderr, "FAIL: the report on %u threads differs from the one on one thread\n",
                 threads);
    return 1;
  }
  auto print = [&](const char* what, Timing& t) {
    if (t.wall.empty()) return;
    std::sort(t.wall.begin(), t.wall.end());
    std::sort(t.cpu.begin(), t.cpu.end());
    std::printf("  %-28s: best %6.1f ms, median %6.1f ms  (CPU best %6.1f, median %6.1f ms)\n",
                what, t.wall.front(), t.wall[t.wall.size() / 2], t.cpu.front(),
                t.cpu[t.cpu.size() / 2]);
  };
  std::printf(
      "Report over %llu offers (%zu groups: location x week; NPS, CSI with drivers,\n"
      "  response rate, loyalty, rankings, week-over-week changes), 7 runs each\n",
      static_cast<unsigned long long>(n), grouped_par.groups);
  std::printf("  fill table (not part of the report): %.0f ms\n", fill_ms);
  const std::string on = std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  print(("grouped report, " + on).c_str(), grouped_par);
  print("grouped report, 1 thread", grouped_one);
  print(("overall report, " + on).c_str(), plain_par);
  print("overall report, 1 thread", plain_one);
  std::printf("  grouped report: %.0f M offers/s (best, %s)\n",
              static_cast<double>(n) / grouped_par.wall.front() / 1e3, on.c_str());
  std::printf("  JSON: %zu bytes%s\n", grouped_par.json.size(),
              parallel ? ", byte-identical on 1 thread and on all" : "");
  return 0;
}
