// Report output formats: a Report (report.h) as the stable JSON of docs/report.md, as aligned
// text for a terminal, as CSV for spreadsheets, or as one HTML page. The third layer of the core:
// nothing is computed here that the JSON does not already hold. JSON goes through the one JSON
// writer (json.h); every number is printed with its FormatNumber, so the output is byte-identical
// natively and in wasm (our own number formatting, ordered containers).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "canvass/json.h"  // FormatNumber: how every figure is printed
#include "canvass/report.h"
#include "canvass/survey.h"

namespace canvass {

// The stable JSON format of docs/report.md, one object, keys in a fixed order, ending in "\n".
std::string ReportToJson(const Report& report);
// For people: aligned columns, each index with its interval and n, warnings in words.
std::string ReportToTable(const Report& report);
// One row for everything selected, then one per group; UTF-8 with a BOM for spreadsheets.
std::string ReportToCsv(const Report& report);

// One self-contained HTML page for people (docs/report.md): no scripts, no external resources,
// inline CSS and SVG charts drawn here; printable on A4. `trend` is the report of the same
// selection under TrendOptions() (nullptr: none, or the report itself when IsTrendReport()).
// `survey` gives the title and question texts. Every text is HTML-escaped; every number is
// printed with FormatNumber as in the JSON and carries data-figure="<JSON path>". Deterministic:
// the same bytes natively and in wasm.
std::string ReportToHtml(const Report& report, const Report* trend, const Survey& survey);

}  // namespace canvass
