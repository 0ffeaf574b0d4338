// Benchmark (b): a full grouped report (location x ISO week, every index the survey has) over
// 10M offers in a ResponseTable, single thread.
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
#include "canvass/report.h"

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
  // Wall time, and process CPU time beside it: on a shared machine the wall clock also counts
  // time spent waiting for a core.
  std::vector<double> grouped_ms, plain_ms, grouped_cpu_ms;
  std::string json;
  std::size_t groups = 0;
  for (int run = 0; run < 5; ++run) {
    const std::clock_t c0 = std::clock();
    Clock::time_point t0 = Clock::now();
    canvass::Result<canvass::Report> report = canvass::BuildReport(table, grouped);
    Clock::time_point t1 = Clock::now();
    grouped_cpu_ms.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    canvass::Result<canvass::Report> overall = canvass::BuildReport(table, plain);
    Clock::time_point t2 = Clock::now();
    if (!report.ok() || !overall.ok()) return 1;
    grouped_ms.push_back(Ms(t0, t1));
    plain_ms.push_back(Ms(t1, t2));
    groups = report->groups.size();
    if (run == 0) json = canvass::ReportToJson(*report);
  }
  std::sort(grouped_ms.begin(), grouped_ms.end());
  std::sort(plain_ms.begin(), plain_ms.end());
  std::sort(grouped_cpu_ms.begin(), grouped_cpu_ms.end());
  std::printf(
      "Report over %llu offers (%zu groups: location x week; NPS, CSI with drivers,\n"
      "  response rate, loyalty, rankings, week-over-week changes)\n",
      static_cast<unsigned long long>(n), groups);
  std::printf("  fill table (not part of the report): %.0f ms\n", fill_ms);
  std::printf("  grouped report : best %.1f ms, median %.1f ms  (%.0f M offers/s)\n",
              grouped_ms.front(), grouped_ms[grouped_ms.size() / 2],
              static_cast<double>(n) / grouped_ms.front() / 1e3);
  std::printf("  grouped report, CPU time: best %.1f ms\n", grouped_cpu_ms.front());
  std::printf("  overall report : best %.1f ms, median %.1f ms\n", plain_ms.front(),
              plain_ms[plain_ms.size() / 2]);
  std::printf("  JSON: %zu bytes\n", json.size());
  return 0;
}
