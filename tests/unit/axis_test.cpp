// Tests for canvass/axis.h: the value axes the HTML report and the dashboard both draw.
#include "canvass/axis.h"

#include <catch2/catch.hpp>

namespace canvass {
namespace {

TEST_CASE("NiceAxis widens a range to round ticks within the domain", "[axis]") {
  // An NPS trend between -12.3 and 41.7: steps of 10 from -20 to 50.
  const Axis nps = NiceAxis(-12.3, 41.7, -100, 100);
  CHECK(nps.step == 10);
  CHECK(nps.min == -20);
  CHECK(nps.max == 50);
  CHECK(nps.ticks == 7);
  CHECK(nps.Tick(0) == -20);
  CHECK(nps.Tick(nps.ticks) == 50);
  // The whole domain: steps of 50, never past it.
  const Axis all = NiceAxis(-100, 100, -100, 100);
  CHECK(all.step == 50);
  CHECK(all.min == -100);
  CHECK(all.max == 100);
  CHECK(all.ticks == 4);
}

TEST_CASE("NiceAxis clamps to the domain and keeps a range that is too narrow readable", "[axis]") {
  // A percentage near 100 is not drawn past 100.
  const Axis rate = NiceAxis(91, 99.5, 0, 100);
  CHECK(rate.max == 100);
  CHECK(rate.min == 90);
  CHECK(rate.step == 2);
  // One value: widened to a twentieth of the domain around it (NPS: 25 .. 35), then to round ticks.
  const Axis one = NiceAxis(30, 30, -100, 100);
  CHECK(one.min == 24);
  CHECK(one.max == 36);
  CHECK(one.step == 2);
  CHECK(one.ticks == 6);
  // A small domain (CLI 0..10) gets steps below 1.
  const Axis cli = NiceAxis(7.1, 7.9, 0, 10);
  CHECK(cli.step == Approx(0.2));
  // A CES mean on a 1..7 scale: the lowest tick is the scale's end, not 0.
  const Axis ces = NiceAxis(0, 6.4, 1, 7);
  CHECK(ces.min == 1);
  CHECK(ces.max == 7);
  CHECK(ces.step == 2);
  CHECK(ces.ticks == 3);
}

TEST_CASE("NiceAxis never returns an empty axis", "[axis]") {
  const Axis a = NiceAxis(100, 100, 0, 100);
  CHECK(a.max > a.min);
  CHECK(a.ticks >= 1);
}

}  // namespace
}  // namespace canvass
