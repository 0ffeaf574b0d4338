// The interchange format: JSON Lines, one response record per line (docs/interchange.md). The
// server exports it, `canvass report` and `canvass demo-data` read and write it.
//
//   {"survey":"restaurant","survey_version":"<hex>","device":"dev-1","seq":12,
//    "time":"2026-11-22T10:00:00Z","outcome":"completed","tags":{"location":"..."},
//    "customer":"<key>","answers":{"recommend":9,"reason":"...","visit":["dinner"],
//    "price":{"importance":1,"satisfaction":4},"contact":{"consent":true}}}
//
// Also the UTC time helpers every part uses to print and parse times. Pure functions, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "canvass/json.h"  // JsonQuote, for the callers that quote by hand
#include "canvass/record.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

// "2026-11-22T10:00:00Z" (with ".123" when the milliseconds are not zero).
std::string FormatIsoTime(std::int64_t unix_ms);
// Accepts "2026-11-22", "2026-11-22T10:00:00Z", fractions, and "+02:00"-style offsets.
Result<std::int64_t> ParseIsoTime(std::string_view text);
// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
std::int64_t DaysFromCivil(std::int32_t year, std::uint32_t month, std::uint32_t day);
void CivilFromDays(std::int64_t days, std::int32_t* year, std::uint32_t* month, std::uint32_t* day);

// `s` as one CSV cell (RFC 4180 quoting where needed), for every CSV Canvass writes (exports,
// reports). Text that a spreadsheet would run as a formula (starting with =, +, -, @, TAB or CR)
// gets a leading ' (OWASP's advice); plain numbers such as "-5.2" stay numbers.
std::string CsvCell(std::string_view s);

// One line, without the newline. The sealed contact is never exported; its consent is.
std::string ToJsonLine(const ResponseRecord& record);
// Parses one line. With `survey`, values are checked and typed against its questions (a string
// answer to a single_choice question is a choice; unknown question ids are an error); without it,
// numbers are scale answers, strings text, arrays choices, objects CSI pairs or contact consent.
Result<ResponseRecord> ParseJsonLine(std::string_view line, const Survey* survey = nullptr);

}  // namespace canvass
