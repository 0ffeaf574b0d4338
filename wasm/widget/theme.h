// The survey widget's colours (ui.cpp draws with these and no others), and every pair of a text
// colour and the background it is drawn on, so that tests/unit/contrast_test.cpp can hold each
// pair to WCAG's 4.5:1 (host/contrast.h). A new text colour or a new place text is drawn on goes
// into kTextPairs too. Plain data, no ImGui: the test runs natively and under node.
#pragma once

#include "contrast.h"

namespace canvass::widget::theme {

using host::Rgb;

constexpr Rgb kBackground{250, 250, 247};
constexpr Rgb kInk{31, 41, 51};
// Muted text (progress, hints, end labels, quiet buttons): 100,110,120 gave 4.1:1 on a hovered
// quiet button; one step darker passes everywhere it is drawn.
constexpr Rgb kMuted{88, 97, 107};
constexpr Rgb kButton{236, 240, 245};
constexpr Rgb kButtonHover{222, 229, 238};
constexpr Rgb kBorder{200, 207, 216};
constexpr Rgb kAccent{37, 99, 235};
constexpr Rgb kAccentDark{29, 78, 216};
constexpr Rgb kOnAccent{255, 255, 255};  // also the text fields' fill
constexpr Rgb kError{200, 30, 30};
constexpr Rgb kStar{245, 180, 20};
// Shapes only (the staff dot, the thank-you tick): 3:1 against the background is enough there.
constexpr Rgb kOk{22, 163, 74};
constexpr Rgb kWarn{217, 119, 6};
// The same meanings as text (the staff panel's figures): kOk and kWarn gave 3.2:1 and 3.1:1.
constexpr Rgb kOkText{21, 128, 61};
constexpr Rgb kWarnText{180, 83, 9};

struct TextPair {
  const char* where;
  Rgb text, background;
};

constexpr TextPair kTextPairs[] = {
    {"text on the page", kInk, kBackground},
    {"muted text on the page", kMuted, kBackground},
    {"error and validation messages", kError, kBackground},
    {"staff panel: synced", kOkText, kBackground},
    {"staff panel: waiting, offline", kWarnText, kBackground},
    {"plain button", kInk, kButton},
    {"plain button hovered or held", kInk, kButtonHover},
    {"quiet button (Back, Skip, Close, languages)", kMuted, kBackground},
    {"quiet button hovered or held", kMuted, kButtonHover},
    {"selected answer", kOnAccent, kAccent},
    {"primary button (Next, Start)", kOnAccent, kAccent},
    {"primary button held", kOnAccent, kAccentDark},
    {"typed text in a text field (the <input> mirror, color #1f2933)", kInk, kOnAccent},
    {"placeholder in a text field (::placeholder, color #58616b)", kMuted, kOnAccent},
};

}  // namespace canvass::widget::theme
