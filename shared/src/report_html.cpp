// ReportToHtml: a report as one self-contained page for people (docs/report.md, "HTML").
//
// Everything is drawn here, with no scripts and no resources from anywhere: inline CSS, inline
// SVG charts whose coordinates are printed with FormatNumber (2 decimals), and every figure
// printed with FormatNumber exactly as the JSON prints it. Each figure element carries
// data-figure="<path into the JSON report>" so a test (or a program) can check the page against
// the JSON: tests/browser/report_html.test.mjs does, figure by figure.
//
// Paths: JSON keys joined by '.', an array of objects addressed by their id
// (csi.attributes.price.index.value, questions.recommend.counts.9), an array of scalars by
// position (nps.ci95.0), a group by its key (groups.location=airport.nps.value;
// several keys joined by ','; a missing tag as an empty value), and trend.<key>... into the
// trend report. Ids and keys in a path have '%', '.', ',' and '=' percent-encoded.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/axis.h"
#include "canvass/interchange.h"
#include "canvass/report_format.h"
#include "report_html_text.h"

namespace canvass {

using metrics::Estimate;

namespace {

using namespace report_html;  // text, figures and the style sheet (report_html_text.h)

//-----------------------------------------------------------------------------
// The headline index: what the trend and the groups chart show
//-----------------------------------------------------------------------------

struct Headline {
  std::string index;  // "nps", "csat", "ces", "csi", "cli", "response_rate"
  std::string name;   // for people: "NPS", "CSAT top-2"
  std::string path;   // the estimate's JSON path: "nps", "csat.top2", "ces.mean"
  const char* unit = "";
  double min = -100, max = 100, baseline = 0;  // the possible range, and where bars start
};

// The same order as the rankings (docs/report.md, "Rankings"): NPS, CSAT, CES, CSI, CLI, response
// rate. `index` names one ("" = the first the survey has).
Headline HeadlineOf(const Report& r, std::string index) {
  const Indices& x = r.all;
  if (index.empty()) {
    index = x.nps ? "nps" : x.csat ? "csat" : x.ces ? "ces" : x.csi ? "csi" : x.cli ? "cli" : "";
  }
  Headline h;
  h.index = index;
  if (index == "nps" && x.nps) {
    h.name = "NPS";
    h.path = "nps";
  } else if (index == "csat" && x.csat) {
    h.name = "CSAT top-2";
    h.path = "csat.top2";
    h.unit = "%";
    h.min = 0;
  } else if (index == "ces" && x.ces) {
    h.name = "CES";
    if (x.ces->agreement) {
      h.name = "CES mean";
      h.path = "ces.mean";
      h.min = 1;
      h.max = 7;
      for (const QuestionSummary& q : r.questions) {
        if (q.id == x.ces->question && q.answers.has_scale()) {
          h.min = q.answers.min_point();
          h.max = q.answers.max_point();
        }
      }
      h.baseline = h.min;
    } else {
      h.name = "CES net";
      h.path = "ces.net";
    }
  } else if (index == "csi" && x.csi) {
    h.name = "CSI index";
    h.path = "csi.index";
  } else if (index == "cli" && x.cli) {
    h.name = "CLI";
    h.path = "cli.index";
    h.min = 0;
    h.max = 10;
  } else {
    h.index = "response_rate";
    h.name = "Response rate";
    h.path = "response_rate";
    h.unit = "%";
    h.min = 0;
  }
  return h;
}

Estimate EstimateOf(const Indices& x, const Headline& h) {
  if (h.index == "nps" && x.nps) return x.nps->result.nps;
  if (h.index == "csat" && x.csat) return x.csat->result.top2;
  if (h.index == "ces" && x.ces)
    return x.ces->agreement ? x.ces->agreement->mean : x.ces->net->classic;
  if (h.index == "csi" && x.csi) return x.csi->result.index;
  if (h.index == "cli" && x.cli) return x.cli->result.index;
  return x.response_rate.rate;
}

// The value axes: canvass/axis.h (NiceAxis), shared with the dashboard.

//-----------------------------------------------------------------------------
// Page parts
//-----------------------------------------------------------------------------

class Page {
 public:
  Page(const Report& report, const Report* trend, const Survey& survey)
      : r_(report), survey_(survey) {
    if (trend && IsTrendReport(*trend)) {
      trend_ = trend;
    } else if (IsTrendReport(report)) {
      trend_ = &report;
    }
    language_ = survey.PickLanguage({"en"});
    headline_ = HeadlineOf(report, "");
  }

  std::string Render() {
    const std::string title = Text(survey_.title);
    o_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    // Belt and braces: even if some text escaped its escaping, nothing could load or run.
    o_ +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">\n";
    o_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    o_ += "<meta name=\"generator\" content=\"canvass report\">\n";
    o_ += "<title>" + Escape((title.empty() ? r_.survey : title) + " \xE2\x80\x94 report") +
          "</title>\n";
    o_ += std::string("<style>\n") + kStyle + "</style>\n</head>\n<body>\n";
    Header(title);
    Cards();
    Warnings();
    TrendChart();
    Distribution();
    GroupsChart();
    CsiTable();
    o_ +=
        "<footer>Made by <code>canvass report --format html</code>. Figures are shown to one "
        "decimal (percentages, and net scores in points); each carries its JSON path in "
        "<code>data-figure</code> and its exact value in <code>data-value</code> "
        "(docs/report.md). Intervals are 95% "
        "intervals; n is the number of answers (or offers, or customers) behind a figure. Times "
        "are device times, UTC.</footer>\n";
    o_ += "</body>\n</html>\n";
    return std::move(o_);
  }

 private:
  std::string Text(const LocalizedText& t) const {
    return t.Get(language_, survey_.fallback_language);
  }

  // What `id` is called in the survey (its text), else the id.
  std::string QuestionText(const std::string& id) const {
    const int i = survey_.FindQuestion(id);
    if (i < 0) return id;
    const std::string text = Text(survey_.questions[static_cast<std::size_t>(i)].text);
    return text.empty() ? id : text;
  }

  //---------------------------------------------------------------------------
  void Header(const std::string& title) {
    o_ += "<header>\n<h1>" + Escape(title.empty() ? r_.survey : title) + "</h1>\n";
    o_ += "<p class=\"sub\">Survey <code>" + Fig("report.survey", r_.survey) +
          "</code> \xC2\xB7 customer feedback report</p>\n<dl class=\"meta\">\n";

    std::string period;
    if (r_.options.from_ms || r_.options.to_ms) {
      if (r_.options.from_ms)
        period += "from " + Fig("report.from", FormatIsoTime(*r_.options.from_ms));
      if (r_.options.to_ms) {
        period += std::string(period.empty() ? "" : " ") + "to " +
                  Fig("report.to", FormatIsoTime(*r_.options.to_ms)) + " (excluded)";
      }
    } else {
      period = "all offers";
    }
    if (trend_ && !trend_->groups.empty()) {
      const std::string& first = trend_->groups.front().key[0];
      const std::string& last = trend_->groups.back().key[0];
      const std::string unit = PeriodName(*trend_->by[0].period);
      period += "; offers in " + Escape(first) +
                (first == last ? " (one " + unit + ")"
                               : " to " + Escape(last) + " (" + Count(trend_->groups.size()) + " " +
                                     unit + "s with offers)");
    }
    Row("Period covered", period + " \xC2\xB7 device time, UTC");

    const metrics::OutcomeCounts& oc = r_.all.outcomes;
    Row("Offers selected",
        FigCount("report.selected", r_.selected) + " of " + FigCount("report.rows", r_.rows) +
            " read: " + FigCount("outcomes.completed", oc.completed) + " completed, " +
            FigCount("outcomes.partial", oc.partial) + " partial, " +
            FigCount("outcomes.declined", oc.declined) + " declined, " +
            FigCount("outcomes.ignored", oc.ignored) + " ignored");

    std::string filters;
    for (std::size_t i = 0; i < r_.options.where.size(); ++i) {
      const auto& [key, value] = r_.options.where[i];
      filters += (i ? ", " : "") + Fig("report.where." + Count(i), key + "=" + value);
    }
    Row("Filters", filters.empty() ? "none (every offer in the period)" : filters);

    std::string by;
    for (const GroupBy& g : r_.by) by += (by.empty() ? "" : " \xC3\x97 ") + Escape(g.Name());
    Row("Grouped by", by.empty() ? "not grouped" : by);

    Row("Non-responders",
        Fig("report.nonresponders", metrics::TreatmentName(r_.options.nonresponders)) + ": " +
            Escape(Treatment(r_.options.nonresponders)));
    Row("Rules", "groups with fewer than " + FigCount("report.min_n", r_.options.min_n) +
                     " answers are not ranked; a response rate below " +
                     FigNum("report.min_response_rate", r_.options.min_response_rate) +
                     "% is flagged");
    o_ += "</dl>\n</header>\n";
  }

  void Row(const std::string& term, const std::string& html) {
    o_ += "<dt>" + Escape(term) + "</dt><dd>" + html + "</dd>\n";
  }

  //---------------------------------------------------------------------------
  // A card's headline line: the value, or "no data" when nothing stands behind it.
  static std::string Big(const std::string& path, const Estimate& e, const char* unit = "") {
    if (e.n == 0) return "<p class=\"big nodata\">no data</p>\n";
    return "<p class=\"big\">" + FigNum(path + ".value", e.value) + unit + "</p>\n";
  }
  static std::string IntervalLine(const std::string& path, const Estimate& e, const char* unit = "",
                                  const char* n_of = "answers") {
    if (e.n == 0) return "<p class=\"small\">n = " + FigCount(path + ".n", e.n) + "</p>\n";
    return "<p class=\"small\">95% interval " + FigInterval(path, e, unit) +
           " \xC2\xB7 n = " + FigCount(path + ".n", e.n) + " " + n_of + "</p>\n";
  }

  void Cards() {
    const Indices& x = r_.all;
    o_ += "<section>\n<h2>Indices</h2>\n<div class=\"cards\">\n";

    const metrics::ResponseRateResult& rr = x.response_rate;
    o_ += std::string("<div class=\"card") + (rr.unrepresentative ? " low" : "") +
          "\" id=\"card-response-rate\">\n<h3>Response rate</h3>\n";
    o_ += Big("response_rate", rr.rate, "%");
    o_ += IntervalLine("response_rate", rr.rate, "%", "offers");
    o_ += "<p>" + FigCount("response_rate.completed", rr.completed) + " completed of " +
          FigCount("offered", x.outcomes.Offered()) + " offered</p>\n";
    if (rr.unrepresentative) {
      o_ += "<p class=\"flag\">Below " +
            FigNum("report.min_response_rate", r_.options.min_response_rate) +
            "%: the answers may not represent the customers.</p>\n";
    }
    o_ += "</div>\n";

    if (x.nps) NpsCard(*x.nps);

    if (x.csat) {
      const metrics::CsatResult& c = x.csat->result;
      o_ += "<div class=\"card\" id=\"card-csat\">\n<h3>CSAT \xC2\xB7 " +
            Escape(QuestionText(x.csat->question)) + "</h3>\n";
      o_ += Big("csat.top2", c.top2, "%");
      o_ += IntervalLine("csat.top2", c.top2, "%");
      o_ += "<p>share in the two highest boxes";
      if (c.mean.n > 0) {
        o_ += "; mean " + FigNum("csat.mean.value", c.mean.value) + " " +
              FigInterval("csat.mean", c.mean);
      }
      o_ += "</p>\n</div>\n";
    }

    if (x.ces) {
      o_ += "<div class=\"card\" id=\"card-ces\">\n<h3>CES \xC2\xB7 " +
            Escape(QuestionText(x.ces->question)) + "</h3>\n";
      if (x.ces->agreement) {
        const metrics::CesResult& c = *x.ces->agreement;
        o_ += Big("ces.mean", c.mean);
        o_ += IntervalLine("ces.mean", c.mean);
        o_ += "<p>mean effort score; agree (" +
              Fig("ces.agree_from", std::to_string(c.agree_from)) + " and up): ";
        o_ += c.agree.n > 0 ? FigNum("ces.agree.value", c.agree.value) + "% " +
                                  FigInterval("ces.agree", c.agree, "%")
                            : std::string("no data");
        o_ += "</p>\n";
      } else {
        const metrics::NpsResult& c = *x.ces->net;
        o_ += Big("ces.net", c.classic);
        o_ += IntervalLine("ces.net", c.classic);
        o_ +=
            "<p>net score on 0..10 (9\xE2\x80\x93"
            "10 minus 0\xE2\x80\x93"
            "6)</p>\n";
      }
      o_ += "</div>\n";
    }

    if (x.csi) {
      const metrics::CsiResult& c = x.csi->result;
      o_ += "<div class=\"card\" id=\"card-csi\">\n<h3>CSI index</h3>\n";
      o_ += Big("csi.index", c.index);
      o_ += IntervalLine("csi.index", c.index);
      o_ += "<p>importance-weighted attribute indices";
      if (c.score.n > 0) {
        o_ +=
            "; CSI 0\xE2\x80\x93"
            "100: " +
            FigNum("csi.score.value", c.score.value) + " " + FigInterval("csi.score", c.score);
      }
      o_ += "</p>\n</div>\n";
    }

    if (x.cli) {
      const CliSummary& c = *x.cli;
      o_ += "<div class=\"card\" id=\"card-cli\">\n<h3>CLI (customer loyalty index)</h3>\n";
      o_ += Big("cli.index", c.result.index);
      o_ += IntervalLine("cli.index", c.result.index);
      std::string items;
      auto item = [&](const std::string& question, const char* key, const char* name,
                      const metrics::CliItemResult& it) {
        if (question.empty() || it.mean.n == 0) return;
        items += (items.empty() ? "" : ", ") + std::string(name) + " " +
                 FigNum(std::string("cli.") + key + ".mean.value", it.mean.value);
      };
      item(c.recommend, "recommend", "recommend", c.result.recommend);
      item(c.repurchase, "repurchase", "buy again", c.result.repurchase);
      item(c.cross_buy, "cross_buy", "other products", c.result.cross_buy);
      o_ += "<p>mean of the item means, 0..10" + (items.empty() ? "" : ": " + items) + "</p>\n";
      o_ += "</div>\n";
    }

    const metrics::LoyaltyResult& l = x.loyalty;
    if (l.customers > 0) {
      o_ += "<div class=\"card\" id=\"card-loyalty\">\n<h3>Loyalty rate</h3>\n";
      o_ += Big("loyalty.loyalty_rate", l.loyalty_rate, "%");
      o_ += IntervalLine("loyalty.loyalty_rate", l.loyalty_rate, "%", "customers");
      o_ += "<p>" + FigCount("loyalty.returning", l.returning_customers) + " of " +
            FigCount("loyalty.customers", l.customers) +
            " identified customers came back; repeat purchases " +
            FigNum("loyalty.repeat_purchase_rate.value", l.repeat_purchase_rate.value) + "% of " +
            FigCount("loyalty.visits", l.visits) + " visits</p>\n</div>\n";
    }
    o_ += "</div>\n</section>\n";
  }

  void NpsCard(const NpsSummary& s) {
    const metrics::NpsResult& n = s.result;
    const bool classic_differs = n.treatment != metrics::NonResponderTreatment::kExclude;
    o_ += "<div class=\"card\" id=\"card-nps\">\n<h3>NPS \xC2\xB7 " +
          Escape(QuestionText(s.question)) + "</h3>\n";
    o_ += Big("nps", n.nps);
    o_ += IntervalLine("nps", n.nps);
    o_ += "<p>" + FigCount("nps.promoters", n.promoters) + " promoters, " +
          FigCount("nps.passives", n.passives) + " passives, " +
          FigCount("nps.detractors", n.detractors) + " detractors</p>\n";
    if (classic_differs && n.classic.n > 0) {
      o_ += "<p>classic NPS " + FigNum("nps.classic.value", n.classic.value) + " " +
            FigInterval("nps.classic", n.classic) +
            ", n = " + FigCount("nps.classic.n", n.classic.n) + "</p>\n";
    }
    o_ += "<p class=\"small\">" + FigCount("nps.silent", n.non_responders) +
          " silent customers (offered, no score). Had they all been detractors: " +
          FigNum("nps.bounds.0", n.bound_lo) +
          "; all promoters: " + FigNum("nps.bounds.1", n.bound_hi) + ".</p>\n";
    // The bounds against the interval, on -100..100: how far the silent could move the score.
    if (n.nps.n > 0) {
      auto x = [](double v) { return 4 + (v + 100) / 200 * 232; };
      o_ +=
          "<svg viewBox=\"0 0 240 30\" role=\"img\" aria-label=\"NPS, its 95% interval and "
          "the silent-customer bounds on -100..100\">";
      o_ += "<rect class=\"bounds\" x=\"" + C(x(n.bound_lo)) + "\" y=\"6\" width=\"" +
            C(x(n.bound_hi) - x(n.bound_lo)) + "\" height=\"12\"/>";
      o_ += "<rect class=\"ci\" x=\"" + C(x(n.nps.lo)) + "\" y=\"6\" width=\"" +
            C(x(n.nps.hi) - x(n.nps.lo)) + "\" height=\"12\"/>";
      o_ += "<line class=\"tick\" x1=\"" + C(x(n.nps.value)) + "\" y1=\"3\" x2=\"" +
            C(x(n.nps.value)) + "\" y2=\"21\"" + FigAttrs("nps.value", n.nps.value) + "/>";
      o_ +=
          "<text class=\"axis\" x=\"4\" y=\"29\">-100</text>"
          "<text class=\"axis\" x=\"120\" y=\"29\" text-anchor=\"middle\">0</text>"
          "<text class=\"axis\" x=\"236\" y=\"29\" text-anchor=\"end\">100</text></svg>\n";
      o_ +=
          "<p class=\"legend\"><span class=\"key bounds\"></span>bounds<span class=\"key "
          "ci\"></span>95% interval</p>\n";
    }
    o_ += "</div>\n";
  }

  void Warnings() {
    if (r_.warnings.empty()) return;
    o_ += "<section class=\"warnings\">\n<h2>Warnings</h2>\n<ul>\n";
    for (const std::string& w : r_.warnings) o_ += "<li>" + Escape(w) + "</li>\n";
    o_ += "</ul>\n</section>\n";
  }

  //---------------------------------------------------------------------------
  void TrendChart() {
    if (!trend_ || trend_->groups.empty()) return;
    const Headline h = HeadlineOf(*trend_, headline_.index);
    const std::string unit = PeriodName(*trend_->by[0].period);
    struct Point {
      std::string label, path;
      Estimate e;
    };
    std::vector<Point> points;
    double lo = h.max, hi = h.min;
    for (const GroupEntry& g : trend_->groups) {
      const Estimate e = EstimateOf(g.indices, h);
      if (e.n == 0) continue;
      points.push_back({g.key[0], "trend." + GroupKeyPath(trend_->by, g.key) + "." + h.path, e});
      lo = std::min(lo, e.lo);
      hi = std::max(hi, e.hi);
    }
    if (points.empty()) return;
    const Axis axis = NiceAxis(lo, hi, h.min, h.max);
    constexpr double kW = 760, kH = 250, kL = 46, kR = 14, kT = 22, kB = 40;
    // Points are inset from the plot's edges so the first and last labels fit.
    constexpr double kInset = 34;
    const double plot_w = kW - kL - kR, plot_h = kH - kT - kB;
    auto y = [&](double v) { return kT + (axis.max - v) / (axis.max - axis.min) * plot_h; };
    const std::size_t count = points.size();
    auto x = [&](std::size_t i) {
      return count == 1 ? kL + plot_w / 2
                        : kL + kInset +
                              static_cast<double>(i) * (plot_w - 2 * kInset) /
                                  static_cast<double>(count - 1);
    };
    const std::size_t every = (count + 11) / 12;  // at most ~12 labels

    o_ += "<section class=\"chart\" id=\"trend\">\n<h2>" + Escape(h.name) + " per " + unit +
          ", with its 95% interval</h2>\n";
    o_ += "<svg viewBox=\"0 0 " + C(kW) + " " + C(kH) + "\" role=\"img\" aria-label=\"" +
          Escape(h.name) + " per " + unit + "\">\n";
    for (int t = 0; t <= axis.ticks; ++t) {
      const double v = axis.min + t * axis.step;
      o_ += "<line class=\"" + std::string(v == 0 ? "zero" : "grid") + "\" x1=\"" + C(kL) +
            "\" y1=\"" + C(y(v)) + "\" x2=\"" + C(kW - kR) + "\" y2=\"" + C(y(v)) + "\"/>";
      o_ += "<text class=\"axis\" x=\"" + C(kL - 6) + "\" y=\"" + C(y(v) + 4) +
            "\" text-anchor=\"end\">" + FormatNumber(v, 2) + "</text>\n";
    }
    // The band: along the upper bounds, back along the lower ones.
    std::string band;
    if (count == 1) {
      band = "M" + C(x(0) - 8) + "," + C(y(points[0].e.hi)) + "H" + C(x(0) + 8) + "V" +
             C(y(points[0].e.lo)) + "H" + C(x(0) - 8) + "Z";
    } else {
      for (std::size_t i = 0; i < count; ++i) {
        band += (i ? "L" : "M") + C(x(i)) + "," + C(y(points[i].e.hi));
      }
      for (std::size_t i = count; i-- > 0;) band += "L" + C(x(i)) + "," + C(y(points[i].e.lo));
      band += "Z";
    }
    o_ += "<path class=\"band\" d=\"" + band + "\"/>\n";
    if (count > 1) {
      std::string line;
      for (std::size_t i = 0; i < count; ++i) {
        line += (i ? " " : "") + C(x(i)) + "," + C(y(points[i].e.value));
      }
      o_ += "<polyline class=\"line\" points=\"" + line + "\"/>\n";
    }
    for (std::size_t i = 0; i < count; ++i) {
      const Point& p = points[i];
      const bool few = p.e.n < trend_->options.min_n;
      o_ += "<circle class=\"pt" + std::string(few ? " few" : "") + "\" cx=\"" + C(x(i)) +
            "\" cy=\"" + C(y(p.e.value)) + "\" r=\"3.5\"" + FigAttrs(p.path + ".value", p.e.value) +
            "/>";
      if (i % every == 0 || i + 1 == count) {
        o_ += "<text x=\"" + C(x(i)) + "\" y=\"" + C(y(p.e.hi) - 5) + "\" text-anchor=\"middle\">" +
              TSpanNum(p.path + ".value", p.e.value) + "</text>";
        o_ += "<text class=\"axis\" x=\"" + C(x(i)) + "\" y=\"" + C(kH - kB + 16) +
              "\" text-anchor=\"middle\">" + Escape(p.label) + "</text>";
      }
      o_ += "\n";
    }
    o_ += "</svg>\n";
    o_ += "<p class=\"legend\">Line: " + Escape(h.name) + " of each " + unit +
          " with offers; band: its 95% interval; hollow points rest on fewer than " +
          Count(trend_->options.min_n) + " answers.</p>\n";

    // The same figures as a table, for print and for the intervals.
    const bool has_change = std::any_of(trend_->groups.begin(), trend_->groups.end(),
                                        [](const GroupEntry& g) { return g.change.has_value(); });
    o_ += "<table class=\"trend\">\n<thead><tr><th>" + Escape(unit) + "</th><th>" + Escape(h.name) +
          "</th><th>95% interval</th><th>n</th>" +
          (has_change && h.index == "nps" ? "<th>change</th>" : "") + "</tr></thead>\n<tbody>\n";
    for (const GroupEntry& g : trend_->groups) {
      const Estimate e = EstimateOf(g.indices, h);
      const std::string path = "trend." + GroupKeyPath(trend_->by, g.key) + "." + h.path;
      o_ += "<tr><td>" + Escape(g.key[0]) + "</td>";
      if (e.n == 0) {
        o_ += "<td class=\"nodata\">no data</td><td></td><td>" + FigCount(path + ".n", 0) + "</td>";
      } else {
        o_ += "<td>" + FigNum(path + ".value", e.value) + h.unit + "</td><td>" +
              FigInterval(path, e, h.unit) + "</td><td>" + FigCount(path + ".n", e.n) + "</td>";
      }
      if (has_change && h.index == "nps") {
        o_ += "<td>";
        if (g.change && g.change->nps) {
          const std::string cp = "trend." + GroupKeyPath(trend_->by, g.key) + ".change.nps";
          o_ += FigNum(cp + ".value", g.change->nps->difference.value) + " vs " +
                Escape(g.change->vs) +
                (g.change->nps->significant ? " (significant)" : " (not significant)");
        }
        o_ += "</td>";
      }
      o_ += "</tr>\n";
    }
    o_ += "</tbody>\n</table>\n</section>\n";
  }

  //---------------------------------------------------------------------------
  void Distribution() {
    if (!r_.all.nps) return;
    const QuestionSummary* q = nullptr;
    for (const QuestionSummary& s : r_.questions) {
      if (s.id == r_.all.nps->question) q = &s;
    }
    if (!q || !q->answers.has_scale() || q->answers.Total() == 0) return;
    const std::vector<uint64_t>& counts = q->answers.counts();
    uint64_t top = 1;
    for (uint64_t c : counts) top = std::max(top, c);
    constexpr double kW = 760, kH = 220, kL = 20, kR = 20, kT = 22, kB = 30;
    const double band = (kW - kL - kR) / static_cast<double>(counts.size());
    const double plot_h = kH - kT - kB;
    const std::string base = "questions." + Segment(q->id) + ".counts.";
    const metrics::NpsResult& n = r_.all.nps->result;

    o_ +=
        "<section class=\"chart\" id=\"distribution\">\n<h2>Scores 0\xE2\x80\x93"
        "10 \xC2\xB7 " +
        Escape(QuestionText(q->id)) + "</h2>\n";
    o_ += "<svg viewBox=\"0 0 " + C(kW) + " " + C(kH) +
          "\" role=\"img\" aria-label=\"answers per score\">\n";
    o_ += "<line class=\"zero\" x1=\"" + C(kL) + "\" y1=\"" + C(kT + plot_h) + "\" x2=\"" +
          C(kW - kR) + "\" y2=\"" + C(kT + plot_h) + "\"/>\n";
    for (std::size_t i = 0; i < counts.size(); ++i) {
      const int32_t point = q->answers.min_point() + static_cast<int32_t>(i);
      const char* cls = point >= 9 ? "pro" : point >= 7 ? "pas" : "det";
      const double h = static_cast<double>(counts[i]) / static_cast<double>(top) * plot_h;
      const double x0 = kL + static_cast<double>(i) * band;
      const std::string path = base + Count(i);
      o_ += "<rect class=\"" + std::string(cls) + "\" x=\"" + C(x0 + band * 0.15) + "\" y=\"" +
            C(kT + plot_h - h) + "\" width=\"" + C(band * 0.7) + "\" height=\"" + C(h) + "\"" +
            FigAttrs(path, static_cast<double>(counts[i])) + "/>";
      o_ += "<text x=\"" + C(x0 + band / 2) + "\" y=\"" + C(kT + plot_h - h - 5) +
            "\" text-anchor=\"middle\">" + TSpan(path, Count(counts[i])) + "</text>";
      o_ += "<text class=\"axis\" x=\"" + C(x0 + band / 2) + "\" y=\"" + C(kH - 10) +
            "\" text-anchor=\"middle\">" + std::to_string(point) + "</text>\n";
    }
    o_ +=
        "</svg>\n<p class=\"legend\"><span class=\"key det\"></span>detractors 0\xE2\x80\x93"
        "6: " +
        FigCount("nps.detractors", n.detractors) +
        "<span class=\"key pas\"></span>passives 7\xE2\x80\x93"
        "8: " +
        FigCount("nps.passives", n.passives) +
        "<span class=\"key pro\"></span>promoters 9\xE2\x80\x93"
        "10: " +
        FigCount("nps.promoters", n.promoters) + "</p>\n</section>\n";
  }

  //---------------------------------------------------------------------------
  void GroupsChart() {
    if (r_.groups.empty() || IsTrendReport(r_)) return;  // a period alone: the trend shows it
    const Headline h = HeadlineOf(r_, r_.ranked_by.empty() ? headline_.index : r_.ranked_by);
    double lo = h.baseline, hi = h.baseline;
    for (const GroupEntry& g : r_.groups) {
      const Estimate e = EstimateOf(g.indices, h);
      if (e.n == 0) continue;
      lo = std::min(lo, e.lo);
      hi = std::max(hi, e.hi);
    }
    const Axis axis = NiceAxis(lo, hi, h.min, h.max);
    constexpr double kW = 760, kRow = 32, kT = 26, kX0 = 170, kX1 = 430, kText = 442;
    const double height = kT + kRow * static_cast<double>(r_.groups.size()) + 8;
    auto x = [&](double v) { return kX0 + (v - axis.min) / (axis.max - axis.min) * (kX1 - kX0); };

    std::string by;
    for (const GroupBy& g : r_.by) by += (by.empty() ? "" : " \xC3\x97 ") + g.Name();
    o_ += "<section class=\"chart\" id=\"groups\">\n<h2>" + Escape(h.name) + " by " + Escape(by) +
          "</h2>\n";
    o_ += "<svg viewBox=\"0 0 " + C(kW) + " " + C(height) + "\" role=\"img\" aria-label=\"" +
          Escape(h.name) + " by " + Escape(by) + "\">\n";
    for (int t = 0; t <= axis.ticks; ++t) {
      const double v = axis.min + t * axis.step;
      o_ += "<line class=\"" + std::string(v == 0 ? "zero" : "grid") + "\" x1=\"" + C(x(v)) +
            "\" y1=\"" + C(kT - 4) + "\" x2=\"" + C(x(v)) + "\" y2=\"" + C(height - 6) + "\"/>";
      o_ += "<text class=\"axis\" x=\"" + C(x(v)) + "\" y=\"" + C(kT - 10) +
            "\" text-anchor=\"middle\">" + FormatNumber(v, 2) + "</text>\n";
    }
    for (std::size_t i = 0; i < r_.groups.size(); ++i) {
      const GroupEntry& g = r_.groups[i];
      const Estimate e = EstimateOf(g.indices, h);
      const std::string key_path = "groups." + GroupKeyPath(r_.by, g.key);
      const std::string path = key_path + "." + h.path;
      const bool few = g.rank ? g.rank->too_few : e.n < r_.options.min_n;
      const double mid = kT + kRow * static_cast<double>(i) + kRow / 2;
      o_ += std::string("<g class=\"row") + (few ? " few" : "") + "\">";
      o_ += "<text x=\"" + C(kX0 - 8) + "\" y=\"" + C(mid + 4) + "\" text-anchor=\"end\">" +
            Escape(Clip(GroupLabel(g.key), 26)) + "</text>";
      if (e.n == 0) {
        o_ += "<text x=\"" + C(kText) + "\" y=\"" + C(mid + 4) +
              "\">no answers (n = " + TSpan(path + ".n", "0") + ")</text></g>\n";
        continue;
      }
      const double a = x(std::clamp(h.baseline, axis.min, axis.max)), b = x(e.value);
      o_ += "<rect class=\"bar\" x=\"" + C(std::min(a, b)) + "\" y=\"" + C(mid - 6) +
            "\" width=\"" + C(std::max(a, b) - std::min(a, b)) + "\" height=\"12\"" +
            FigAttrs(path + ".value", e.value) + "/>";
      o_ += "<line class=\"whisker\" x1=\"" + C(x(e.lo)) + "\" y1=\"" + C(mid) + "\" x2=\"" +
            C(x(e.hi)) + "\" y2=\"" + C(mid) + "\"/>";
      for (int end = 0; end < 2; ++end) {
        const double v = end ? e.hi : e.lo;
        o_ += "<line class=\"whisker\" x1=\"" + C(x(v)) + "\" y1=\"" + C(mid - 5) + "\" x2=\"" +
              C(x(v)) + "\" y2=\"" + C(mid + 5) + "\"" + FigAttrs(path + ".ci95." + Count(end), v) +
              "/>";
      }
      std::string rank;
      if (few) {
        rank = " \xC2\xB7 too few answers, not ranked";
      } else if (g.rank) {
        rank = " \xC2\xB7 rank " + TSpan(key_path + ".rank.position", Count(g.rank->position)) +
               "/" + TSpan(key_path + ".rank.of", Count(g.rank->of));
      }
      // Two lines: the value and its interval; n and the rank (or why there is none).
      o_ += "<text x=\"" + C(kText) + "\" y=\"" + C(mid - 2) + "\">" +
            TSpanNum(path + ".value", e.value) + h.unit + " [" + TSpanNum(path + ".ci95.0", e.lo) +
            h.unit + ", " + TSpanNum(path + ".ci95.1", e.hi) + h.unit + "]</text>";
      o_ += "<text class=\"axis\" x=\"" + C(kText) + "\" y=\"" + C(mid + 11) +
            "\">n = " + TSpan(path + ".n", Count(e.n)) + rank + "</text></g>\n";
    }
    o_ += "</svg>\n<p class=\"legend\">Bars: " + Escape(h.name) +
          "; whiskers: its 95% interval.<span class=\"key grey\"></span>fewer than " +
          Count(r_.options.min_n) + " answers: too few answers, not ranked.</p>\n</section>\n";
  }

  //---------------------------------------------------------------------------
  void CsiTable() {
    if (!r_.all.csi) return;
    const CsiSummary& c = *r_.all.csi;
    o_ +=
        "<section id=\"csi\">\n<h2>CSI attributes</h2>\n<table class=\"csi\">\n<thead><tr>"
        "<th>attribute</th><th>importance</th><th>promoters</th><th>neutrals</th>"
        "<th>critics</th><th>index</th><th>95% interval</th><th>n</th><th>mean</th>"
        "<th>quadrant</th></tr></thead>\n<tbody>\n";
    auto pct = [](const std::string& path, uint64_t part, uint64_t whole) {
      if (whole == 0) return std::string("\xE2\x80\x93");
      return FigNum(path, 100.0 * static_cast<double>(part) / static_cast<double>(whole)) + "%";
    };
    for (const CsiAttributeSummary& a : c.attributes) {
      const metrics::CsiAttributeResult& x = a.result;
      const uint64_t n = x.promoters + x.neutrals + x.critics;
      const std::string p = "csi.attributes." + Segment(x.attribute) + ".";
      o_ += "<tr><td>" + Escape(QuestionText(x.attribute)) + "<br><code class=\"small\">" +
            Escape(x.attribute) + "</code></td>";
      o_ += "<td>" +
            (x.importance.n > 0 ? FigNum(p + "importance.value", x.importance.value) + "%"
                                : std::string("\xE2\x80\x93")) +
            "</td>";
      o_ += "<td>" + pct(p + "promoters_pct", x.promoters, n) + "</td><td>" +
            pct(p + "neutrals_pct", x.neutrals, n) + "</td><td>" +
            pct(p + "critics_pct", x.critics, n) + "</td>";
      if (x.index.n > 0) {
        o_ += "<td>" + FigNum(p + "index.value", x.index.value) + "</td><td>" +
              FigInterval(p + "index", x.index) + "</td>";
      } else {
        o_ += "<td class=\"nodata\">no data</td><td></td>";
      }
      o_ += "<td>" + FigCount(p + "index.n", x.index.n) + "</td>";
      o_ += "<td>" +
            (a.mean.n > 0 ? FigNum(p + "mean.value", a.mean.value) : std::string("\xE2\x80\x93")) +
            "</td>";
      o_ += "<td>";
      if (a.driver) {
        o_ += Fig(p + "quadrant", metrics::QuadrantName(a.driver->quadrant)) +
              "<br><span class=\"small\">r = " +
              FigNum(p + "correlation.value", a.driver->correlation.value) + "</span>";
      } else {
        o_ += "\xE2\x80\x93";
      }
      o_ += "</td></tr>\n";
    }
    o_ += "</tbody>\n";
    if (c.result.index.n > 0) {
      o_ +=
          "<tfoot><tr><th>CSI (importance-weighted)</th><td></td><td></td><td></td><td></td><th>" +
          FigNum("csi.index.value", c.result.index.value) + "</th><td>" +
          FigInterval("csi.index", c.result.index) + "</td><td>" +
          FigCount("csi.index.n", c.result.index.n) + "</td><td></td><td></td></tr></tfoot>\n";
    }
    o_ +=
        "</table>\n<p class=\"legend\">Importance: share who call it important (or "
        "the importance rating on 0..100). Promoters, neutrals, critics: shares of the "
        "satisfaction answers; index = promoters \xE2\x88\x92 critics, in points; mean on the "
        "attribute's own scale.";
    if (!c.drivers_vs.empty()) {
      o_ += " r: correlation of the attribute's satisfaction with " +
            Escape(QuestionText(c.drivers_vs)) +
            "; quadrant: importance\xE2\x80\x93performance (fix first, keep up, low priority, "
            "possible overkill).";
    }
    o_ += "</p>\n</section>\n";
  }

  const Report& r_;
  const Survey& survey_;
  const Report* trend_ = nullptr;
  std::string language_;
  Headline headline_;
  std::string o_;
};

}  // namespace

std::string ReportToHtml(const Report& report, const Report* trend, const Survey& survey) {
  return Page(report, trend, survey).Render();
}

}  // namespace canvass
