#include "ui.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "imgui.h"
#include "ui/strings.h"
#include "view.h"

namespace canvass::dashboard {
namespace view {

const char* TagKey(int tag) { return kCubeTags[static_cast<std::size_t>(tag)]; }

std::string Fixed(double v, int decimals, bool plus) {
  std::string s = FormatNumber(v, decimals);
  if (s == "null") return "-";
  if (decimals > 0) {
    std::size_t dot = s.find('.');
    if (dot == std::string::npos) {
      s += ".";
      dot = s.size() - 1;
    }
    s.append(static_cast<std::size_t>(decimals) - (s.size() - dot - 1), '0');
  }
  if (plus && s[0] != '-' && FormatNumber(v, decimals) != "0") s = "+" + s;
  return s;
}

std::string Count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

// [SECTION] Painter ---------------------------------------------------------------------------

namespace {

// Chips: flat, no border, one line of the body font, cut at the chip's edge.
constexpr ui::Style kChipStyle{.looks = {/* kPlain */ {&kChip, &kChipHover, nullptr, &kInk},
                                         /* kSelected */ {&kAccent, &kAccent, nullptr, &kOnAccent},
                                         /* kPrimary */ {&kAccent, &kAccent, nullptr, &kOnAccent},
                                         /* kQuiet */ {&kPanel, &kChipHover, nullptr, &kMuted},
                                         /* kDisabled */ {&kChip, &kChip, nullptr, &kFaintText}},
                               .radius = 6,
                               .label = ui::ClippedLabel,
                               .field_fill = &kPanel,
                               .field_border = &kBorder,
                               .field_radius = 6};

}  // namespace

Painter::Painter(const UiState& state, const UiFonts& fonts, float s, UiFrame* frame)
    : ui::Painter(kChipStyle, fonts, s, frame), state_(state) {}

bool Painter::Button(const std::string& id, UiRect r, const std::string& label, Look look,
                     const UiRect& visible) {
  return ui::Painter::Button(id, r, label, f.body, look, Semantic(id, label, look), &visible);
}

bool Painter::Area(const std::string& id, UiRect r, const UiRect& visible, bool* hovered,
                   const std::string& name, bool pressed) {
  *hovered = false;
  if (r.y + r.h <= visible.y || r.y >= visible.y + visible.h) return false;
  const bool clicked = Hit(id, r, hovered);
  Item(id, r, visible);
  sem().Button(id, name, r).pressed = ui::TriOf(pressed);
  return clicked;
}

// A button; a filter, tab or language chip is a toggle button (aria-pressed), the others (date
// steps, case actions, log out) plain ones.
ui::SemAs Painter::Semantic(const std::string& id, const std::string& label, Look look) const {
  ui::SemAs as;
  as.name = label;
  if (id == "from:-1" || id == "to:-1") as.name = T("day_earlier");
  if (id == "from:+1" || id == "to:+1") as.name = T("day_later");
  if (id.rfind("lang:", 0) == 0) {
    as.lang = id.c_str() + 5;
    as.name = ui::LanguageName(as.lang);
  }
  as.disabled = look == Look::kDisabled;
  const bool action = id.rfind("case:", 0) == 0 || id.rfind("cases:", 0) == 0 || id.size() < 3 ||
                      id.compare(id.size() - 3, 3, ":-1") == 0 ||
                      id.compare(id.size() - 3, 3, ":+1") == 0;
  if (!action && (look == Look::kSelected || look == Look::kPlain)) {
    as.pressed = ui::TriOf(look == Look::kSelected);
  }
  return as;
}

void Painter::Panel(UiRect r) {
  dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kPanel, 8 * s);
  dl->AddRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kBorder, 8 * s, 0, 1 * s);
}

namespace {

// [SECTION] Chrome: top bar and filters -------------------------------------------------------

// The survey's title in the UI language, else its id.
std::string SurveyTitle(const Model& m, const std::string& language) {
  const StatsCube* c = m.cube();
  if (!c) return m.filter().survey;
  const Survey& s = c->survey();
  const std::string& t = s.title.Get(language, s.fallback_language);
  return t.empty() ? s.id : t;
}

void DrawTopBar(Painter& p, Model& m, const CaseList& cases, UiState& st, float width,
                bool* changed) {
  const float s = p.s, h = 56 * s;
  const UiRect all{0, 0, width, h};
  p.dl->AddRectFilled(ImVec2(0, 0), ImVec2(width, h), kPanel);
  p.dl->AddLine(ImVec2(0, h), ImVec2(width, h), kBorder, 1 * s);
  float x = 20 * s;
  x += p.Text(p.f.large, x, (h - p.f.large->FontSize) / 2, kInk,
              std::string("Canvass  ") + p.T("title"));
  if (!m.filter().survey.empty()) {
    p.Text(p.f.body, x + 20 * s, (h - p.f.body->FontSize) / 2, kMuted, SurveyTitle(m, st.language));
  }
  float right = width - 16 * s;
  const float bh = 32 * s, by = (h - bh) / 2;
  const float lw = p.ChipWidth(p.T("logout"));
  right -= lw;
  if (p.Button("logout", UiRect{right, by, lw, bh}, p.T("logout"), Look::kQuiet, all)) {
    st.logout = true;
    *changed = true;
  }
  if (!cases.me().empty()) {
    const std::string who = cases.me() + " (" + p.T(("role:" + cases.role()).c_str()) + ")";
    right -= 12 * s + p.Width(p.f.body, who);
    p.Text(p.f.body, right, (h - p.f.body->FontSize) / 2, kMuted, who);
  }
  right -= 16 * s;
  for (const char* lang : {"uk", "ru", "en"}) {
    const std::string label = lang == std::string("uk")   ? "УКР"
                              : lang == std::string("ru") ? "РУС"
                                                          : "ENG";
    const float w = p.ChipWidth(label);
    right -= w;
    if (p.Button(std::string("lang:") + lang, UiRect{right, by, w, bh}, label,
                 st.language == lang ? Look::kSelected : Look::kPlain, all)) {
      st.language = lang;
      *changed = true;
    }
    right -= 6 * s;
  }
}

// One filter section: a heading and chips ("All" + values). Returns the bottom.
float DrawTagFilter(Painter& p, Model& m, int tag, const UiRect& area, const UiRect& visible,
                    float y, bool* changed) {
  const float s = p.s;
  std::vector<std::string> values = m.TagValues(tag);
  const std::string& selected = m.filter().tags[static_cast<std::size_t>(tag)];
  if (!selected.empty() && std::find(values.begin(), values.end(), selected) == values.end()) {
    values.push_back(selected);  // selected, but nothing else matches it now
  }
  if (values.empty()) return y;  // the survey has no such tag
  p.Text(p.f.small, area.x, y, kMuted, TagLabel(p, tag));
  y += p.f.small->FontSize + 6 * s;
  Flow flow(area.x, area.x + area.w, y, 28 * s, 6 * s);
  const std::string key = TagKey(tag);
  if (p.Button(key + ":*", flow.Next(p.ChipWidth(p.T("all"))), p.T("all"),
               selected.empty() ? Look::kSelected : Look::kPlain, visible)) {
    m.SetTag(tag, "");
    *changed = true;
  }
  for (const std::string& v : values) {
    if (p.Button(key + ":" + v, flow.Next(p.ChipWidth(v)), v,
                 v == selected ? Look::kSelected : Look::kPlain, visible)) {
      m.SetTag(tag, v == selected ? "" : v);
      *changed = true;
    }
  }
  return flow.Bottom() + 18 * s;
}

void DrawSidebar(Painter& p, Model& m, UiState& st, const UiRect& r, bool* changed) {
  const float s = p.s;
  p.dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kPanel);
  p.dl->AddLine(ImVec2(r.x + r.w, r.y), ImVec2(r.x + r.w, r.y + r.h), kBorder, 1 * s);
  if (p.BeginPane(r, &st.sidebar_scroll)) *changed = true;
  const UiRect area{r.x + 16 * s, r.y, r.w - 32 * s, r.h};
  float y = r.y + 16 * s - st.sidebar_scroll;
  p.Text(p.f.large, area.x, y, kInk, p.T("filters"));
  y += p.f.large->FontSize + 14 * s;

  // Period: presets, then the days themselves.
  p.Text(p.f.small, area.x, y, kMuted, p.T("period"));
  y += p.f.small->FontSize + 6 * s;
  Flow presets(area.x, area.x + area.w, y, 28 * s, 6 * s);
  const int preset = m.PresetDays();
  for (int days : {7, 30, 90, 0}) {
    const std::string id = days ? "period:" + std::to_string(days) : "period:all";
    const char* label = days == 7    ? "days7"
                        : days == 30 ? "days30"
                        : days == 90 ? "days90"
                                     : "all_days";
    if (p.Button(id, presets.Next(p.ChipWidth(p.T(label))), p.T(label),
                 preset == days ? Look::kSelected : Look::kPlain, r)) {
      m.SetPreset(days);
      *changed = true;
    }
  }
  y = presets.Bottom() + 10 * s;
  for (int end = 0; end < 2; ++end) {
    const char* which = end == 0 ? "from" : "to";
    const int64_t day = end == 0 ? m.filter().from_day : m.filter().to_day;
    p.Text(p.f.body, area.x, y + (28 * s - p.f.body->FontSize) / 2, kMuted, p.T(which));
    const float bw = 28 * s, x_date = area.x + 44 * s;
    if (p.Button(std::string(which) + ":-1", UiRect{x_date, y, bw, 28 * s}, "<", Look::kPlain, r)) {
      end == 0 ? m.ShiftFrom(-1) : m.ShiftTo(-1);
      *changed = true;
    }
    p.TextCentered(p.f.body, (x_date + bw + area.x + area.w - bw) / 2,
                   y + (28 * s - p.f.body->FontSize) / 2, kInk, DayLabel(day));
    if (p.Button(std::string(which) + ":+1", UiRect{area.x + area.w - bw, y, bw, 28 * s}, ">",
                 Look::kPlain, r)) {
      end == 0 ? m.ShiftFrom(1) : m.ShiftTo(1);
      *changed = true;
    }
    y += 34 * s;
  }
  y += 12 * s;

  if (m.surveys().size() > 1) {
    p.Text(p.f.small, area.x, y, kMuted, p.T("survey"));
    y += p.f.small->FontSize + 6 * s;
    Flow flow(area.x, area.x + area.w, y, 28 * s, 6 * s);
    for (const std::string& id : m.surveys()) {
      if (p.Button("survey:" + id, flow.Next(p.ChipWidth(id)), id,
                   id == m.filter().survey ? Look::kSelected : Look::kPlain, r)) {
        m.SelectSurvey(id);
        *changed = true;
      }
    }
    y = flow.Bottom() + 18 * s;
  }
  for (int tag = 0; tag < kTagCount; ++tag) y = DrawTagFilter(p, m, tag, area, r, y, changed);
  p.EndPane(r, &st.sidebar_scroll, y);
}

// [SECTION] Main area -------------------------------------------------------------------------

const char* TabName(Tab tab) {
  return tab == Tab::kOverview ? "overview" : tab == Tab::kCharts ? "charts" : "cases";
}

void DrawMain(Painter& p, Model& m, CaseList& cases, UiState& st, const Figures& fig,
              const UiRect& r, bool* changed) {
  const float s = p.s;
  if (p.BeginPane(r, &st.main_scroll)) *changed = true;
  const float pad = 20 * s;
  const float x0 = r.x + pad, w = r.w - 2 * pad;
  float y = r.y + 16 * s - st.main_scroll;

  // Tabs.
  float x = x0;
  for (Tab tab : {Tab::kOverview, Tab::kCharts, Tab::kCases}) {
    const char* key = TabName(tab);
    std::string label = p.T(key);
    if (tab == Tab::kCases && cases.loaded()) {
      int waiting = 0;
      for (const CaseSummary* c : cases.Shown(m.filter().tags[0])) waiting += c->call_back_today;
      if (waiting > 0) label += "  (" + std::to_string(waiting) + ")";
    }
    const float tw = p.ChipWidth(label) + 12 * s;
    if (p.Button(std::string("tab:") + key, UiRect{x, y, tw, 32 * s}, label,
                 st.tab == tab ? Look::kSelected : Look::kPlain, r)) {
      st.tab = tab;
      st.main_scroll = 0;
      if (tab == Tab::kCases) cases.RequestList();  // fresh on every visit
      *changed = true;
    }
    x += tw + 8 * s;
  }
  y += 44 * s;

  if (st.tab == Tab::kCases) {
    y = DrawCases(p, m, cases, UiRect{x0, y, w, 0}, r, changed);
    p.EndPane(r, &st.main_scroll, y);
    return;
  }

  if (!fig.ready) {
    p.Text(p.f.large, x0, y + 20 * s, kMuted, fig.error.empty() ? p.T("loading") : fig.error);
    p.dl->PopClipRect();
    return;
  }
  // What is selected, against what.
  const Filter& f = m.filter();
  const int64_t days = f.to_day - f.from_day + 1;
  const std::string summary =
      DayLabel(f.from_day) + " .. " + DayLabel(f.to_day) + "  (" + std::to_string(days) + " " +
      p.T("days") + ")   " + Count(fig.current.all.outcomes.Offered()) + " " + p.T("offered") +
      ", " + Count(fig.current.all.outcomes.completed) + " " + p.T("completed") + "   " +
      p.T("vs") + " " + DayLabel(f.from_day - days) + " .. " + DayLabel(f.from_day - 1);
  p.Text(p.f.body, x0, y, kMuted, summary);
  y += p.f.body->FontSize + 14 * s;
  if (fig.current.selected == 0) {
    p.Text(p.f.large, x0, y + 10 * s, kMuted, p.T("nothing"));
    y += 60 * s;
  }

  if (st.tab == Tab::kOverview) {
    const float gap = 14 * s;
    y = DrawCards(p, fig, x0, y, w, r);
    const bool side_by_side = w > 900 * s;
    const float chart_h = 300 * s;
    const float trend_w = side_by_side ? (w - gap) * 0.62f : w;
    DrawTrend(p, m, fig, UiRect{x0, y, trend_w, chart_h}, r, changed);
    if (side_by_side) {
      DrawDistribution(p, fig, UiRect{x0 + trend_w + gap, y, w - trend_w - gap, chart_h}, r);
      y += chart_h + gap;
    } else {
      y += chart_h + gap;
      DrawDistribution(p, fig, UiRect{x0, y, w, chart_h}, r);
      y += chart_h + gap;
    }
  } else {
    const float gap = 14 * s;
    y = DrawGroups(p, m, fig, UiRect{x0, y, w, 0}, r, changed) + gap;
    const bool side_by_side = w > 900 * s;
    const float qh = 380 * s;
    const float qw = side_by_side ? (w - gap) * 0.55f : w;
    DrawQuadrant(p, m, st, fig, UiRect{x0, y, qw, qh}, r);
    if (side_by_side) {
      DrawDrivers(p, m, st, fig, UiRect{x0 + qw + gap, y, w - qw - gap, qh}, r);
      y += qh + gap;
    } else {
      y += qh + gap;
      DrawDrivers(p, m, st, fig, UiRect{x0, y, w, qh}, r);
      y += qh + gap;
    }
  }
  p.EndPane(r, &st.main_scroll, y);
}

}  // namespace
}  // namespace view

bool DrawDashboard(Model& model, CaseList& cases, UiState& state, const UiFonts& fonts, float scale,
                   UiFrame* frame) {
  ui::StartFrame(frame, state.language, scale);
  const ImGuiIO& io = ImGui::GetIO();
  ui::BeginScreen("dashboard", view::kBackground, ImGuiWindowFlags_NoScrollWithMouse);
  view::Painter p(state, fonts, scale, frame);
  const Figures& fig = model.figures();
  bool changed = false;
  const float width = io.DisplaySize.x, height = io.DisplaySize.y;
  const float bar = 56 * scale;
  const float side = std::min(288 * scale, width * 0.34f);
  view::DrawTopBar(p, model, cases, state, width, &changed);
  view::DrawSidebar(p, model, state, view::UiRect{0, bar + 1, side, height - bar - 1}, &changed);
  view::DrawMain(p, model, cases, state, fig,
                 view::UiRect{side + 1, bar + 1, width - side - 1, height - bar - 1}, &changed);
  ui::EndScreen();
  ui::FinishFrame(frame);
  return changed;
}

}  // namespace canvass::dashboard
