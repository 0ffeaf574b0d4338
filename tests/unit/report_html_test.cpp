// ReportToHtml (shared/src/report_html.cpp): escaping, the inline SVG, every data-figure against
// the JSON report, and golden pages that the native and the wasm builds must both reproduce.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "canvass/interchange.h"
#include "canvass/report_format.h"
#include "test_support.h"

using namespace canvass;

namespace {

Survey MustParse(const std::string& json) {
  Result<Survey> s = ParseSurvey(json);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

Survey ExampleSurvey(const std::string& name) {
  return MustParse(test::ReadSourceFile("examples/" + name + ".json"));
}

Report MustBuild(const ResponseTable& table, const ReportOptions& options) {
  Result<Report> r = BuildReport(table, options);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// The page as the CLI and the server make it: the report, and the trend unless it is its own.
struct Page {
  Report report, trend;
  std::string html;
};
Page MakePage(const ResponseTable& table, const ReportOptions& options) {
  Page p;
  p.report = MustBuild(table, options);
  p.trend = MustBuild(table, TrendOptions(options));
  p.html = ReportToHtml(p.report, IsTrendReport(p.report) ? nullptr : &p.trend, table.survey());
  return p;
}

ResponseTable TableFromFile(const Survey& survey, const std::string& path) {
  ResponseTable table(survey);
  std::istringstream in(test::ReadSourceFile(path));
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) table.AddJsonLine(line, ++number);
  REQUIRE(table.issues().refused == 0);
  return table;
}

std::string Unescape(const std::string& s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool matched = false;
    for (const auto& [entity, text] : kEntities) {
      const std::string e = entity;
      if (s.compare(i, e.size(), e) == 0) {
        out += text;
        i += e.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += s[i++];
  }
  return out;
}

// Every data-figure of a page: (path, the figure's text or data-value), in page order.
std::vector<std::pair<std::string, std::string>> Figures(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string attr = "data-figure=\"";
  for (std::size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1)) {
    const std::size_t start = at + attr.size();
    const std::size_t end = html.find('"', start);
    REQUIRE(end != std::string::npos);
    const std::string path = Unescape(html.substr(start, end - start));
    const std::string value_attr = " data-value=\"";
    std::string value;
    if (html.compare(end + 1, value_attr.size(), value_attr) == 0) {
      const std::size_t v = end + 1 + value_attr.size();
      value = html.substr(v, html.find('"', v) - v);
    } else {
      const std::size_t text = html.find('>', end) + 1;
      value = Unescape(html.substr(text, html.find('<', text) - text));
    }
    out.emplace_back(path, value);
  }
  return out;
}

std::string Decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (std::size_t at = s.find(sep); at != std::string::npos; at = s.find(sep, from)) {
    parts.push_back(s.substr(from, at - from));
    from = at + 1;
  }
  parts.push_back(s.substr(from));
  return parts;
}

// The value at a data-figure path (docs/report.md, "HTML") in the JSON report, or null.
const rapidjson::Value* Resolve(const rapidjson::Value& root, const std::string& path) {
  const rapidjson::Value* at = &root;
  for (const std::string& raw : Split(path, '.')) {
    if (at->IsObject() && at->HasMember("entries") && raw.find('=') != std::string::npos) {
      // groups.<tag>=<value>,<tag>=<value>: the entry with that key (a null key is "").
      const rapidjson::Value* found = nullptr;
      for (const rapidjson::Value& entry : (*at)["entries"].GetArray()) {
        bool same = true;
        for (const std::string& part : Split(raw, ',')) {
          const std::size_t eq = part.find('=');
          const std::string tag = Decode(part.substr(0, eq)), value = Decode(part.substr(eq + 1));
          const rapidjson::Value& key = entry["key"];
          if (!key.HasMember(tag.c_str())) {
            same = false;
          } else if (key[tag.c_str()].IsNull()) {
            same = same && value.empty();
          } else {
            same = same && key[tag.c_str()].GetString() == value;
          }
        }
        if (same) found = &entry;
      }
      if (!found) return nullptr;
      at = found;
      continue;
    }
    const std::string segment = Decode(raw);
    if (at->IsArray()) {
      const rapidjson::Value* found = nullptr;
      for (rapidjson::SizeType i = 0; i < at->Size(); ++i) {
        const rapidjson::Value& item = (*at)[i];
        if (item.IsObject() ? item.HasMember("id") && item["id"].GetString() == segment
                            : std::to_string(i) == segment) {
          found = &item;
        }
      }
      if (!found) return nullptr;
      at = found;
    } else if (at->IsObject() && at->HasMember(segment.c_str())) {
      at = &(*at)[segment.c_str()];
    } else {
      return nullptr;
    }
  }
  return at;
}

// The JSON's own text of a scalar: FormatNumber of a number reproduces what ReportToJson wrote.
std::string ScalarText(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsNumber()) return FormatNumber(v.GetDouble());
  return "(not a scalar)";
}

// Checks every figure of `page` against the JSON of its report (trend.* against the trend's).
// Returns how many were checked.
std::size_t CheckFiguresAgainstJson(const Page& page) {
  rapidjson::Document report, trend;
  report.Parse(ReportToJson(page.report).c_str());
  trend.Parse(ReportToJson(IsTrendReport(page.report) ? page.report : page.trend).c_str());
  REQUIRE(!report.HasParseError());
  REQUIRE(!trend.HasParseError());
  std::size_t checked = 0;
  for (const auto& [path, text] : Figures(page.html)) {
    INFO(path);
    const bool in_trend = path.rfind("trend.", 0) == 0;
    const rapidjson::Value* v =
        in_trend ? Resolve(trend["groups"], path.substr(6)) : Resolve(report, path);
    REQUIRE(v != nullptr);
    CHECK(ScalarText(*v) == text);
    ++checked;
  }
  return checked;
}

std::size_t Occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

constexpr char kHostileSurvey[] = R"({
  "format": "canvass.survey/1", "id": "hostile", "revision": 1,
  "languages": ["en"], "fallback_language": "en",
  "title": {"en": "Caf\u00e9 <b>&</b> \"bar\" <script>alert('title')</script>"},
  "context": ["location"],
  "questions": [
    {"id": "recommend", "kind": "nps", "text": {"en": "<img src=x onerror=alert(1)> recommend?"}},
    {"id": "price", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Price </td><script>x</script>"}}
  ]
})";

ResponseRecord Answer(int32_t score, const std::string& location, int64_t time_ms) {
  ResponseRecord r;
  r.survey_id = "hostile";
  r.device_id = "dev";
  r.device_time_ms = time_ms;
  r.outcome = Outcome::kCompleted;
  r.answers["recommend"] = ScaleAnswer{score};
  r.answers["price"] = CsiAnswer{score % 2, 1 + score % 5};
  r.tags["location"] = location;
  return r;
}

// Two groups from devices whose tag values are hostile: one with 40 answers, one with 5.
ResponseTable HostileTable() {
  ResponseTable table(MustParse(kHostileSurvey));
  const int64_t monday = DaysFromCivil(2026, 11, 16) * 86400000;
  uint64_t line = 0;
  for (int i = 0; i < 40; ++i) {
    REQUIRE(
        table.Add(Answer(i % 11, "<script>alert(1)</script>", monday + i * 3600000), ++line).ok());
  }
  for (int i = 0; i < 5; ++i) {
    REQUIRE(table.Add(Answer(10 - i, "old.town=1, \"x\"", monday + 8 * 86400000 + i), ++line).ok());
  }
  return table;
}

ReportOptions ByLocation() {
  ReportOptions options;
  options.by.push_back(*ParseGroupBy("location"));
  return options;
}

}  // namespace

TEST_CASE("HTML report: survey texts and tag values are escaped, nothing runs or loads") {
  const Page page = MakePage(HostileTable(), ByLocation());
  const std::string& html = page.html;
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("</td><script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("Caf\xC3\xA9 &lt;b&gt;&amp;&lt;/b&gt; &quot;bar&quot;") != std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt; recommend?") != std::string::npos);
  // The tag value is escaped inside attributes too, and its '.', ',' and '=' are encoded in the
  // path so that the path still splits.
  CHECK(html.find("data-figure=\"groups.location=&lt;script&gt;alert(1)&lt;/script&gt;.nps."
                  "value\"") != std::string::npos);
  CHECK(html.find("data-figure=\"groups.location=old%2Etown%3D1%2C &quot;x&quot;.nps.value\"") !=
        std::string::npos);
  // Self-contained: no scripts, no links, no URLs; a CSP that forbids loading anything.
  for (const char* external : {" src=\"", " href=\"", "<link", "<iframe", "<object", "<embed",
                               "url(", "@import", "http:", "https:"}) {
    INFO(external);
    CHECK(html.find(external) == std::string::npos);
  }
  CHECK(html.find("content=\"default-src 'none'; style-src 'unsafe-inline'\"") !=
        std::string::npos);
}

TEST_CASE("HTML report: inline SVG charts, print CSS, groups under min-n greyed") {
  const Page page = MakePage(HostileTable(), ByLocation());
  const std::string& html = page.html;
  CHECK(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0) == 0);
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(Occurrences(html, "<svg ") == 4);  // NPS bounds, trend, distribution, groups
  CHECK(html.find("<section class=\"chart\" id=\"trend\">") != std::string::npos);
  CHECK(html.find("<path class=\"band\" d=\"M") != std::string::npos);
  CHECK(html.find("<section class=\"chart\" id=\"distribution\">") != std::string::npos);
  CHECK(Occurrences(html, "<rect class=\"det\"") == 7);  // 0..6
  CHECK(Occurrences(html, "<rect class=\"pas\"") == 2);  // 7, 8
  CHECK(Occurrences(html, "<rect class=\"pro\"") == 2);  // 9, 10
  CHECK(html.find("@page{size:A4") != std::string::npos);
  CHECK(html.find("section.chart{break-inside:avoid") != std::string::npos);
  // 5 answers < min_n 30: drawn greyed, marked, not ranked; the other group is ranked.
  CHECK(Occurrences(html, "<g class=\"row few\">") == 1);
  CHECK(Occurrences(html, "too few answers, not ranked</text>") == 1);
  CHECK(html.find("data-figure=\"groups.location=&lt;script&gt;alert(1)&lt;/script&gt;.rank."
                  "position\">1</tspan>") != std::string::npos);
  // Warnings in words.
  CHECK(html.find("<h2>Warnings</h2>") != std::string::npos);
  CHECK(html.find("fewer than 30 answers and is not ranked") != std::string::npos);
}

TEST_CASE("HTML report: every data-figure is the JSON report's value at its path") {
  SECTION("hostile texts, two groups") {
    const Page page = MakePage(HostileTable(), ByLocation());
    CHECK(CheckFiguresAgainstJson(page) > 50);
    const std::vector<std::pair<std::string, std::string>> figures = Figures(page.html);
    const std::map<std::string, std::string> first(figures.begin(), figures.end());
    const Indices& all = page.report.all;
    REQUIRE(all.nps.has_value());
    CHECK(first.at("nps.value") == FormatNumber(all.nps->result.nps.value));
    CHECK(first.at("nps.ci95.0") == FormatNumber(all.nps->result.nps.lo));
    CHECK(first.at("nps.bounds.1") == FormatNumber(all.nps->result.bound_hi));
    CHECK(first.at("response_rate.value") == FormatNumber(all.response_rate.rate.value));
    REQUIRE(all.csi.has_value());
    CHECK(first.at("csi.attributes.price.index.value") ==
          FormatNumber(all.csi->attributes[0].result.index.value));
    CHECK(first.at("questions.recommend.counts.10") ==
          std::to_string(page.report.questions[0].answers.Count(10)));
  }
  SECTION("the restaurant demo data by location, and by location x week") {
    const ResponseTable table =
        TableFromFile(ExampleSurvey("restaurant"), "tests/golden/report-input.jsonl");
    ReportOptions crossed = ByLocation();
    crossed.by.push_back(*ParseGroupBy("period:week"));
    crossed.nonresponders = metrics::NonResponderTreatment::kAsDetractor;
    const std::pair<ReportOptions, const char*> cases[] = {
        {ByLocation(), "groups.location=central.nps.value"},
        {crossed, "groups.location=central,period:week=2026-W46.nps.value"},
    };
    for (const auto& [options, group_figure] : cases) {
      INFO(group_figure);
      const Page page = MakePage(table, options);
      CHECK(CheckFiguresAgainstJson(page) > 150);
      for (const std::string& figure :
           {std::string(group_figure), std::string("trend.period:week=2026-W45.nps.value"),
            std::string("csi.attributes.price.index.value")}) {
        CHECK(page.html.find("data-figure=\"" + figure + "\"") != std::string::npos);
      }
    }
  }
  SECTION("shop-checkout by day: CSAT, CES and CLI cards, the report its own trend") {
    const ResponseTable table =
        TableFromFile(ExampleSurvey("shop-checkout"), "tests/golden/report-shop-input.jsonl");
    ReportOptions options;
    options.by.push_back(*ParseGroupBy("period:day"));
    const Page page = MakePage(table, options);
    CHECK(CheckFiguresAgainstJson(page) > 50);
    for (const char* figure : {"csat.top2.value", "ces.mean.value", "ces.agree.value",
                               "cli.index.value", "trend.period:day=2026-11-02.nps.value"}) {
      INFO(figure);
      CHECK(page.html.find(std::string("data-figure=\"") + figure + "\"") != std::string::npos);
    }
    CHECK(page.html.find("<h2>NPS per day, with its 95% interval</h2>") != std::string::npos);
    CHECK(page.html.find("id=\"groups\"") == std::string::npos);  // a period alone: the trend
  }
}

TEST_CASE("HTML report: no offers selected is \"no data\", not the midpoint") {
  ReportOptions options = ByLocation();
  options.where.emplace_back("location", "nowhere");
  const Page page = MakePage(HostileTable(), options);
  CHECK(page.html.find("<p class=\"big nodata\">no data</p>") != std::string::npos);
  CHECK(page.html.find("data-figure=\"nps.value\"") == std::string::npos);
  CHECK(page.html.find("id=\"trend\"") == std::string::npos);
  CHECK(CheckFiguresAgainstJson(page) > 0);
}

TEST_CASE("Golden HTML reports are byte-identical natively and in wasm") {
  // Written by `canvass report --format html` with these options from the fixtures beside them
  // (docs/report.md says how to regenerate).
  struct Case {
    const char* survey;
    const char* input;
    const char* expected;
    const char* by;
  };
  const Case cases[] = {
      {"restaurant", "tests/golden/report-input.jsonl", "tests/golden/report-html-expected.html",
       "staff"},
      {"shop-checkout", "tests/golden/report-shop-input.jsonl",
       "tests/golden/report-shop-html-expected.html", "period:week"},
  };
  for (const Case& c : cases) {
    INFO(c.expected);
    const ResponseTable table = TableFromFile(ExampleSurvey(c.survey), c.input);
    ReportOptions options;
    options.by.push_back(*ParseGroupBy(c.by));
    const std::string html = MakePage(table, options).html;
    CHECK(MakePage(table, options).html == html);  // the same input, the same bytes
    const std::string expected = test::ReadSourceFile(c.expected);
    if (html != expected) {
      std::istringstream a(html), b(expected);
      std::string la, lb;
      int n = 0;
      while (std::getline(a, la) && std::getline(b, lb) && la == lb) ++n;
      FAIL("line " << n + 1 << ": got\n  " << la << "\nexpected\n  " << lb);
    }
  }
}
