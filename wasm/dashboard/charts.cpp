#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <utility>

#include "ui/chart.h"
#include "view.h"

namespace canvass::dashboard::view {
namespace {

constexpr ui::GridInk kGridInk{kGrid, kFaint, kMuted};

// The range `index` can take, as the HTML report draws it (report_html.cpp): NPS, CSI and CES net
// -100..100, shares 0..100, CLI 0..10, a CES mean its answer scale.
std::pair<double, double> IndexDomain(const Report& r, const std::string& index) {
  if (index == "response_rate" || index == "csat") return {0, 100};
  if (index == "cli") return {0, 10};
  if (index == "ces" && r.all.ces && r.all.ces->agreement) {
    for (const QuestionSummary& q : r.questions) {
      if (q.id == r.all.ces->question && q.answers.has_scale()) {
        return {q.answers.min_point(), q.answers.max_point()};
      }
    }
    return {1, 7};
  }
  return {-100, 100};
}

std::string ShortPeriod(Period period, const std::string& label) {
  if (period == Period::kDay && label.size() == 10) return label.substr(5);  // "11-22"
  if (period == Period::kWeek && label.size() == 8) return label.substr(5);  // "W47"
  return label;
}

std::string AttributeName(const Model& m, const std::string& id, const std::string& language) {
  const StatsCube* c = m.cube();
  if (!c) return id;
  const int i = c->survey().FindQuestion(id);
  if (i < 0) return id;
  const std::string& t = c->survey().questions[static_cast<std::size_t>(i)].text.Get(
      language, c->survey().fallback_language);
  return t.empty() ? id : t;
}

// A CSI panel (the quadrant, the key drivers): its frame and title, and in `drivers` the
// attributes with a driver result; false, with the reason drawn, when there are none.
bool CsiPanel(Painter& p, const Figures& fig, UiRect r, const UiRect& visible, const char* id,
              const char* title, std::vector<const CsiAttributeSummary*>* drivers) {
  const float s = p.s;
  p.Panel(r);
  p.Item(id, r, visible);
  p.Text(p.f.body, r.x + 14 * s, r.y + 14 * s, kInk, p.T(title));
  const std::optional<CsiSummary>& csi = fig.current.all.csi;
  if (csi) {
    for (const CsiAttributeSummary& a : csi->attributes) {
      if (a.driver) drivers->push_back(&a);
    }
  }
  if (drivers->empty()) {
    p.Text(p.f.body, r.x + 14 * s, r.y + 50 * s, kMuted, csi ? p.T("no_drivers") : p.T("no_csi"));
    return false;
  }
  return true;
}

}  // namespace

// Heading plus period chips; returns the chart area's top.
float DrawTrend(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                bool* changed) {
  const float s = p.s;
  p.Panel(r);
  p.Item("chart:trend", r, visible);
  const Period period = m.filter().trend;
  const float hy = r.y + 12 * s;
  float x = r.x + 14 * s;
  x += p.Text(p.f.body, x, hy + (26 * s - p.f.body->FontSize) / 2, kInk,
              std::string(p.T("trend")) + ":") +
       10 * s;
  for (Period option : {Period::kDay, Period::kWeek, Period::kMonth}) {
    const std::string label = p.T(PeriodName(option));
    const float w = p.ChipWidth(label);
    if (p.Button(std::string("trend:") + PeriodName(option), UiRect{x, hy, w, 26 * s}, label,
                 option == period ? Look::kSelected : Look::kPlain, visible)) {
      Filter f = m.filter();
      f.trend = option;
      m.SetFilter(f);
      *changed = true;
    }
    x += w + 6 * s;
  }
  if (!fig.current.all.nps) {
    p.Text(p.f.body, r.x + 14 * s, hy + 40 * s, kMuted, p.T("no_nps"));
    return r.y;
  }
  struct Point {
    std::string label;
    metrics::Estimate e;
  };
  std::vector<Point> points;
  for (const GroupEntry& g : fig.trend.groups) {
    if (g.indices.nps && g.indices.nps->result.nps.n > 0) {
      points.push_back({g.key[0], g.indices.nps->result.nps});
    }
  }
  const float left = r.x + 48 * s, right = r.x + r.w - 18 * s;
  const float top = hy + 40 * s, bottom = r.y + r.h - 30 * s;
  // Points stay clear of the ends, so that their labels fit.
  const std::string widest = fig.trend.groups.empty() ? "" : fig.trend.groups.back().key[0];
  const float inset = p.Width(p.f.small, ShortPeriod(period, widest)) / 2 + 4 * s;
  if (points.empty()) {
    p.Text(p.f.body, left, top, kMuted, p.T("nothing"));
    return top;
  }
  double lo = 0, hi = 0;
  for (const Point& pt : points) {
    lo = std::min(lo, pt.e.lo);
    hi = std::max(hi, pt.e.hi);
  }
  // The chart's text alternative: a list of its points, one text each.
  p.sem().BeginGroup(host::Role::kGroup, "chart:trend",
                     std::string(p.T("trend")) + " " + p.T(PeriodName(period)),
                     {r.x, r.y, r.w, r.h});
  for (const Point& pt : points) {
    p.sem().Text("trend-point:" + pt.label,
                 ShortPeriod(period, pt.label) + ": NPS " + Fixed(pt.e.value, 1, true) + ", " +
                     p.T("interval") + " " + Fixed(pt.e.lo, 1, true) + " .. " +
                     Fixed(pt.e.hi, 1, true) + ", n = " + Count(pt.e.n),
                 {r.x, top, r.w, bottom - top});
  }
  p.sem().EndGroup();
  const ui::AxisMap a = ui::MapAxis(lo, hi, -100, 100, bottom, top);
  ui::DrawHorizontalGrid(p, a, left, right, kGridInk);
  const std::size_t n = points.size();
  auto px = [&](std::size_t i) {
    return n == 1 ? (left + right) / 2
                  : left + inset + (right - left - 2 * inset) * static_cast<float>(i) / (n - 1);
  };
  // The interval as a band: one quad per segment (each convex), then the line and the dots.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    p.dl->AddQuadFilled(ImVec2(px(i), a.At(points[i].e.hi)),
                        ImVec2(px(i + 1), a.At(points[i + 1].e.hi)),
                        ImVec2(px(i + 1), a.At(points[i + 1].e.lo)),
                        ImVec2(px(i), a.At(points[i].e.lo)), kAccentBand);
  }
  if (n == 1) {
    p.dl->AddRectFilled(ImVec2(px(0) - 8 * s, a.At(points[0].e.hi)),
                        ImVec2(px(0) + 8 * s, a.At(points[0].e.lo)), kAccentBand);
  }
  for (std::size_t i = 0; i + 1 < n; ++i) {
    p.dl->AddLine(ImVec2(px(i), a.At(points[i].e.value)),
                  ImVec2(px(i + 1), a.At(points[i + 1].e.value)), kAccent, 2 * s);
  }
  // Labels: as many as fit.
  const float label_w = p.Width(p.f.small, ShortPeriod(period, points.back().label)) + 12 * s;
  const std::size_t every = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(label_w * n / std::max(1.0f, right - left))));
  for (std::size_t i = 0; i < n; ++i) {
    p.dl->AddCircleFilled(ImVec2(px(i), a.At(points[i].e.value)), 3 * s, kAccent);
    if (i % every == 0 || i + 1 == n) {
      p.TextCentered(p.f.small, px(i), bottom + 8 * s, kMuted,
                     ShortPeriod(period, points[i].label));
    }
  }
  return top;
}

void DrawDistribution(Painter& p, const Figures& fig, UiRect r, const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item("chart:distribution", r, visible);
  p.Text(p.f.body, r.x + 14 * s, r.y + 14 * s, kInk, p.T("distribution"));
  if (!fig.current.all.nps) {
    p.Text(p.f.body, r.x + 14 * s, r.y + 50 * s, kMuted, p.T("no_nps"));
    return;
  }
  const metrics::ScaleCounts* counts = nullptr;
  for (const QuestionSummary& q : fig.current.questions) {
    if (q.id == fig.current.all.nps->question) counts = &q.answers;
  }
  if (!counts || !counts->has_scale()) return;
  const metrics::CutPoints cuts =
      metrics::DefaultCutPoints(counts->min_point(), counts->max_point());
  const metrics::NpsResult& n = fig.current.all.nps->result;
  const float left = r.x + 14 * s, right = r.x + r.w - 14 * s;
  const float top = r.y + 44 * s, bottom = r.y + r.h - 56 * s;
  uint64_t most = 1;
  for (uint64_t c : counts->counts()) most = std::max(most, c);
  const int points = counts->Points();
  const float slot = (right - left) / static_cast<float>(points);
  // The chart's text alternative: each score with its count, then the three shares.
  p.sem().BeginGroup(host::Role::kGroup, "chart:distribution", p.T("distribution"),
                     {r.x, r.y, r.w, r.h});
  for (int i = 0; i < points; ++i) {
    const int point = counts->min_point() + i;
    p.sem().Text(
        "distribution:" + std::to_string(point),
        std::to_string(point) + ": " + Count(counts->Count(point)) + " " + p.T("answers_n"),
        {left + slot * static_cast<float>(i), top, slot, bottom - top});
  }
  for (int i = 0; i < points; ++i) {
    const int point = counts->min_point() + i;
    const uint64_t c = counts->Count(point);
    const ImU32 colour = point >= cuts.promoter_min  ? kGood
                         : point >= cuts.neutral_min ? kPassive
                                                     : kBad;
    const float x0 = left + slot * static_cast<float>(i) + slot * 0.15f;
    const float x1 = left + slot * static_cast<float>(i + 1) - slot * 0.15f;
    const float y = bottom - (bottom - top - p.f.small->FontSize - 4 * s) * static_cast<float>(c) /
                                 static_cast<float>(most);
    p.dl->AddRectFilled(ImVec2(x0, y), ImVec2(x1, bottom), colour, 2 * s);
    p.TextCentered(p.f.small, (x0 + x1) / 2, y - p.f.small->FontSize - 2 * s, kMuted, Count(c));
    p.TextCentered(p.f.small, (x0 + x1) / 2, bottom + 4 * s, kInk, std::to_string(point));
  }
  const uint64_t total = n.promoters + n.passives + n.detractors;
  auto share = [&](uint64_t k) {
    return total ? Fixed(100.0 * static_cast<double>(k) / static_cast<double>(total), 1) + "%"
                 : "-";
  };
  float x = left;
  const float ly = r.y + r.h - 26 * s;
  const std::pair<ImU32, std::string> legend[] = {
      {kBad, std::string(p.T("detractors")) + " " + share(n.detractors)},
      {kPassive, std::string(p.T("passives")) + " " + share(n.passives)},
      {kGood, std::string(p.T("promoters")) + " " + share(n.promoters)}};
  for (const auto& [colour, text] : legend) {
    p.dl->AddRectFilled(ImVec2(x, ly + 3 * s), ImVec2(x + 10 * s, ly + 13 * s), colour, 2 * s);
    const float w = p.Text(p.f.small, x + 14 * s, ly, kMuted, text);
    p.sem().Text("distribution:" + text, text, {x + 14 * s, ly, w, p.f.small->FontSize});
    x += 14 * s + w + 12 * s;
  }
  p.sem().EndGroup();
}

float DrawGroups(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                 bool* changed) {
  const float s = p.s;
  const Report& g = fig.groups;
  const std::string index =
      g.ranked_by.empty() ? (fig.current.all.nps ? "nps" : "response_rate") : g.ranked_by;
  // Ranked first (best first), then those with too few answers, by name.
  std::vector<const GroupEntry*> rows;
  for (const GroupEntry& e : g.groups) rows.push_back(&e);
  std::stable_sort(rows.begin(), rows.end(), [](const GroupEntry* a, const GroupEntry* b) {
    const int ra = a->rank && !a->rank->too_few ? a->rank->position : 1 << 30;
    const int rb = b->rank && !b->rank->too_few ? b->rank->position : 1 << 30;
    return ra < rb;
  });
  const float row_h = 26 * s;
  r.h = 96 * s + row_h * static_cast<float>(std::max<std::size_t>(rows.size(), 1));
  p.Panel(r);
  p.Item("chart:groups", r, visible);
  const float hy = r.y + 12 * s;
  float x = r.x + 14 * s;
  x += p.Text(p.f.body, x, hy + (26 * s - p.f.body->FontSize) / 2, kInk,
              std::string(p.T(index.c_str())) + " " + p.T("groups")) +
       10 * s;
  for (int tag = 0; tag < kTagCount; ++tag) {
    if (m.TagValues(tag).empty() && tag != m.filter().group_by) continue;
    const std::string label = TagLabel(p, tag);
    const float w = p.ChipWidth(label);
    if (p.Button(std::string("groups:") + TagKey(tag), UiRect{x, hy, w, 26 * s}, label,
                 tag == m.filter().group_by ? Look::kSelected : Look::kPlain, visible)) {
      Filter f = m.filter();
      f.group_by = tag;
      m.SetFilter(f);
      *changed = true;
    }
    x += w + 6 * s;
  }
  const float label_w = std::min(200 * s, r.w * 0.3f);
  const float left = r.x + 14 * s + label_w, right = r.x + r.w - 110 * s;
  const float top = hy + 44 * s;
  double lo = 0, hi = 0;
  for (const GroupEntry* e : rows) {
    if (std::optional<metrics::Estimate> est = IndexEstimate(e->indices, index);
        est && est->n > 0) {
      lo = std::min(lo, est->lo);
      hi = std::max(hi, est->hi);
    }
  }
  const auto [domain_min, domain_max] = IndexDomain(fig.current, index);
  const ui::AxisMap a = ui::MapAxis(lo, hi, domain_min, domain_max, left, right);
  auto at = [&](double v) { return a.At(v); };
  const float bottom = top + row_h * static_cast<float>(rows.size());
  ui::DrawVerticalGrid(p, a, top - 4 * s, bottom, kGridInk);
  float y = top;
  bool any_too_few = false;
  // The chart's text alternative: a group with a line per row ("1. airport: -34.6, 95% -38.5 ..
  // -30.4, n = 743"), then the min-n note.
  p.sem().BeginGroup(host::Role::kGroup, "chart:groups",
                     std::string(p.T(index.c_str())) + " " + p.T("groups") + " " +
                         TagLabel(p, m.filter().group_by),
                     {r.x, r.y, r.w, r.h});
  for (const GroupEntry* e : rows) {
    const bool too_few = e->rank && e->rank->too_few;
    any_too_few = any_too_few || too_few;
    const std::string name = e->key[0].empty() ? p.T("none") : e->key[0];
    p.dl->PushClipRect(ImVec2(r.x, y), ImVec2(left - 8 * s, y + row_h), true);
    const std::string prefix = e->rank && !too_few ? std::to_string(e->rank->position) + ". " : "";
    p.Text(p.f.body, r.x + 14 * s, y + (row_h - p.f.body->FontSize) / 2,
           too_few ? kFaintText : kInk, prefix + name);
    p.dl->PopClipRect();
    std::optional<metrics::Estimate> est = IndexEstimate(e->indices, index);
    if (est && est->n > 0) {
      const float y0 = y + 6 * s, y1 = y + row_h - 6 * s, cy = (y0 + y1) / 2;
      const float zero = at(std::clamp(0.0, a.axis.min, a.axis.max));
      p.dl->AddRectFilled(ImVec2(std::min(zero, at(est->value)), y0),
                          ImVec2(std::max(zero, at(est->value)), y1),
                          too_few ? kGreyed : IM_COL32(37, 99, 235, 150), 2 * s);
      // Whisker: the 95% interval.
      ui::DrawWhisker(p.dl, at(est->lo), at(est->hi), cy, y0 + 2 * s, y1 - 2 * s,
                      too_few ? kFaint : kInk, 1.5f * s);
      p.Text(p.f.small, right + 10 * s, y + (row_h - p.f.small->FontSize) / 2,
             too_few ? kFaintText : kInk,
             Fixed(est->value, 1, index == "nps" || index == "csi") + "  n=" + Count(est->n));
    }
    const bool signed_index = index == "nps" || index == "csi";
    p.sem().Text(
        "groups:row:" + name,
        prefix + name + ": " +
            (est && est->n > 0 ? Fixed(est->value, 1, signed_index) + ", " + p.T("interval") + " " +
                                     Fixed(est->lo, 1, signed_index) + " .. " +
                                     Fixed(est->hi, 1, signed_index) + ", n = " + Count(est->n)
                               : std::string("-")),
        {r.x, y, r.w, row_h});
    y += row_h;
  }
  if (any_too_few) {
    char buf[160];
    std::snprintf(buf, sizeof buf, p.T("too_few"), static_cast<int>(g.options.min_n));
    p.Text(p.f.small, r.x + 14 * s, r.y + r.h - p.f.small->FontSize - 10 * s, kFaintText, buf);
    p.sem().Text("groups:too_few", buf, {r.x, r.y + r.h - 30 * s, r.w, 30 * s});
  }
  p.sem().EndGroup();
  return r.y + r.h;
}

void DrawQuadrant(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                  const UiRect& visible) {
  const float s = p.s;
  std::vector<const CsiAttributeSummary*> drivers;
  if (!CsiPanel(p, fig, r, visible, "chart:quadrant", "quadrant", &drivers)) return;
  const float left = r.x + 48 * s, right = r.x + r.w - 20 * s;
  const float top = r.y + 64 * s, bottom = r.y + r.h - 44 * s;
  double xlo = fig.split.importance, xhi = fig.split.importance, ylo = fig.split.performance,
         yhi = fig.split.performance;
  for (const CsiAttributeSummary* a : drivers) {
    xlo = std::min(xlo, a->driver->importance);
    xhi = std::max(xhi, a->driver->importance);
    ylo = std::min(ylo, a->driver->performance.value);
    yhi = std::max(yhi, a->driver->performance.value);
  }
  const double xpad = std::max(0.05, (xhi - xlo) * 0.15), ypad = std::max(5.0, (yhi - ylo) * 0.15);
  xlo = std::max(-1.0, xlo - xpad);
  xhi = std::min(1.0, xhi + xpad);
  const ui::AxisMap ya = ui::MapAxis(ylo - ypad, yhi + ypad, 0, 100, bottom, top);
  auto X = [&](double v) {
    return left + static_cast<float>((v - xlo) / (xhi - xlo)) * (right - left);
  };
  ui::DrawHorizontalGrid(p, ya, left, right, kGridInk);
  const float sx = X(fig.split.importance), sy = ya.At(fig.split.performance);
  p.dl->AddLine(ImVec2(sx, top), ImVec2(sx, bottom), kMuted, 1.5f * s);
  p.dl->AddLine(ImVec2(left, sy), ImVec2(right, sy), kMuted, 1.5f * s);
  // The four quadrant names (metrics::QuadrantName), in their corners.
  const float pad = 6 * s;
  p.TextRight(p.f.small, right - pad, top + pad, kGoodText,
              p.T(metrics::QuadrantName(metrics::Quadrant::kKeepUp)));
  p.TextRight(p.f.small, right - pad, bottom - p.f.small->FontSize - pad, kBadText,
              p.T(metrics::QuadrantName(metrics::Quadrant::kFixFirst)));
  p.Text(p.f.small, left + pad, top + pad, kPassiveText,
         p.T(metrics::QuadrantName(metrics::Quadrant::kPossibleOverkill)));
  p.Text(p.f.small, left + pad, bottom - p.f.small->FontSize - pad, kMuted,
         p.T(metrics::QuadrantName(metrics::Quadrant::kLowPriority)));
  for (const CsiAttributeSummary* a : drivers) {
    const metrics::DriverResult& d = *a->driver;
    const ImU32 colour = d.quadrant == metrics::Quadrant::kFixFirst           ? kBad
                         : d.quadrant == metrics::Quadrant::kKeepUp           ? kGood
                         : d.quadrant == metrics::Quadrant::kPossibleOverkill ? kPassive
                                                                              : kMuted;
    const ImVec2 c(X(d.importance), ya.At(d.performance.value));
    p.dl->AddCircleFilled(c, 6 * s, colour);
    p.Text(p.f.small, c.x + 9 * s, c.y - p.f.small->FontSize / 2, kInk,
           AttributeName(m, d.attribute, st.language));
  }
  p.TextCentered(p.f.small, (left + right) / 2, bottom + 18 * s, kMuted, p.T("importance_axis"));
  p.Text(p.f.small, left, bottom + 4 * s, kMuted, Fixed(xlo, 2));
  p.TextRight(p.f.small, right, bottom + 4 * s, kMuted, Fixed(xhi, 2));
  p.Text(p.f.small, r.x + 14 * s, top - p.f.small->FontSize - 14 * s, kMuted,
         p.T("performance_axis"));
}

void DrawDrivers(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                 const UiRect& visible) {
  const float s = p.s;
  std::vector<const CsiAttributeSummary*> rows;
  if (!CsiPanel(p, fig, r, visible, "list:drivers", "drivers", &rows)) return;
  std::stable_sort(rows.begin(), rows.end(),
                   [](const CsiAttributeSummary* a, const CsiAttributeSummary* b) {
                     return a->driver->correlation.value > b->driver->correlation.value;
                   });
  const float x_name = r.x + 14 * s, x_r = r.x + r.w * 0.38f, x_perf = r.x + r.w * 0.54f,
              x_quad = r.x + r.w * 0.64f;
  float y = r.y + 46 * s;
  p.Text(p.f.small, x_name, y, kMuted, p.T("attribute"));
  p.Text(p.f.small, x_r, y, kMuted, std::string(p.T("correlation")) + " (95%)");
  p.Text(p.f.small, x_perf, y, kMuted, p.T("performance"));
  y += p.f.small->FontSize + 8 * s;
  for (const CsiAttributeSummary* a : rows) {
    const metrics::DriverResult& d = *a->driver;
    p.dl->AddLine(ImVec2(x_name, y - 4 * s), ImVec2(r.x + r.w - 14 * s, y - 4 * s), kGrid, 1 * s);
    p.dl->PushClipRect(ImVec2(x_name, y), ImVec2(x_r - 8 * s, y + 40 * s), true);
    p.Text(p.f.body, x_name, y, kInk, AttributeName(m, d.attribute, st.language));
    p.dl->PopClipRect();
    p.Text(p.f.body, x_r, y, kInk, Fixed(d.correlation.value, 2));
    p.Text(p.f.small, x_r, y + p.f.body->FontSize + 2 * s, kMuted,
           Fixed(d.correlation.lo, 2) + " .. " + Fixed(d.correlation.hi, 2));
    p.Text(p.f.body, x_perf, y, kInk, Fixed(d.performance.value, 1));
    const ImU32 colour = d.quadrant == metrics::Quadrant::kFixFirst ? kBadText
                         : d.quadrant == metrics::Quadrant::kKeepUp ? kGoodText
                                                                    : kMuted;
    p.dl->PushClipRect(ImVec2(x_quad, y), ImVec2(r.x + r.w - 8 * s, y + 40 * s), true);
    p.Text(p.f.small, x_quad, y + 2 * s, colour, p.T(metrics::QuadrantName(d.quadrant)));
    p.dl->PopClipRect();
    y += p.f.body->FontSize + p.f.small->FontSize + 14 * s;
  }
}

}  // namespace canvass::dashboard::view
