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

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

constexpr char kSurvey[] = R"({
  "format": "canvass.survey/1", "id": "restaurant", "revision": 1,
  "languages": ["en"], "fallback_language": "en", "title": {"en": "How was your visit?"},
  "context": ["location", "staff", "channel"],
  "questions": [
    {"id": "recommend", "kind": "nps", "text": {"en": "Recommend us?"}},
    {"id": "reason", "kind": "text", "required": false, "text": {"en": "Why?"}},
    {"id": "price", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Prices"}},
    {"id": "staff", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Staff"}},
    {"id": "place", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Place"}},
    {"id": "product", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Food"}},
    {"id": "promotion", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Offers"}},
    {"id": "contact", "kind": "contact", "show_if": {"question": "recommend", "range": [0, 6]},
     "text": {"en": "May we call you?"}, "consent_text": {"en": "Yes, call me"}}
  ]
})";

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000ull;
  canvass::Result<canvass::Survey> survey = canvass::ParseSurvey(kSurvey);
  if (!survey.ok()) {
    std::fprintf(stderr, "%s\n", survey.status().ToString().c_str());
    return 1;
  }

  // Fill: 8 locations x 5 staff, 13 weeks, 60% completed; scores follow a per-location mood.
  const Clock::time_point fill_start = Clock::now();
  canvass::ResponseTable table(*survey);
  table.Reserve(static_cast<std::size_t>(n));
  canvass::SplitMix64 rng(7);
  const char* locations[] = {"central", "riverside",  "old-town", "airport",
                             "harbour", "university", "mall",     "station"};
  const char* attributes[] = {"price", "staff", "place", "product", "promotion"};
  const int64_t start_ms = canvass::DaysFromCivil(2026, 9, 7) * 86400000;
  const int64_t span_ms = int64_t{91} * 86400000;
  canvass::ResponseRecord r;
  r.survey_id = "restaurant";
  r.device_id = "kiosk";
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t location = rng.Below(8);
    r.seq = i + 1;
    r.device_time_ms = start_ms + static_cast<int64_t>(i * static_cast<uint64_t>(span_ms) / n);
    r.tags["location"] = locations[location];
    r.tags["staff"] = std::string(locations[location]) + "/" + std::to_string(rng.Below(5));
    r.tags["channel"] = rng.Below(100) < 85 ? "kiosk" : "web";
    r.customer_key = rng.Below(3) == 0 ? "c" + std::to_string(rng.Below(1000000)) : "";
    r.answers.clear();
    const uint64_t roll = rng.Below(100);
    r.outcome = roll < 18   ? canvass::Outcome::kDeclined
                : roll < 33 ? canvass::Outcome::kIgnored
                : roll < 40 ? canvass::Outcome::kPartial
                            : canvass::Outcome::kCompleted;
    if (roll >= 33) {
      const int32_t mood = location == 7 ? 5 : 7;
      const int32_t score =
          std::clamp<int32_t>(mood + static_cast<int32_t>(rng.Below(7)) - 2, 0, 10);
      r.answers["recommend"] = canvass::ScaleAnswer{score};
      if (r.outcome == canvass::Outcome::kCompleted) {
        if (rng.Below(3) == 0) r.answers["reason"] = canvass::TextAnswer{"ok"};
        for (const char* a : attributes) {
          const int32_t sat =
              std::clamp<int32_t>(score / 2 + static_cast<int32_t>(rng.Below(3)) - 1, 1, 5);
          r.answers[a] = canvass::CsiAnswer{rng.Below(100) < 60 ? 1 : 0, sat};
        }
        if (score <= 6) r.answers["contact"] = canvass::ContactAnswer{rng.Below(4) == 0, ""};
      }
    }
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
