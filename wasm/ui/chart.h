// Charts of the wasm apps (the Canvass UI toolkit, wasm/ui/; the dashboard's library
// canvass_ui_charts, which the survey widget does not link): value axes laid over the screen,
// their grid lines and tick labels, interval whiskers and bands. The ticks are the core's
// (canvass/axis.h), so a chart here and the same chart in the HTML report have the same axis.
#pragma once

#include <string>

#include "canvass/axis.h"
#include "painter.h"

namespace canvass::ui {

// A value axis over screen pixels: axis.min at `from`, axis.max at `to` (bottom to top for a
// vertical axis, left to right for a horizontal one).
struct AxisMap {
  Axis axis;
  float from = 0, to = 1;
  float At(double v) const {
    return from + static_cast<float>((v - axis.min) / (axis.max - axis.min)) * (to - from);
  }
};

// NiceAxis(lo, hi, domain_min, domain_max) from `from` to `to`.
AxisMap MapAxis(double lo, double hi, double domain_min, double domain_max, float from, float to);

// A tick's label: the figure as the report prints it (FormatNumber, at most 2 decimals).
std::string TickLabel(double v);

struct GridInk {
  ImU32 grid, zero, label;  // grid lines, the line at 0, tick labels (in the painter's small font)
};

// A vertical axis: a grid line across [x0, x1] at each tick, its label right-aligned left of x0.
void DrawHorizontalGrid(Painter& p, const AxisMap& y, float x0, float x1, const GridInk& ink);
// A horizontal axis: a grid line from y0 to y1 at each tick, its label centred below y1.
void DrawVerticalGrid(Painter& p, const AxisMap& x, float y0, float y1, const GridInk& ink);

// A 95% interval as a horizontal whisker from x_lo to x_hi at height cy, with end caps from y0
// to y1.
void DrawWhisker(ImDrawList* dl, float x_lo, float x_hi, float cy, float y0, float y1, ImU32 colour,
                 float width);

}  // namespace canvass::ui
