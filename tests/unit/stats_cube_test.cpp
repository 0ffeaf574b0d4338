#include "canvass/stats_cube.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "canvass/crypto.h"
#include "canvass/interchange.h"
#include "canvass/random.h"
#include "canvass/report_format.h"
#include "test_support.h"

using namespace canvass;

namespace {

constexpr int64_t kDayMs = 86400000;

std::string Definition(const std::string& name) {
  return test::ReadSourceFile("examples/" + name + ".json");
}

StatsCube EmptyCube(const std::string& definition) {
  Result<StatsCube> cube = StatsCube::ForDefinition(definition);
  INFO(cube.status().ToString());
  REQUIRE(cube.ok());
  return *cube;
}

std::vector<ResponseRecord> ReadJsonLines(const std::string& relative_path, const Survey& survey) {
  std::istringstream in(test::ReadSourceFile(relative_path));
  std::vector<ResponseRecord> records;
  std::string line;
  while (std::getline(in, line)) {
    Result<ResponseRecord> r = ParseJsonLine(line, &survey);
    INFO(line);
    REQUIRE(r.ok());
    records.push_back(*r);
  }
  return records;
}

// Website NPS over 45 days with every cube tag that survey has (channel, segment) plus location
// and staff, a few customers seen on several days and at several places, and every outcome.
std::vector<ResponseRecord> WebsiteRecords(const Survey& survey) {
  SplitMix64 rng(7);
  std::vector<ResponseRecord> records;
  const int64_t start = DaysFromCivil(2026, 10, 20) * kDayMs;
  const char* segments[] = {"regular", "new", "business"};
  const char* channels[] = {"web", "app"};
  for (int i = 0; i < 900; ++i) {
    ResponseRecord r;
    r.survey_id = survey.id;
    r.device_id = "web-" + std::to_string(i % 5);
    r.seq = static_cast<uint64_t>(i / 5 + 1);
    r.device_time_ms = start + static_cast<int64_t>(rng.Below(45 * kDayMs));
    r.tags["channel"] = channels[rng.Below(2)];
    if (rng.Below(10) > 0) r.tags["segment"] = segments[rng.Below(3)];
    if (rng.Below(3) == 0) r.tags["location"] = rng.Below(2) ? "kyiv" : "lviv";
    if (rng.Below(4) == 0) r.tags["staff"] = "s" + std::to_string(rng.Below(4));
    if (rng.Below(3) == 0) r.customer_key = "card-" + std::to_string(rng.Below(60));
    const uint64_t roll = rng.Below(100);
    r.outcome = roll < 60   ? Outcome::kCompleted
                : roll < 70 ? Outcome::kPartial
                : roll < 85 ? Outcome::kDeclined
                            : Outcome::kIgnored;
    if (r.outcome == Outcome::kCompleted || r.outcome == Outcome::kPartial) {
      for (const Question& q : survey.questions) {
        if (q.kind == QuestionKind::kNps || q.kind == QuestionKind::kRating) {
          if (r.outcome == Outcome::kPartial && rng.Below(2)) continue;
          const int32_t span = q.scale.max - q.scale.min + 1;
          r.answers[q.id] = ScaleAnswer{q.scale.min + static_cast<int32_t>(rng.Below(span))};
        }
      }
    }
    records.push_back(std::move(r));
  }
  return records;
}

ReportOptions Options(std::vector<std::string> by = {},
                      std::vector<std::pair<std::string, std::string>> where = {}) {
  ReportOptions o;
  for (const std::string& b : by) o.by.push_back(*ParseGroupBy(b));
  o.where = std::move(where);
  return o;
}

// The property: for options a cube can answer, the cube's statistics are exactly the table's,
// and so is every byte of the report.
void CheckSameAsRecords(const std::string& definition, const std::vector<ResponseRecord>& records,
                        const std::vector<ReportOptions>& cases) {
  StatsCube cube = EmptyCube(definition);
  InputIssues issues;
  REQUIRE(cube.AddRecords(records, &issues).ok());
  CHECK(issues.refused == 0);
  const Survey& survey = cube.survey();
  ResponseTable table(survey);
  for (const ResponseRecord& r : records) REQUIRE(table.Add(r).ok());
  CHECK(cube.offers() == table.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ReportOptions& options = cases[i];
    std::string label = "case " + std::to_string(i) + ":";
    for (const GroupBy& g : options.by) label += " by " + g.Name();
    for (const auto& [k, v] : options.where) label += " where " + k + "=" + v;
    if (options.from_ms) label += " from " + FormatIsoTime(*options.from_ms);
    if (options.to_ms) label += " to " + FormatIsoTime(*options.to_ms);
    INFO(label);
    Result<CollectedStats> from_cube = CollectFromCube(cube, options);
    INFO(from_cube.status().ToString());
    REQUIRE(from_cube.ok());
    Result<CollectedStats> from_table = CollectStats(table, options);
    REQUIRE(from_table.ok());
    CHECK(*from_cube == *from_table);
    Result<Report> report = ReportFromStats(survey, *from_cube, options);
    REQUIRE(report.ok());
    CHECK(ReportToJson(*report) == ReportToJson(*BuildReport(table, options)));
  }
}

}  // namespace

TEST_CASE("Reports from the cube equal reports over the records, for filters and group-bys") {
  SECTION("restaurant (demo data): series with CSI, drivers and loyalty") {
    const std::string definition = Definition("restaurant");
    const Survey survey = *ParseSurvey(definition);
    const std::vector<ResponseRecord> records =
        ReadJsonLines("tests/golden/report-input.jsonl", survey);
    const int64_t day = DaysFromCivil(2026, 11, 9) * kDayMs;
    std::vector<ReportOptions> cases = {
        Options(),
        Options({"location"}),
        Options({"staff"}),
        Options({"channel"}),
        Options({"period:day"}),
        Options({"period:week"}),
        Options({"period:month"}),
        Options({"location", "period:week"}),
        Options({"period:week", "channel"}),
        Options({}, {{"location", "airport"}}),
        Options({"staff"}, {{"location", "central"}, {"channel", "kiosk"}}),
        Options({"segment"}),                    // the survey has no segment: one "" group
        Options({}, {{"segment", "regular"}}),   // nobody has it: nothing selected
        Options({}, {{"location", "nowhere"}}),  // no such value: nothing selected
        Options({}, {{"location", ""}}),
    };
    ReportOptions window = Options({"location"});
    window.from_ms = day;
    window.to_ms = day + 7 * kDayMs;
    cases.push_back(window);
    ReportOptions open_end = Options({"period:day"}, {{"channel", "web"}});
    open_end.from_ms = day + 3 * kDayMs;
    open_end.nonresponders = metrics::NonResponderTreatment::kAsDetractor;
    open_end.min_n = 5;
    cases.push_back(open_end);
    ReportOptions until = Options({"location"});
    until.to_ms = day;
    until.nonresponders = metrics::NonResponderTreatment::kAsPassive;
    cases.push_back(until);
    ReportOptions empty_range;
    empty_range.from_ms = day + 7 * kDayMs;
    empty_range.to_ms = day;
    cases.push_back(empty_range);
    CheckSameAsRecords(definition, records, cases);
  }
  SECTION("shop checkout (demo data): rotate_one") {
    const std::string definition = Definition("shop-checkout");
    const Survey survey = *ParseSurvey(definition);
    CheckSameAsRecords(definition, ReadJsonLines("tests/golden/report-shop-input.jsonl", survey),
                       {Options(), Options({"period:week"}), Options({"location", "staff"}),
                        Options({"period:day"}, {{"location", "central"}})});
  }
  SECTION("website NPS: segments, sparse tags, customers across places and days") {
    const std::string definition = Definition("website-nps");
    const Survey survey = *ParseSurvey(definition);
    ReportOptions window = Options({"segment", "period:week"});
    window.from_ms = DaysFromCivil(2026, 11, 1) * kDayMs;
    window.to_ms = DaysFromCivil(2026, 12, 1) * kDayMs;
    CheckSameAsRecords(
        definition, WebsiteRecords(survey),
        {Options(), Options({"segment"}), Options({"location"}), Options({"staff", "channel"}),
         Options({"period:month", "segment"}), Options({}, {{"segment", "business"}}), window});
  }
}

TEST_CASE("A cube built in parts and merged is the cube of the whole") {
  const std::string definition = Definition("restaurant");
  const Survey survey = *ParseSurvey(definition);
  const std::vector<ResponseRecord> records =
      ReadJsonLines("tests/golden/report-input.jsonl", survey);
  StatsCube whole = EmptyCube(definition);
  REQUIRE(whole.AddRecords(records).ok());

  StatsCube one_by_one = EmptyCube(definition);
  for (const ResponseRecord& r : records) REQUIRE(one_by_one.Add(r).ok());
  CHECK(one_by_one == whole);

  StatsCube even = EmptyCube(definition), odd = EmptyCube(definition);
  for (std::size_t i = 0; i < records.size(); ++i) {
    REQUIRE((i % 2 ? odd : even).Add(records[i]).ok());
  }
  REQUIRE(even.Merge(odd).ok());
  CHECK(even == whole);
  CHECK(even.offers() == records.size());

  // Cell by cell, as a store that keeps cells would rebuild it.
  StatsCube cells = EmptyCube(definition);
  for (const auto& [key, stats] : whole.cells()) REQUIRE(cells.AddCell(key, stats).ok());
  CHECK(cells == whole);

  StatsCube other = EmptyCube(Definition("shop-checkout"));
  Status refused = whole.Merge(other);
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK(refused.message().find("different survey definitions") != std::string::npos);
}

TEST_CASE("Loyalty merges across cells: one customer at two places on two days returns") {
  const std::string definition = Definition("restaurant");
  StatsCube cube = EmptyCube(definition);
  auto visit = [&](int64_t day, const char* location, const char* customer) {
    ResponseRecord r;
    r.survey_id = "restaurant";
    r.device_time_ms = DaysFromCivil(2026, 11, 2) * kDayMs + day * kDayMs + 3600000;
    r.outcome = Outcome::kDeclined;
    r.tags["location"] = location;
    r.customer_key = customer;
    REQUIRE(cube.Add(r).ok());
  };
  visit(0, "central", "alice");
  visit(1, "airport", "alice");
  visit(1, "airport", "bob");
  REQUIRE(cube.cells().size() == 2);
  Result<CollectedStats> all = CollectFromCube(cube, Options());
  REQUIRE(all.ok());
  Result<Report> report = ReportFromStats(cube.survey(), *all, Options());
  REQUIRE(report.ok());
  CHECK(report->all.loyalty.customers == 2);
  CHECK(report->all.loyalty.returning_customers == 1);
  CHECK(report->all.loyalty.visits == 3);
  // Within one location nobody came back.
  Result<CollectedStats> by_location = CollectFromCube(cube, Options({"location"}));
  REQUIRE(by_location.ok());
  for (const auto& [key, stats] : by_location->groups) {
    CHECK(stats.customers.ReturningCustomers() == 0);
  }
}

TEST_CASE("The cube refuses what a report would refuse, and what it cannot answer") {
  const std::string definition = Definition("restaurant");
  StatsCube cube = EmptyCube(definition);
  ResponseRecord r;
  r.survey_id = "restaurant";
  r.device_time_ms = DaysFromCivil(2026, 11, 2) * kDayMs;
  r.answers["favourite_colour"] = ScaleAnswer{3};
  ResponseTable table(cube.survey());
  const Status by_table = table.Add(r);
  const Status by_cube = cube.Add(r);
  CHECK(by_cube.code() == StatusCode::kInvalidArgument);
  CHECK(by_cube.message() == by_table.message());

  r.answers = {{"recommend", ScaleAnswer{11}}};
  CHECK(cube.Add(r).code() == StatusCode::kInvalidArgument);
  r.answers = {{"recommend", ScaleAnswer{10}}};
  r.survey_id = "shop-checkout";
  CHECK(cube.Add(r).code() == StatusCode::kNotFound);
  r.survey_id = "restaurant";
  r.device_time_ms = std::numeric_limits<int64_t>::min();
  CHECK(cube.Add(r).code() == StatusCode::kInvalidArgument);
  CHECK(cube.cells().empty());

  // Many at once: the refused are counted and listed, the rest are used.
  std::vector<ResponseRecord> records(3, r);
  records[0].device_time_ms = DaysFromCivil(2026, 11, 2) * kDayMs;
  records[1].answers = {{"recommend", ScaleAnswer{12}}};
  InputIssues issues;
  REQUIRE(cube.AddRecords(records, &issues).ok());
  CHECK(cube.offers() == 1);
  CHECK(issues.refused == 2);
  REQUIRE(issues.listed.size() == 2);
  CHECK(issues.listed[0].line == 2);
  CHECK(issues.listed[1].line == 3);

  ReportOptions noon;
  noon.from_ms = DaysFromCivil(2026, 11, 2) * kDayMs + kDayMs / 2;
  Result<CollectedStats> partial_day = CollectFromCube(cube, noon);
  CHECK(partial_day.status().code() == StatusCode::kInvalidArgument);
  CHECK(partial_day.status().message().find("whole days") != std::string::npos);
  CHECK(CollectFromCube(cube, Options({"table"})).status().code() == StatusCode::kInvalidArgument);
  CHECK(CollectFromCube(cube, Options({}, {{"table", "7"}})).status().code() ==
        StatusCode::kInvalidArgument);

  // A cell that cannot be: more answers than offers.
  GroupStats impossible = EmptyStats(cube.survey());
  impossible.outcomes.completed = 1;
  REQUIRE(impossible.questions[0].answers.Add(9, 2).ok());
  impossible.questions[0].answered = 2;
  CHECK(cube.AddCell(CubeCellKey{}, impossible).code() == StatusCode::kInvalidArgument);
  CHECK(cube.AddCell(CubeCellKey{}, EmptyStats(cube.survey())).code() ==
        StatusCode::kInvalidArgument);  // no offer
}

TEST_CASE("Cube bytes: round trip, canonical, and the same on every target") {
  const std::string definition = Definition("restaurant");
  const Survey survey = *ParseSurvey(definition);
  StatsCube cube = EmptyCube(definition);
  REQUIRE(cube.AddRecords(ReadJsonLines("tests/golden/report-input.jsonl", survey)).ok());
  const std::string bytes = EncodeStatsCube(cube);
  Result<StatsCube> back = DecodeStatsCube(bytes);
  INFO(back.status().ToString());
  REQUIRE(back.ok());
  CHECK(*back == cube);
  CHECK(EncodeStatsCube(*back) == bytes);
  test::Golden::Get().Check("stats_cube.restaurant_report_input.blake2b", ToHex(Blake2b256(bytes)));

  const std::string empty = EncodeStatsCube(EmptyCube(definition));
  Result<StatsCube> empty_back = DecodeStatsCube(empty);
  REQUIRE(empty_back.ok());
  CHECK(empty_back->cells().empty());
}

TEST_CASE("Truncated, altered and garbage cube bytes are refused as corruption, never thrown") {
  const std::string definition = Definition("website-nps");
  const Survey survey = *ParseSurvey(definition);
  StatsCube cube = EmptyCube(definition);
  std::vector<ResponseRecord> records = WebsiteRecords(survey);
  records.resize(120);
  REQUIRE(cube.AddRecords(records).ok());
  const std::string bytes = EncodeStatsCube(cube);
  REQUIRE(DecodeStatsCube(bytes).ok());

  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Result<StatsCube> cut = DecodeStatsCube(std::string_view(bytes).substr(0, n));
    if (cut.ok()) FAIL("a prefix of " << n << " of " << bytes.size() << " bytes decoded");
    CHECK(cut.status().code() == StatusCode::kCorruption);
  }
  Result<StatsCube> longer = DecodeStatsCube(bytes + '\0');
  CHECK(longer.status().code() == StatusCode::kCorruption);

  // Every single-byte change is refused, or decodes to a cube that encodes back to those bytes.
  // The definition's own bytes are skipped: changing them mostly makes another valid survey.
  const std::size_t definition_end = 2 + 4 + definition.size();
  SplitMix64 rng(11);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i >= 2 && i < definition_end) continue;
    std::string altered = bytes;
    altered[i] = static_cast<char>(altered[i] ^ static_cast<char>(1 + rng.Below(255)));
    Result<StatsCube> decoded = DecodeStatsCube(altered);
    if (decoded.ok()) {
      CHECK(EncodeStatsCube(*decoded) == altered);
    } else {
      CHECK(decoded.status().code() == StatusCode::kCorruption);
    }
  }
  for (int round = 0; round < 200; ++round) {
    std::string garbage(static_cast<std::size_t>(rng.Below(400)), '\0');
    for (char& c : garbage) c = static_cast<char>(rng.Below(256));
    if (round % 2 == 0 && !garbage.empty()) garbage[0] = 1;
    if (round % 4 == 0 && garbage.size() > 1) garbage[1] = 1;
    CHECK(DecodeStatsCube(garbage).status().code() == StatusCode::kCorruption);
  }
  // A number spelt longer than it has to be is a second spelling of the same cube: refused. A
  // one-cell cube without customers ends in the visit count 0 (one byte, 0x00); 0x80 0x00 is 0 too.
  StatsCube one = EmptyCube(definition);
  ResponseRecord declined;
  declined.survey_id = survey.id;
  declined.device_time_ms = DaysFromCivil(2026, 11, 2) * 86400000;
  declined.outcome = Outcome::kDeclined;
  REQUIRE(one.Add(declined).ok());
  std::string minimal = EncodeStatsCube(one);
  REQUIRE(DecodeStatsCube(minimal).ok());
  REQUIRE(minimal.back() == '\0');
  std::string padded = minimal.substr(0, minimal.size() - 1) + std::string("\x80\x00", 2);
  Result<StatsCube> refused = DecodeStatsCube(padded);
  CHECK(refused.status().code() == StatusCode::kCorruption);
  CHECK(refused.status().message().find("shortest form") != std::string::npos);
}

TEST_CASE("A cell alone: round trip, and a cube rebuilt from its cells' bytes is the cube") {
  const std::string definition = Definition("restaurant");
  const Survey survey = *ParseSurvey(definition);
  StatsCube cube = EmptyCube(definition);
  REQUIRE(cube.AddRecords(ReadJsonLines("tests/golden/report-input.jsonl", survey)).ok());
  StatsCube rebuilt = EmptyCube(definition);
  SplitMix64 rng(5);
  bool with_customers = false;
  for (const auto& [key, stats] : cube.cells()) {
    const std::string bytes = EncodeCubeCell(survey, key, stats);
    Result<std::pair<CubeCellKey, GroupStats>> back = DecodeCubeCell(survey, bytes);
    INFO(back.status().ToString());
    REQUIRE(back.ok());
    CHECK(back->first == key);
    CHECK(back->second == stats);
    REQUIRE(rebuilt.AddCell(back->first, back->second).ok());
    with_customers = with_customers || stats.customers.Customers() > 0;
    // Truncated or altered: refused, or (an altered count that is still possible) canonical.
    CHECK(DecodeCubeCell(survey, std::string_view(bytes).substr(0, bytes.size() - 1))
              .status()
              .code() == StatusCode::kCorruption);
    std::string altered = bytes;
    const std::size_t at = static_cast<std::size_t>(rng.Below(bytes.size()));
    altered[at] = static_cast<char>(altered[at] ^ 0x5a);
    Result<std::pair<CubeCellKey, GroupStats>> changed = DecodeCubeCell(survey, altered);
    if (changed.ok()) {
      CHECK(EncodeCubeCell(survey, changed->first, changed->second) == altered);
    } else {
      CHECK(changed.status().code() == StatusCode::kCorruption);
    }
  }
  CHECK(with_customers);
  CHECK(rebuilt == cube);
  // Statistics shaped for another survey are refused.
  const Survey shop = *ParseSurvey(Definition("shop-checkout"));
  const auto& [key, stats] = *cube.cells().begin();
  CHECK(DecodeCubeCell(shop, EncodeCubeCell(survey, key, stats)).status().code() ==
        StatusCode::kCorruption);
}
