// The benchmarks' data: the restaurant example's shape (NPS, a free-text reason, five CSI
// attributes with binary importance and 1..5 satisfaction, a contact question), tagged with
// location, staff and channel; 8 locations x 5 staff over 13 weeks, 60% completed, scores
// following a per-location mood, a third of offers with a customer key. Seeded: the same records
// on every target.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "canvass/interchange.h"
#include "canvass/random.h"
#include "canvass/record.h"

namespace canvass::bench {

inline constexpr char kSurvey[] = R"({
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

inline constexpr const char* kLocations[] = {"central", "riverside",  "old-town", "airport",
                                             "harbour", "university", "mall",     "station"};

// Offer i of n (times spread evenly over the 13 weeks) into `r`, drawn from `rng`. `r` is reused
// from call to call; its device_id is left as the caller set it.
inline void NextRecord(SplitMix64& rng, uint64_t i, uint64_t n, ResponseRecord* out) {
  static const char* const kAttributes[] = {"price", "staff", "place", "product", "promotion"};
  const int64_t start_ms = DaysFromCivil(2026, 9, 7) * 86400000;
  const int64_t span_ms = int64_t{91} * 86400000;
  ResponseRecord& r = *out;
  r.survey_id = "restaurant";
  const uint64_t location = rng.Below(8);
  r.seq = i + 1;
  r.device_time_ms = start_ms + static_cast<int64_t>(i * static_cast<uint64_t>(span_ms) / n);
  r.tags["location"] = kLocations[location];
  r.tags["staff"] = std::string(kLocations[location]) + "/" + std::to_string(rng.Below(5));
  r.tags["channel"] = rng.Below(100) < 85 ? "kiosk" : "web";
  r.customer_key = rng.Below(3) == 0 ? "c" + std::to_string(rng.Below(1000000)) : "";
  r.answers.clear();
  const uint64_t roll = rng.Below(100);
  r.outcome = roll < 18   ? Outcome::kDeclined
              : roll < 33 ? Outcome::kIgnored
              : roll < 40 ? Outcome::kPartial
                          : Outcome::kCompleted;
  if (roll < 33) return;
  const int32_t mood = location == 7 ? 5 : 7;
  const int32_t score = std::clamp<int32_t>(mood + static_cast<int32_t>(rng.Below(7)) - 2, 0, 10);
  r.answers["recommend"] = ScaleAnswer{score};
  if (r.outcome != Outcome::kCompleted) return;
  if (rng.Below(3) == 0) r.answers["reason"] = TextAnswer{"ok"};
  for (const char* a : kAttributes) {
    const int32_t sat =
        std::clamp<int32_t>(score / 2 + static_cast<int32_t>(rng.Below(3)) - 1, 1, 5);
    r.answers[a] = CsiAnswer{rng.Below(100) < 60 ? 1 : 0, sat};
  }
  if (score <= 6) r.answers["contact"] = ContactAnswer{rng.Below(4) == 0, ""};
}

}  // namespace canvass::bench
