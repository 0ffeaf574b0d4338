// The survey widget's palettes — standard, and high contrast for prefers-contrast: more — (ui.cpp
// draws with these colours and no others), and every pair of a text colour and the background it
// is drawn on, so that tests/unit/contrast_test.cpp can hold each pair to WCAG's 4.5:1
// (host/contrast.h). A new text colour or a new place text is drawn on goes into TextPairs() too.
// Plain data, no ImGui: the test runs natively and under node.
#pragma once

#include <array>

#include "contrast.h"

namespace canvass::widget::theme {

using host::Rgb;

// Every colour the widget draws with.
struct Palette {
  Rgb background, ink;
  Rgb muted;  // progress, hints, end labels, quiet buttons
  Rgb button, button_hover, border;
  Rgb accent, accent_dark;
  Rgb on_accent;  // also the text fields' fill
  Rgb error, star;
  Rgb ok, warn;            // shapes only (the staff dot, the thank-you tick): 3:1 is enough there
  Rgb ok_text, warn_text;  // the same meanings as text (the staff panel's figures)
  // The <input> mirrors' text and placeholder: CSS in wasm/js/widget.js, kept equal to these.
  Rgb field_text, placeholder;
};

// The standard theme. Muted text was 100,110,120 (4.1:1 on a hovered quiet button) and the staff
// panel's figures were drawn in the shape colours (3.2:1 and 3.1:1): the unit test found both.
constexpr Palette kStandard{
    .background = {250, 250, 247},
    .ink = {31, 41, 51},
    .muted = {88, 97, 107},
    .button = {236, 240, 245},
    .button_hover = {222, 229, 238},
    .border = {200, 207, 216},
    .accent = {37, 99, 235},
    .accent_dark = {29, 78, 216},
    .on_accent = {255, 255, 255},
    .error = {200, 30, 30},
    .star = {245, 180, 20},
    .ok = {22, 163, 74},
    .warn = {217, 119, 6},
    .ok_text = {21, 128, 61},
    .warn_text = {180, 83, 9},
    .field_text = {31, 41, 51},
    .placeholder = {88, 97, 107},
};

// prefers-contrast: more. Black on white, black borders, a darker accent: every text pair has at
// least 7:1 (WCAG's enhanced contrast, 1.4.6).
constexpr Palette kHighContrast{
    .background = {255, 255, 255},
    .ink = {0, 0, 0},
    .muted = {40, 40, 40},
    .button = {255, 255, 255},
    .button_hover = {225, 225, 225},
    .border = {0, 0, 0},
    .accent = {0, 51, 153},
    .accent_dark = {0, 32, 96},
    .on_accent = {255, 255, 255},
    .error = {150, 0, 0},
    .star = {150, 95, 0},
    .ok = {0, 110, 0},
    .warn = {160, 70, 0},
    .ok_text = {0, 90, 0},
    .warn_text = {130, 50, 0},
    .field_text = {0, 0, 0},
    .placeholder = {51, 51, 51},
};

struct TextPair {
  const char* where;
  Rgb text, background;
};

// Every pair of a text colour and the background it is drawn on, for `p`.
constexpr std::array<TextPair, 14> TextPairs(const Palette& p) {
  return {{
      {"text on the page", p.ink, p.background},
      {"muted text on the page", p.muted, p.background},
      {"error and validation messages", p.error, p.background},
      {"staff panel: synced", p.ok_text, p.background},
      {"staff panel: waiting, offline", p.warn_text, p.background},
      {"plain button", p.ink, p.button},
      {"plain button hovered or held", p.ink, p.button_hover},
      {"quiet button (Back, Skip, Close, languages)", p.muted, p.background},
      {"quiet button hovered or held", p.muted, p.button_hover},
      {"selected answer", p.on_accent, p.accent},
      {"primary button (Next, Start)", p.on_accent, p.accent},
      {"primary button held", p.on_accent, p.accent_dark},
      {"typed text in a text field (the <input> mirror)", p.field_text, p.on_accent},
      {"placeholder in a text field (::placeholder)", p.placeholder, p.on_accent},
  }};
}

}  // namespace canvass::widget::theme
