// The dashboard's drawing internals, shared by its screen files: ui.cpp (the frame, top bar,
// filters and main area), cards.cpp (the overview's cards), charts.cpp (trend, distribution,
// groups, CSI quadrant, key drivers) and cases_view.cpp (the follow-up cases). Everything here
// draws with the UI toolkit (wasm/ui/) in the dashboard's colours (theme.h); not for api.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "follow_up.h"
#include "model.h"
#include "texts.h"
#include "theme.h"
#include "ui/painter.h"
#include "ui_state.h"

namespace canvass::dashboard::view {

using UiRect = ui::Rect;
using ui::Col;
using ui::Look;  // kPlain is a chip

constexpr ImU32 kBackground = Col(theme::kBackground);
constexpr ImU32 kPanel = Col(theme::kPanel);
constexpr ImU32 kInk = Col(theme::kInk);
constexpr ImU32 kMuted = Col(theme::kMuted);
constexpr ImU32 kFaint = Col(theme::kFaint);
constexpr ImU32 kGrid = Col(theme::kGrid);
constexpr ImU32 kChip = Col(theme::kChip);
constexpr ImU32 kChipHover = Col(theme::kChipHover);
constexpr ImU32 kBorder = Col(theme::kBorder);
constexpr ImU32 kAccent = Col(theme::kAccent);
constexpr ImU32 kOnAccent = Col(theme::kOnAccent);
constexpr ImU32 kGood = Col(theme::kGood);
constexpr ImU32 kBad = Col(theme::kBad);
constexpr ImU32 kPassive = Col(theme::kPassive);
constexpr ImU32 kGreyed = Col(theme::kGreyed);
constexpr ImU32 kSelectedRow = Col(theme::kSelectedRow);
constexpr ImU32 kLateRow = Col(theme::kLateRow);
constexpr ImU32 kContactBox = Col(theme::kContactBox);
constexpr ImU32 kFaintText = Col(theme::kFaintText);
constexpr ImU32 kGoodText = Col(theme::kGoodText);
constexpr ImU32 kBadText = Col(theme::kBadText);
constexpr ImU32 kPassiveText = Col(theme::kPassiveText);
constexpr ImU32 kAccentText = Col(theme::kAccentText);
constexpr ImU32 kAccentBand = IM_COL32(37, 99, 235, 48);  // the trend's interval band

// A figure as people read it: `decimals` kept even when zero ("22.0"), "+" on request. Built
// on FormatNumber, so the digits are those of the report's JSON.
std::string Fixed(double v, int decimals, bool plus = false);
// A count with thin groups of three digits: "12 345".
std::string Count(uint64_t n);
const char* TagKey(int tag);

// The toolkit's painter with the dashboard's strings and chips. Every chip and area takes the
// pane it is drawn in (`visible`): outside it, it is neither drawn nor clickable.
class Painter : public ui::Painter {
 public:
  Painter(const UiState& state, const UiFonts& fonts, float s, UiFrame* frame);

  const char* T(const char* key) const { return UiText(state_.language, key); }

  // A clickable chip in the body font. True on a click (never for a disabled one).
  bool Button(const std::string& id, UiRect r, const std::string& label, Look look,
              const UiRect& visible);
  // An invisible clickable area (a list row): true on a click; `hovered` tells whether the
  // pointer is over it. `name` is what assistive technology reads for it (a toggle button,
  // pressed when `pressed`).
  bool Area(const std::string& id, UiRect r, const UiRect& visible, bool* hovered,
            const std::string& name, bool pressed);
  // A chip as wide as its label.
  float ChipWidth(const std::string& label) const { return Width(f.body, label) + 20 * s; }
  void Item(const std::string& id, UiRect r, const UiRect& visible) {
    ui::Painter::Item(id, r, &visible);
  }
  void Panel(UiRect r);

 private:
  // How a chip reads to assistive technology.
  ui::SemAs Semantic(const std::string& id, const std::string& label, Look look) const;

  const UiState& state_;
};

// Chips laid out left to right, wrapping at x1.
struct Flow {
  float x0, x1, x, y, h, gap;
  Flow(float left, float right, float top, float height, float spacing)
      : x0(left), x1(right), x(left), y(top), h(height), gap(spacing) {}
  UiRect Next(float w) {
    w = std::min(w, x1 - x0);
    if (x > x0 && x + w > x1) {
      x = x0;
      y += h + gap;
    }
    UiRect r{x, y, w, h};
    x += w + gap;
    return r;
  }
  float Bottom() const { return y + h; }
};

inline std::string TagLabel(const Painter& p, int tag) { return p.T(TagKey(tag)); }

// [SECTION] The screens' parts (each returns the bottom it drew to, where it says so)

// cards.cpp: the overview's cards, `w` wide from (x0, y), in as many columns as fit.
float DrawCards(Painter& p, const Figures& fig, float x0, float y, float w, const UiRect& visible);
// charts.cpp
float DrawTrend(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                bool* changed);
void DrawDistribution(Painter& p, const Figures& fig, UiRect r, const UiRect& visible);
float DrawGroups(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                 bool* changed);
void DrawQuadrant(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                  const UiRect& visible);
void DrawDrivers(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                 const UiRect& visible);
// cases_view.cpp: the follow-up list and the case open, side by side when there is room.
float DrawCases(Painter& p, const Model& m, CaseList& cases, UiRect r, const UiRect& visible,
                bool* changed);

}  // namespace canvass::dashboard::view
