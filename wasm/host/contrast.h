// Colour contrast as WCAG 2.1 defines it (success criterion 1.4.3, "contrast ratio" and "relative
// luminance" in its glossary), for the themes of the wasm apps: their text colours are checked
// against the backgrounds they are drawn on by a unit test (tests/unit/contrast_test.cpp) rather
// than by eye. Pure functions, no ImGui: the test runs natively and under node.
#pragma once

#include <cmath>
#include <cstdint>

namespace canvass::host {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// WCAG's minimum for normal text (AA); large text may go down to 3:1, the apps do not rely on it.
constexpr double kMinTextContrast = 4.5;

// Relative luminance of an sRGB colour, 0 (black) .. 1 (white).
inline double RelativeLuminance(Rgb c) {
  auto channel = [](std::uint8_t v) {
    const double s = v / 255.0;
    return s <= 0.03928 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

// (L1 + 0.05) / (L2 + 0.05) with L1 the lighter: 1 (same colour) .. 21 (black on white).
inline double ContrastRatio(Rgb a, Rgb b) {
  const double la = RelativeLuminance(a), lb = RelativeLuminance(b);
  return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

}  // namespace canvass::host
