// Tests for host/contrast.h (WCAG 2.1 contrast ratio) and the survey widget's theme
// (widget/theme.h): every text colour the widget draws, on every background it is drawn on, has
// at least 4.5:1 in the standard theme and 7:1 in the high-contrast one; and the dashboard's theme
// (dashboard/theme.h) at 4.5:1.
#include "contrast.h"

#include <catch2/catch.hpp>

#include "dashboard/theme.h"
#include "widget/theme.h"

namespace canvass::host {
namespace {

TEST_CASE("contrast ratio follows WCAG 2.1's definition", "[contrast]") {
  CHECK(RelativeLuminance(Rgb{0, 0, 0}) == 0.0);
  CHECK(RelativeLuminance(Rgb{255, 255, 255}) == Approx(1.0));
  CHECK(ContrastRatio(Rgb{0, 0, 0}, Rgb{255, 255, 255}) == Approx(21.0));
  CHECK(ContrastRatio(Rgb{255, 255, 255}, Rgb{0, 0, 0}) == Approx(21.0));
  CHECK(ContrastRatio(Rgb{119, 119, 119}, Rgb{119, 119, 119}) == Approx(1.0));
  // Reference values from WebAIM's contrast checker: #777 on white 4.48:1, #767676 on white 4.54:1.
  CHECK(ContrastRatio(Rgb{0x77, 0x77, 0x77}, Rgb{255, 255, 255}) == Approx(4.48).margin(0.01));
  CHECK(ContrastRatio(Rgb{0x76, 0x76, 0x76}, Rgb{255, 255, 255}) == Approx(4.54).margin(0.01));
  // Blue #2563eb with white text: 5.17:1.
  CHECK(ContrastRatio(Rgb{37, 99, 235}, Rgb{255, 255, 255}) == Approx(5.17).margin(0.01));
}

TEST_CASE("every text colour of the widget's themes meets 4.5:1 on its background", "[contrast]") {
  for (const widget::theme::TextPair& pair : widget::theme::TextPairs(widget::theme::kStandard)) {
    INFO("standard, " << pair.where << ": " << ContrastRatio(pair.text, pair.background) << ":1");
    CHECK(ContrastRatio(pair.text, pair.background) >= kMinTextContrast);
  }
}

TEST_CASE("the high-contrast theme meets 7:1 for every text pair", "[contrast]") {
  for (const widget::theme::TextPair& pair :
       widget::theme::TextPairs(widget::theme::kHighContrast)) {
    INFO("high contrast, " << pair.where << ": " << ContrastRatio(pair.text, pair.background)
                           << ":1");
    CHECK(ContrastRatio(pair.text, pair.background) >= 7.0);
  }
  // Shapes that carry meaning (the sync dot, the tick) keep 3:1 against the background.
  const widget::theme::Palette& hc = widget::theme::kHighContrast;
  CHECK(ContrastRatio(hc.ok, hc.background) >= 3.0);
  CHECK(ContrastRatio(hc.warn, hc.background) >= 3.0);
  CHECK(ContrastRatio(hc.border, hc.background) >= 3.0);
}

TEST_CASE("every text colour of the dashboard meets 4.5:1 on its background", "[contrast]") {
  for (const dashboard::theme::TextPair& pair : dashboard::theme::kTextPairs) {
    INFO("dashboard, " << pair.where << ": " << ContrastRatio(pair.text, pair.background) << ":1");
    CHECK(ContrastRatio(pair.text, pair.background) >= kMinTextContrast);
  }
}

TEST_CASE("regression: the dashboard drew text in its shape colours", "[contrast]") {
  // A missing value, a rise, the "possible overkill" quadrant, on a white panel.
  CHECK(ContrastRatio(dashboard::theme::kFaint, dashboard::theme::kPanel) < kMinTextContrast);
  CHECK(ContrastRatio(dashboard::theme::kGood, dashboard::theme::kPanel) < kMinTextContrast);
  CHECK(ContrastRatio(dashboard::theme::kPassive, dashboard::theme::kPanel) < kMinTextContrast);
}

TEST_CASE("regression: the old muted grey and status colours failed 4.5:1", "[contrast]") {
  // What the widget drew before the theme was checked: muted text on a hovered quiet button,
  // green and amber figures on the staff panel.
  const widget::theme::Palette& p = widget::theme::kStandard;
  CHECK(ContrastRatio(Rgb{100, 110, 120}, p.button_hover) < kMinTextContrast);
  CHECK(ContrastRatio(p.ok, p.background) < kMinTextContrast);
  CHECK(ContrastRatio(p.warn, p.background) < kMinTextContrast);
}

}  // namespace
}  // namespace canvass::host
