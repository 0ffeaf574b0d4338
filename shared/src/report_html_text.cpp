#include "report_html_text.h"

#include "canvass/json.h"  // FormatNumber

namespace canvass::report_html {

//-----------------------------------------------------------------------------
// Text, figures and coordinates
//-----------------------------------------------------------------------------

// For text and attribute values alike. Survey texts and tag values come from customers and
// devices: nothing reaches the page unescaped. NUL, which HTML refuses, becomes U+FFFD.
std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An id or key inside a data-figure path, with the path's separators percent-encoded.
std::string Segment(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '.':
        out += "%2E";
        break;
      case ',':
        out += "%2C";
        break;
      case '=':
        out += "%3D";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// At most `max` code points, with an ellipsis when cut (SVG text does not wrap).
std::string Clip(const std::string& s, std::size_t max) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && points++ == max) {
      return s.substr(0, i) + "\xE2\x80\xA6";
    }
  }
  return s;
}

std::string Num(double v) { return FormatNumber(v); }
std::string Count(uint64_t v) { return std::to_string(v); }
// SVG coordinates: 2 decimals, by the same integer rounding, so the bytes match on every target.
std::string C(double v) { return FormatNumber(v, 2); }

// A figure in running text: its JSON path and the text the JSON has.
std::string Fig(const std::string& path, const std::string& text) {
  return "<span class=\"fig\" data-figure=\"" + Escape(path) + "\">" + Escape(text) + "</span>";
}
// A number as a person reads it: one decimal (57.6%, +26.2). The exact figure, as the JSON has
// it, is in data-value beside it.
std::string Shown(double v) { return FormatNumber(v, 1); }
std::string FigNum(const std::string& path, double v) {
  return "<span class=\"fig\" data-figure=\"" + Escape(path) + "\" data-value=\"" + Num(v) + "\">" +
         Escape(Shown(v)) + "</span>";
}
std::string FigCount(const std::string& path, uint64_t v) { return Fig(path, Count(v)); }
// The same inside SVG <text>.
std::string TSpan(const std::string& path, const std::string& text) {
  return "<tspan data-figure=\"" + Escape(path) + "\">" + Escape(text) + "</tspan>";
}
std::string TSpanNum(const std::string& path, double v) {
  return "<tspan data-figure=\"" + Escape(path) + "\" data-value=\"" + Num(v) + "\">" +
         Escape(Shown(v)) + "</tspan>";
}
// Attributes of a graphic (bar, point) that shows a figure without text.
std::string FigAttrs(const std::string& path, double v) {
  return " data-figure=\"" + Escape(path) + "\" data-value=\"" + Num(v) + "\" data-graphic=\"\"";
}

// "[lo, hi]" of an estimate at `path`.
std::string FigInterval(const std::string& path, const Estimate& e, const char* unit) {
  return "[" + FigNum(path + ".ci95.0", e.lo) + unit + ", " + FigNum(path + ".ci95.1", e.hi) +
         unit + "]";
}

std::string GroupKeyPath(const std::vector<GroupBy>& by, const GroupKey& key) {
  std::string path;
  for (std::size_t d = 0; d < by.size() && d < key.size(); ++d) {
    path += (d ? "," : "") + Segment(by[d].Name()) + "=" + Segment(key[d]);
  }
  return path;
}

std::string GroupLabel(const GroupKey& key) {
  std::string label;
  for (std::size_t d = 0; d < key.size(); ++d) {
    label += (d ? " \xC2\xB7 " : "") + (key[d].empty() ? std::string("(none)") : key[d]);
  }
  return label;
}

std::string Treatment(metrics::NonResponderTreatment t) {
  switch (t) {
    case metrics::NonResponderTreatment::kAsPassive:
      return "silent customers count as passives (NPS \xC3\x97 response rate)";
    case metrics::NonResponderTreatment::kAsDetractor:
      return "silent customers count as detractors (the pessimistic bound)";
    case metrics::NonResponderTreatment::kExclude:
      break;
  }
  return "classic NPS of those who answered; silent customers are left out";
}

extern const char kStyle[] =
    R"(:root{--ink:#1d2430;--muted:#5b6575;--line:#d9dee6;--det:#c8423b;--pas:#d9a21b;--pro:#2f9460;--acc:#2c5d9e;--grey:#b8bec8}
*{box-sizing:border-box}
body{margin:0 auto;max-width:820px;padding:24px;font:14px/1.45 system-ui,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:var(--ink);background:#fff}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:16px;margin:26px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line);break-after:avoid;page-break-after:avoid}
h3{margin:0;font-size:13px;font-weight:600;color:var(--muted)}
code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.92em}
.sub{margin:0;color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:14px 0 0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;break-inside:avoid;page-break-inside:avoid}
.card p{margin:3px 0}
.card .big{font-size:26px;font-weight:700;margin:2px 0}
.card.low{border-color:var(--det)}
.small{font-size:12px;color:var(--muted)}
.flag{color:var(--det);font-weight:600}
.nodata{color:var(--muted);font-style:italic}
.warnings li{margin:2px 0}
section.chart{break-inside:avoid;page-break-inside:avoid}
svg{display:block;width:100%;height:auto}
svg text{font-size:11px;fill:var(--ink)}
svg .axis{fill:var(--muted)}
svg .grid{stroke:#e6e9ee;stroke-width:1}
svg .zero{stroke:#8a93a0;stroke-width:1}
svg .band{fill:var(--acc);fill-opacity:.16;stroke:none}
svg .line{fill:none;stroke:var(--acc);stroke-width:2}
svg .pt{fill:var(--acc)}
svg .pt.few{fill:#fff;stroke:var(--acc);stroke-width:1.5}
svg .det{fill:var(--det)}
svg .pas{fill:var(--pas)}
svg .pro{fill:var(--pro)}
svg .bar{fill:var(--acc)}
svg .few .bar{fill:var(--grey)}
svg .few text{fill:var(--muted);font-style:italic}
svg .whisker{stroke:var(--ink);stroke-width:1.2}
svg .few .whisker{stroke:var(--grey)}
svg .bounds{fill:#dfe3ea}
svg .ci{fill:var(--acc);fill-opacity:.45}
svg .tick{stroke:var(--ink);stroke-width:2}
.legend{margin:4px 0 0;font-size:12px;color:var(--muted)}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px;vertical-align:-1px}
.key.det{background:var(--det)}.key.pas{background:var(--pas)}.key.pro{background:var(--pro)}.key.grey{background:var(--grey)}.key.bounds{background:#dfe3ea}.key.ci{background:var(--acc);opacity:.45}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:4px 5px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{color:var(--muted);font-weight:600}
th:first-child,td:first-child{text-align:left}
tr{break-inside:avoid;page-break-inside:avoid}
footer{margin-top:28px;font-size:11px;color:var(--muted)}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;padding:0;font-size:11.5px}.cards{grid-template-columns:repeat(3,1fr)}table{font-size:10px}th,td{padding:3px}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)";

}  // namespace canvass::report_html
