// Private to the HTML report (report_html*.cpp): escaping, figures with their JSON paths
// (data-figure), SVG coordinates, and the page's style sheet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/metrics.h"
#include "canvass/stats.h"

namespace canvass::report_html {

using metrics::Estimate;

// For text and attribute values alike. Survey texts and tag values come from customers and
// devices: nothing reaches the page unescaped. NUL, which HTML refuses, becomes U+FFFD.
std::string Escape(std::string_view s);
// An id or key inside a data-figure path, with the path's separators percent-encoded.
std::string Segment(std::string_view s);
// At most `max` code points, with an ellipsis when cut (SVG text does not wrap).
std::string Clip(const std::string& s, std::size_t max);
std::string Num(double v);
std::string Count(uint64_t v);
// SVG coordinates: 2 decimals, by the same integer rounding, so the bytes match on every target.
std::string C(double v);
// A figure in running text: its JSON path and the text the JSON has.
std::string Fig(const std::string& path, const std::string& text);
// A number as a person reads it: one decimal (57.6%, +26.2). The exact figure, as the JSON has
// it, is in data-value beside it.
std::string Shown(double v);
std::string FigNum(const std::string& path, double v);
std::string FigCount(const std::string& path, uint64_t v);
// The same inside SVG <text>.
std::string TSpan(const std::string& path, const std::string& text);
std::string TSpanNum(const std::string& path, double v);
// Attributes of a graphic (bar, point) that shows a figure without text.
std::string FigAttrs(const std::string& path, double v);
// "[lo, hi]" of an estimate at `path`.
std::string FigInterval(const std::string& path, const Estimate& e, const char* unit = "");
std::string GroupKeyPath(const std::vector<GroupBy>& by, const GroupKey& key);
std::string GroupLabel(const GroupKey& key);
std::string Treatment(metrics::NonResponderTreatment t);

// The page's inline CSS.
extern const char kStyle[];

}  // namespace canvass::report_html
