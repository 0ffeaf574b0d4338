// The dashboard's model (wasm/dashboard/model.h) without a browser: its filter becomes report
// options, and every figure it shows is the report's for those options, also after the filters
// change; the changes against the previous period are the report's rules (CompareStats).
#include "model.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "canvass/interchange.h"
#include "canvass/report_format.h"
#include "test_support.h"

using namespace canvass;
using canvass::dashboard::Model;

namespace {

constexpr int64_t kDayMs = 86400000;

struct Data {
  std::string definition = test::ReadSourceFile("examples/restaurant.json");
  std::vector<ResponseRecord> records;
  Data() {
    const Survey survey = *ParseSurvey(definition);
    std::istringstream in(test::ReadSourceFile("tests/golden/report-input.jsonl"));
    std::string line;
    while (std::getline(in, line)) records.push_back(*ParseJsonLine(line, &survey));
  }
  std::string CubeBytes() const {
    StatsCube cube = *StatsCube::ForDefinition(definition);
    REQUIRE(cube.AddRecords(records).ok());
    return EncodeStatsCube(cube);
  }
};

// The figures must be BuildReport's over the records for the model's own options.
void CheckAgainstRecords(Model& model, const Data& data) {
  const dashboard::Figures& f = model.figures();
  REQUIRE(f.ready);
  Result<Report> expected = BuildReport(model.cube()->survey(), data.records, f.options);
  REQUIRE(expected.ok());
  CHECK(ReportToJson(f.current) == ReportToJson(*expected));
  ReportOptions by_location = f.options;
  by_location.by = {*ParseGroupBy("location")};
  CHECK(ReportToJson(f.groups) ==
        ReportToJson(*BuildReport(model.cube()->survey(), data.records, by_location)));
  Result<Report> previous = BuildReport(model.cube()->survey(), data.records, f.previous_options);
  REQUIRE(previous.ok());
  CHECK(ReportToJson(f.previous) == ReportToJson(*previous));
  REQUIRE(f.current.all.nps);
  if (previous->all.nps && previous->all.nps->result.nps.n > 0) {
    REQUIRE(f.change.nps);
    CHECK(*f.change.nps ==
          metrics::NpsDifference(f.current.all.nps->result, previous->all.nps->result));
  } else {
    CHECK_FALSE(f.change.nps);  // nothing to compare with: no change is shown
  }
}

}  // namespace

TEST_CASE("The dashboard model shows the report's figures for its filter, as filters change") {
  const Data data;
  Model model;
  model.SetSurveys({"restaurant", "shop-checkout"});
  CHECK_FALSE(model.figures().ready);  // no statistics yet
  CHECK(model.figures().error.empty());
  double decode_ms = -1;
  Result<const StatsCube*> loaded = model.LoadCube(data.CubeBytes(), &decode_ms);
  REQUIRE(loaded.ok());
  CHECK(decode_ms >= 0);

  // The default: the last 30 days with data.
  const dashboard::Filter& f = model.filter();
  CHECK(f.survey == "restaurant");
  CHECK(model.PresetDays() == 30);
  CHECK(f.to_day == model.LastDay());
  CHECK(f.to_day - f.from_day + 1 == 30);
  CHECK(*model.figures().options.from_ms == f.from_day * kDayMs);
  CHECK(*model.figures().options.to_ms == (f.to_day + 1) * kDayMs);  // `to` is exclusive
  CheckAgainstRecords(model, data);

  model.SetTag(0, "airport");
  CHECK(model.figures().options.where ==
        std::vector<std::pair<std::string, std::string>>{{"location", "airport"}});
  CHECK(dashboard::ReportQuery(model.filter()).find("&where=location%3Dairport") !=
        std::string::npos);
  CheckAgainstRecords(model, data);
  // Staff values follow the location filter.
  for (const std::string& staff : model.TagValues(1))
    CHECK(staff.find("@airport") != std::string::npos);

  model.SetPreset(7);
  CHECK(model.PresetDays() == 7);
  CheckAgainstRecords(model, data);
  model.ShiftTo(-1);
  CHECK(model.PresetDays() == -1);
  CHECK(model.filter().to_day - model.filter().from_day + 1 == 6);
  model.SetTag(0, "");
  model.SetPreset(0);
  CHECK(model.filter().from_day == model.FirstDay());
  CheckAgainstRecords(model, data);
  // "All": the previous period of equal length holds no data, so no card invents a change (it
  // showed "+32.9 vs previous 60 days" against nothing; issue 13).
  {
    const dashboard::Figures& all = model.figures();
    CHECK(all.previous.all.outcomes.Offered() == 0);
    CHECK_FALSE(all.change.nps);
    CHECK_FALSE(all.change.response_rate);
    CHECK_FALSE(all.change.csat);
    CHECK_FALSE(all.change.ces);
    CHECK_FALSE(all.csi_index);
    CHECK_FALSE(all.cli);
    CHECK_FALSE(all.loyalty);
  }

  // A survey without statistics yet: not ready, until its cube comes.
  model.SelectSurvey("shop-checkout");
  CHECK(model.cube() == nullptr);
  CHECK_FALSE(model.figures().ready);
  CHECK_FALSE(model.LoadCube("not a cube").ok());
}
