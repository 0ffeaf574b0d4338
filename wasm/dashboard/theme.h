// The dashboard's colours (ui.cpp draws with these), and every pair of a text colour and the
// background it is drawn on, so that tests/unit/contrast_test.cpp can hold each pair to WCAG's
// 4.5:1 (host/contrast.h). Shapes (bars, dots, lines) keep the bright kGood, kBad, kPassive and
// kFaint; text in those meanings uses the darker *Text variants. Plain data, no ImGui.
#pragma once

#include <array>

#include "contrast.h"

namespace canvass::dashboard::theme {

using host::Rgb;

constexpr Rgb kBackground{246, 247, 249};
constexpr Rgb kPanel{255, 255, 255};
constexpr Rgb kInk{31, 41, 51};
// Was 100,110,120: 4.1:1 on a hovered chip and 4.3:1 on the selected case's row.
constexpr Rgb kMuted{88, 97, 107};
constexpr Rgb kFaint{160, 168, 178};  // shapes only (the zero line, a group under min n)
constexpr Rgb kGrid{226, 230, 236};
constexpr Rgb kChip{236, 240, 245};
constexpr Rgb kChipHover{222, 229, 238};
constexpr Rgb kBorder{214, 220, 228};
constexpr Rgb kAccent{37, 99, 235};
constexpr Rgb kOnAccent{255, 255, 255};
constexpr Rgb kGood{22, 163, 74};
constexpr Rgb kBad{220, 38, 38};
constexpr Rgb kPassive{234, 179, 8};
constexpr Rgb kGreyed{196, 202, 210};
// Row and box fills of the follow-up view.
constexpr Rgb kSelectedRow{219, 234, 254};
constexpr Rgb kLateRow{254, 242, 242};
constexpr Rgb kContactBox{240, 253, 244};
// Text in the shape colours' meanings. They were drawn in the shape colours: 2.4:1 (faint),
// 3.3:1 (good), 4.8:1 (bad) and 1.9:1 (passive) on a white panel.
constexpr Rgb kFaintText{95, 104, 114};
constexpr Rgb kGoodText{20, 108, 52};
constexpr Rgb kBadText{160, 20, 20};
constexpr Rgb kPassiveText{146, 84, 0};
constexpr Rgb kAccentText{29, 78, 216};

// A badge's fill: its text colour at 0x28 / 255 over the row (ui.cpp, Badge).
constexpr Rgb BadgeFill(Rgb text, Rgb row) {
  auto mix = [](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>((a * 0x28 + b * (255 - 0x28) + 127) / 255);
  };
  return {mix(text.r, row.r), mix(text.g, row.g), mix(text.b, row.b)};
}

struct TextPair {
  const char* where;
  Rgb text, background;
};

constexpr TextPair kTextPairs[] = {
    {"text on the page", kInk, kBackground},
    {"text on a panel (cards, charts, lists)", kInk, kPanel},
    {"muted text on the page (sidebar)", kMuted, kBackground},
    {"muted text on a panel", kMuted, kPanel},
    {"chip", kInk, kChip},
    {"chip hovered", kInk, kChipHover},
    {"selected chip", kOnAccent, kAccent},
    {"quiet chip (Log out, Close)", kMuted, kPanel},
    {"quiet chip hovered", kMuted, kChipHover},
    {"disabled chip", kFaintText, kChip},
    {"a card's missing value, no change, a group under min n", kFaintText, kPanel},
    {"significant rise", kGoodText, kPanel},
    {"significant fall", kBadText, kPanel},
    {"quadrant: possible overkill", kPassiveText, kPanel},
    {"case row text", kInk, kChip},
    {"case row muted text", kMuted, kChip},
    {"selected case row", kInk, kSelectedRow},
    {"selected case row, muted", kMuted, kSelectedRow},
    {"late case row", kInk, kLateRow},
    {"late case row, muted", kMuted, kLateRow},
    {"contact box", kInk, kContactBox},
    {"contact box: no contact details", kBadText, kContactBox},
    {"call back today, errors", kBadText, kPanel},
    {"a case's due time, overdue, on a late row", kBadText, kLateRow},
    {"a case's due time, overdue, on the selected row", kBadText, kSelectedRow},
    {"contact box, muted", kMuted, kContactBox},
    // A case's state, on every row it can be on.
    {"state open", kBadText, kSelectedRow},
    {"state open, late row", kBadText, kLateRow},
    {"state open, hovered row", kBadText, kChip},
    {"state contacted", kPassiveText, kSelectedRow},
    {"state contacted, late row", kPassiveText, kLateRow},
    {"state contacted, hovered row", kPassiveText, kChip},
    {"state root cause found", kAccentText, kSelectedRow},
    {"state root cause found, late row", kAccentText, kLateRow},
    {"state root cause found, hovered row", kAccentText, kChip},
    {"state resolved", kGoodText, kSelectedRow},
    {"state resolved, late row", kGoodText, kLateRow},
    {"state resolved, hovered row", kGoodText, kChip},
    {"badge (overdue, escalated) on a late row", kBadText, BadgeFill(kBadText, kLateRow)},
    {"badge on the selected row", kBadText, BadgeFill(kBadText, kSelectedRow)},
    {"badge on a panel", kBadText, BadgeFill(kBadText, kPanel)},
};

}  // namespace canvass::dashboard::theme
