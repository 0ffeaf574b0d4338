// Value axes for charts: a data range [lo, hi] widened to round ticks within the range an index
// can take. The HTML report (report_html.cpp) and the dashboard (wasm/ui/chart.h) both place their
// ticks with NiceAxis, so the same figures get the same axis on paper and on screen.
// Pure arithmetic, no allocation; the same result on both targets (no fast-math).
#pragma once

namespace canvass {

// Ticks at min, min + step, ..., max: `ticks` intervals, ticks + 1 values.
struct Axis {
  double min = 0, max = 1, step = 1;
  int ticks = 1;  // intervals
  // The value of tick t (0..ticks).
  double Tick(int t) const { return min + t * step; }
};

// An axis over [lo, hi] widened to round ticks (about five), never past [domain_min, domain_max].
// A range narrower than a twentieth of the domain is first widened to that, around its middle.
Axis NiceAxis(double lo, double hi, double domain_min, double domain_max);

}  // namespace canvass
