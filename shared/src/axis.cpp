#include "canvass/axis.h"

#include <algorithm>
#include <cmath>

namespace canvass {

Axis NiceAxis(double lo, double hi, double domain_min, double domain_max) {
  if (hi - lo < (domain_max - domain_min) / 20) {
    const double mid = (lo + hi) / 2, half = (domain_max - domain_min) / 40;
    lo = mid - half;
    hi = mid + half;
  }
  static constexpr double kSteps[] = {0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100};
  Axis a;
  for (double step : kSteps) {
    a.step = step;
    if ((hi - lo) / step <= 6) break;
  }
  a.min = std::max(domain_min, std::floor(lo / a.step) * a.step);
  a.max = std::min(domain_max, std::ceil(hi / a.step) * a.step);
  if (a.max <= a.min) a.max = a.min + a.step;
  a.ticks = static_cast<int>(std::floor((a.max - a.min) / a.step + 0.5));
  return a;
}

}  // namespace canvass
