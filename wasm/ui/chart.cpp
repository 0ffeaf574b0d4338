#include "chart.h"

#include "canvass/report.h"

namespace canvass::ui {

AxisMap MapAxis(double lo, double hi, double domain_min, double domain_max, float from, float to) {
  return AxisMap{NiceAxis(lo, hi, domain_min, domain_max), from, to};
}

std::string TickLabel(double v) { return FormatNumber(v, 2); }

void DrawHorizontalGrid(Painter& p, const AxisMap& y, float x0, float x1, const GridInk& ink) {
  for (int t = 0; t <= y.axis.ticks; ++t) {
    const double v = y.axis.Tick(t);
    const float at = y.At(v);
    p.dl->AddLine(ImVec2(x0, at), ImVec2(x1, at), v == 0 ? ink.zero : ink.grid, 1 * p.s);
    p.TextRight(p.f.small, x0 - 6 * p.s, at - p.f.small->FontSize / 2, ink.label, TickLabel(v));
  }
}

void DrawVerticalGrid(Painter& p, const AxisMap& x, float y0, float y1, const GridInk& ink) {
  for (int t = 0; t <= x.axis.ticks; ++t) {
    const double v = x.axis.Tick(t);
    const float at = x.At(v);
    p.dl->AddLine(ImVec2(at, y0), ImVec2(at, y1), v == 0 ? ink.zero : ink.grid, 1 * p.s);
    p.TextCentered(p.f.small, at, y1 + 4 * p.s, ink.label, TickLabel(v));
  }
}

void DrawWhisker(ImDrawList* dl, float x_lo, float x_hi, float cy, float y0, float y1, ImU32 colour,
                 float width) {
  dl->AddLine(ImVec2(x_lo, cy), ImVec2(x_hi, cy), colour, width);
  dl->AddLine(ImVec2(x_lo, y0), ImVec2(x_lo, y1), colour, width);
  dl->AddLine(ImVec2(x_hi, y0), ImVec2(x_hi, y1), colour, width);
}

}  // namespace canvass::ui
