#include "canvass/report_format.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "canvass/interchange.h"
#include "test_support.h"

using namespace canvass;

namespace {

// The seeds' survey: the ultimate question and three CSI attributes on 1..5 (promoters 5,
// neutrals 4, critics 1-3 by the metrics' default cut points).
constexpr char kSeedSurvey[] = R"({
  "format": "canvass.survey/1", "id": "seed", "revision": 1,
  "languages": ["en"], "fallback_language": "en", "title": {"en": "Seed"},
  "context": ["location", "staff"],
  "questions": [
    {"id": "recommend", "kind": "nps", "text": {"en": "Recommend us?"}},
    {"id": "price", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Price"}},
    {"id": "staff", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Staff"}},
    {"id": "location", "kind": "csi_attribute", "importance": "binary",
     "satisfaction": {"min": 1, "max": 5}, "text": {"en": "Location"}}
  ]
})";

Survey SeedSurvey() {
  Result<Survey> s = ParseSurvey(kSeedSurvey);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

Survey ExampleSurvey(const std::string& name) {
  Result<Survey> s = ParseSurvey(test::ReadSourceFile("examples/" + name + ".json"));
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return *s;
}

int64_t Day(int32_t y, uint32_t m, uint32_t d, int hour = 12) {
  return DaysFromCivil(y, m, d) * 86400000 + hour * 3600000LL;
}

ResponseRecord Offer(int64_t time_ms, Outcome outcome, Answers answers = {},
                     std::map<std::string, std::string> tags = {}, std::string customer = "") {
  ResponseRecord r;
  r.survey_id = "seed";
  r.device_id = "dev-1";
  r.device_time_ms = time_ms;
  r.outcome = outcome;
  r.answers = std::move(answers);
  r.tags = std::move(tags);
  r.customer_key = std::move(customer);
  return r;
}

// The seeds' data set: 100 respondents with 20% promoters, 55% passives, 25% detractors; CSI
// price (89; 30/60/10), staff (11; 5/90/5), location (60; 40/50/10); 100 identified customers of
// whom 15 come back (their second visit is a declined offer).
std::vector<ResponseRecord> SeedRecords() {
  std::vector<ResponseRecord> records;
  auto csi = [](int i, int important_below, int fives_below, int fours_below) {
    return CsiAnswer{i < important_below ? 1 : 0, i < fives_below ? 5 : (i < fours_below ? 4 : 1)};
  };
  for (int i = 0; i < 100; ++i) {
    Answers a;
    a["recommend"] = ScaleAnswer{i < 20 ? 9 : (i < 75 ? 7 : 3)};
    a["price"] = csi(i, 89, 30, 90);
    a["staff"] = csi(i, 11, 5, 95);
    a["location"] = csi(i, 60, 40, 90);
    records.push_back(Offer(Day(2026, 11, 16) + i * 60000, Outcome::kCompleted, a,
                            {{"location", i % 2 ? "north" : "south"}}, "c" + std::to_string(i)));
  }
  for (int i = 0; i < 15; ++i) {
    records.push_back(Offer(Day(2026, 11, 17), Outcome::kDeclined, {}, {{"location", "north"}},
                            "c" + std::to_string(i)));
  }
  return records;
}

Report MustReport(const Survey& survey, const std::vector<ResponseRecord>& records,
                  const ReportOptions& options = {}) {
  Result<Report> r = BuildReport(survey, records, options);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
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

ResponseTable TableOf(const Survey& survey, const std::vector<ResponseRecord>& records) {
  ResponseTable table(survey);
  for (const ResponseRecord& r : records) REQUIRE(table.Add(r).ok());
  return table;
}

}  // namespace

TEST_CASE("Period labels: days, ISO weeks across year ends, months") {
  CHECK(PeriodLabel(Period::kDay, DaysFromCivil(2026, 11, 22)) == "2026-11-22");
  CHECK(PeriodLabel(Period::kMonth, DaysFromCivil(2026, 11, 22)) == "2026-11");
  // 2026-11-16 is a Monday: one week, Monday to Sunday.
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2026, 11, 16)) == "2026-W47");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2026, 11, 22)) == "2026-W47");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2026, 11, 23)) == "2026-W48");
  // Weeks belong to the year of their Thursday.
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2021, 1, 3)) == "2020-W53");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2024, 12, 30)) == "2025-W01");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(2026, 1, 1)) == "2026-W01");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(1970, 1, 1)) == "1970-W01");
  CHECK(PeriodLabel(Period::kWeek, DaysFromCivil(1969, 12, 28)) == "1969-W52");

  CHECK(ParseGroupBy("period:week")->period == Period::kWeek);
  CHECK(ParseGroupBy("location")->tag == "location");
  CHECK(ParseGroupBy("location")->Name() == "location");
  CHECK(ParseGroupBy("period:month")->Name() == "period:month");
  CHECK_FALSE(ParseGroupBy("period:year").ok());
  CHECK_FALSE(ParseGroupBy("").ok());
  CHECK_FALSE(ParseGroupBy("a=b").ok());
}

TEST_CASE("Numbers print the same on every target: integer rounding, no -0") {
  CHECK(FormatNumber(-5) == "-5");
  CHECK(FormatNumber(22.375) == "22.375");
  CHECK(FormatNumber(1.0 / 3) == "0.3333");
  CHECK(FormatNumber(2.0 / 3) == "0.6667");
  CHECK(FormatNumber(-2.0 / 3) == "-0.6667");
  CHECK(FormatNumber(-0.00001) == "0");
  CHECK(FormatNumber(-0.0) == "0");
  CHECK(FormatNumber(100) == "100");
  CHECK(FormatNumber(0.05, 1) == "0.1");
  CHECK(FormatNumber(-0.25, 1) == "-0.3");  // half away from zero
  CHECK(FormatNumber(12345678.9) == "12345678.9");
  CHECK(FormatNumber(1e300) == "null");
}

TEST_CASE("Filters: time range [from, to) and tags, all of which must hold") {
  const Survey survey = SeedSurvey();
  std::vector<ResponseRecord> records;
  const char* locations[] = {"north", "south"};
  const char* staff[] = {"anna", "ivan", "olena"};
  for (int day = 0; day < 6; ++day) {
    for (int i = 0; i < 6; ++i) {
      records.push_back(Offer(Day(2026, 11, 16 + day, 9 + i), Outcome::kCompleted,
                              {{"recommend", ScaleAnswer{i + 4}}},
                              {{"location", locations[i % 2]}, {"staff", staff[i % 3]}}));
    }
  }
  ReportOptions all;
  CHECK(MustReport(survey, records, all).selected == 36);

  ReportOptions range;
  range.from_ms = DaysFromCivil(2026, 11, 17) * 86400000;
  range.to_ms = DaysFromCivil(2026, 11, 19) * 86400000;  // excluded
  const Report in_range = MustReport(survey, records, range);
  CHECK(in_range.selected == 12);
  CHECK(in_range.rows == 36);
  CHECK(in_range.all.outcomes.completed == 12);

  ReportOptions one_tag;
  one_tag.where = {{"location", "north"}};
  CHECK(MustReport(survey, records, one_tag).selected == 18);

  ReportOptions two_tags;  // AND: north (even i) and anna (i = 0 or 3) -> i = 0 only
  two_tags.where = {{"location", "north"}, {"staff", "anna"}};
  const Report both = MustReport(survey, records, two_tags);
  CHECK(both.selected == 6);
  CHECK(both.all.nps->result.nps.n == 6);
  CHECK(both.all.nps->result.detractors == 6);  // i = 0 scored 0 + 4
  ReportOptions unknown;
  unknown.where = {{"location", "west"}};
  const Report none = MustReport(survey, records, unknown);
  CHECK(none.selected == 0);
  CHECK(none.all.nps->result.nps.n == 0);
  CHECK_FALSE(none.warnings.empty());

  ReportOptions combined = range;
  combined.where = {{"staff", "olena"}};
  CHECK(MustReport(survey, records, combined).selected == 4);
}

TEST_CASE("Group-by: a tag, a period, and both crossed") {
  const Survey survey = SeedSurvey();
  std::vector<ResponseRecord> records;
  for (int day = 0; day < 14; ++day) {
    for (int i = 0; i < 4; ++i) {
      std::map<std::string, std::string> tags{{"location", i < 3 ? "north" : "south"}};
      if (i == 0) tags.erase("location");  // groups show rows without the tag as ""
      // From Monday 2026-11-23: weeks W48 and W49, months November and December.
      records.push_back(Offer(Day(2026, 11, 23 + day, 10 + i), Outcome::kCompleted,
                              {{"recommend", ScaleAnswer{10}}}, tags));
    }
  }
  ReportOptions by_location;
  by_location.by = {*ParseGroupBy("location")};
  const Report r = MustReport(survey, records, by_location);
  REQUIRE(r.groups.size() == 3);
  CHECK(r.groups[0].key == GroupKey{""});
  CHECK(r.groups[1].key == GroupKey{"north"});
  CHECK(r.groups[1].indices.outcomes.Offered() == 28);
  CHECK(r.groups[2].key == GroupKey{"south"});
  CHECK(r.groups[2].indices.outcomes.Offered() == 14);

  ReportOptions by_week;
  by_week.by = {*ParseGroupBy("period:week")};
  const Report weeks = MustReport(survey, records, by_week);
  REQUIRE(weeks.groups.size() == 2);
  CHECK(weeks.groups[0].key == GroupKey{"2026-W48"});
  CHECK(weeks.groups[1].key == GroupKey{"2026-W49"});
  CHECK(weeks.groups[0].indices.outcomes.Offered() == 28);
  CHECK_FALSE(weeks.groups[0].change.has_value());
  REQUIRE(weeks.groups[1].change.has_value());
  CHECK(weeks.groups[1].change->vs == "2026-W48");
  CHECK(weeks.ranked_by.empty());  // periods alone are compared, not ranked

  ReportOptions by_day;
  by_day.by = {*ParseGroupBy("period:day")};
  CHECK(MustReport(survey, records, by_day).groups.size() == 14);
  ReportOptions by_month;
  by_month.by = {*ParseGroupBy("period:month")};
  const Report months = MustReport(survey, records, by_month);
  REQUIRE(months.groups.size() == 2);
  CHECK(months.groups[0].key == GroupKey{"2026-11"});
  CHECK(months.groups[1].key == GroupKey{"2026-12"});
  CHECK(months.groups[0].indices.outcomes.Offered() == 32);  // November 23..30
  CHECK(months.groups[1].indices.outcomes.Offered() == 24);  // December 1..6

  ReportOptions crossed;
  crossed.by = {*ParseGroupBy("location"), *ParseGroupBy("period:week")};
  const Report cross = MustReport(survey, records, crossed);
  REQUIRE(cross.groups.size() == 6);
  CHECK(cross.groups[3].key == GroupKey{"north", "2026-W49"});
  CHECK(cross.groups[3].indices.outcomes.Offered() == 14);
  CHECK(cross.groups[3].change->vs == "2026-W48");
  CHECK(cross.ranked_by == "nps");
  REQUIRE(cross.groups[3].rank.has_value());
  CHECK(cross.groups[3].rank->within == "2026-W49");
  CHECK(cross.groups[3].rank->too_few);  // 14 answers < 30
}

TEST_CASE("The seeds' examples come out exactly through the whole report path") {
  const Survey survey = SeedSurvey();
  const Report r = MustReport(survey, SeedRecords());

  // NPS: detractors 25%, passives 55%, promoters 20% -> -5.
  REQUIRE(r.all.nps.has_value());
  CHECK(r.all.nps->result.classic.value == -5);
  CHECK(r.all.nps->result.promoters == 20);
  CHECK(r.all.nps->result.passives == 55);
  CHECK(r.all.nps->result.detractors == 25);
  CHECK(r.all.nps->result.non_responders == 15);  // the 15 declined offers

  // CSI: price (89; 30/60/10) -> 20, staff (11; 5/90/5) -> 0, location (60; 40/50/10) -> 30;
  // CSI = (89*20 + 11*0 + 60*30)/160 = 22.375.
  REQUIRE(r.all.csi.has_value());
  const std::vector<CsiAttributeSummary>& a = r.all.csi->attributes;
  REQUIRE(a.size() == 3);
  CHECK(a[0].result.attribute == "price");
  CHECK(a[0].result.importance.value == 89);
  CHECK(a[0].result.index.value == 20);
  CHECK(a[1].result.importance.value == 11);
  CHECK(a[1].result.index.value == 0);
  CHECK(a[2].result.importance.value == 60);
  CHECK(a[2].result.index.value == 30);
  CHECK(r.all.csi->result.index.value == 22.375);

  // Loyalty: 15 regulars of 100 identified customers -> 15%.
  CHECK(r.all.loyalty.customers == 100);
  CHECK(r.all.loyalty.returning_customers == 15);
  CHECK(r.all.loyalty.loyalty_rate.value == 15);
  // Response rate: 100 completed of 115 offered.
  CHECK(r.all.response_rate.offered == 115);
  CHECK(r.all.response_rate.completed == 100);

  // And so they print, in the documented keys and units.
  const std::string json = ReportToJson(r);
  CHECK(json.find(
            "\"nps\": {\n    \"question\": \"recommend\",\n    \"value\": -5,\n    \"n\": 100,") !=
        std::string::npos);
  CHECK(json.find("\"index\": {\"value\": 22.375,") != std::string::npos);
  CHECK(json.find(
            "\"promoters_pct\": 30,\n        \"neutrals_pct\": 60,\n        \"critics_pct\": 10") !=
        std::string::npos);
  CHECK(json.find("\"nonresponders\": \"exclude\"") != std::string::npos);
  const std::string table = ReportToTable(r);
  CHECK(table.find("NPS (recommend)      -5.0  [-17.8, 8.1]  100") != std::string::npos);
  CHECK(table.find("price") != std::string::npos);
  CHECK(table.find("89.0%") != std::string::npos);

  // Non-responder treatments: as_passive = NPS x response rate; as_detractor is the low bound.
  ReportOptions passive;
  passive.nonresponders = metrics::NonResponderTreatment::kAsPassive;
  CHECK(MustReport(survey, SeedRecords(), passive).all.nps->result.nps.value ==
        100.0 * (20 - 25) / 115);
  ReportOptions detractor;
  detractor.nonresponders = metrics::NonResponderTreatment::kAsDetractor;
  const Report d = MustReport(survey, SeedRecords(), detractor);
  CHECK(d.all.nps->result.nps.value == 100.0 * (20 - 25 - 15) / 115);
  CHECK(ReportToJson(d).find("\"nonresponders\": \"as_detractor\"") != std::string::npos);
}

TEST_CASE("The top-level JSON keys are the documented ones, in order") {
  const std::string json = ReportToJson(MustReport(SeedSurvey(), SeedRecords()));
  std::size_t at = 0;
  for (const char* key : {"report", "offered", "outcomes", "response_rate", "nps", "csat", "ces",
                          "csi", "cli", "loyalty", "questions", "groups", "warnings"}) {
    const std::size_t found = json.find(std::string("\n  \"") + key + "\": ", at);
    INFO(key);
    REQUIRE(found != std::string::npos);
    at = found;
  }
  CHECK(json.back() == '\n');
  CHECK(json.find("\"csat\": null") != std::string::npos);  // the seed survey has no CSAT
}

// Regression: the reason of a refusal used to be guessed from its message, so a question id with
// "outside" in it turned a wrong-type answer into "outside the scale". Readers now set it.
TEST_CASE("Refused lines are counted by the reason their reader set, not by their words") {
  Result<Survey> survey = ParseSurvey(R"({
    "format": "canvass.survey/1", "id": "patio", "revision": 1, "languages": ["en"],
    "fallback_language": "en", "title": {"en": "Patio"},
    "questions": [{"id": "outside_seating", "kind": "rating", "scale": {"min": 1, "max": 5},
                   "text": {"en": "Seats outside?"}}]
  })");
  REQUIRE(survey.ok());
  const std::string head =
      R"({"survey":"patio","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":)";
  ResponseTable table(*survey);
  table.AddJsonLine(head + R"({"outside_seating":"is missing"}})", 1);  // text for a rating
  table.AddJsonLine(head + R"({"outside_seating":9}})", 2);
  const InputIssues& issues = table.issues();
  CHECK(issues.refused == 2);
  CHECK(issues.by_reason.at("wrong type") == 1);
  CHECK(issues.by_reason.at("outside the scale") == 1);
  CHECK(issues.listed[0].message ==
        "answers.outside_seating: question 'outside_seating' (rating) got an answer of the wrong "
        "type");
  Result<ResponseRecord> record = ParseJsonLine(head + R"({"outside_seating":"x"}})");
  REQUIRE(record.ok());  // without the survey: checked by the table
  CHECK(RefusalOf(table.Add(*record)) == Refusal::kWrongType);
  CHECK(RefusalOf(ParseJsonLine("[1]").status()) == Refusal::kNotJson);
  CHECK(RefusalOf(ParseJsonLine(R"({"survey":"patio"})").status()) == Refusal::kMissingField);
  CHECK(std::string(RefusalName(Refusal::kOutsideScale)) == "outside the scale");
}

TEST_CASE("Bad lines are counted with their line numbers; the rest of the file is used") {
  const Survey survey = ExampleSurvey("website-nps");
  const std::string ok =
      R"({"survey":"website-nps","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":{"recommend":9}})";
  const std::vector<std::string> lines = {
      ok,
      "{not json",
      R"({"survey":"website-nps","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":{"nope":1}})",
      R"({"survey":"website-nps","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":{"recommend":11}})",
      R"({"survey":"website-nps","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":{"recommend":"ten"}})",
      "   ",
      R"({"survey":"another","time":"2026-11-22T10:00:00Z","outcome":"completed","answers":{"x":1}})",
      R"({"survey":"website-nps","outcome":"completed"})",
      "[1,2,3]",
      std::string("\x01\xff garbage \x00 bytes", 18),
      ok + "\r",
  };
  ResponseTable table(survey);
  for (std::size_t i = 0; i < lines.size(); ++i) table.AddJsonLine(lines[i], i + 1);
  const InputIssues& issues = table.issues();
  CHECK(table.size() == 2);
  CHECK(issues.read == 10);  // the blank line is not counted
  CHECK(issues.refused == 7);
  CHECK(issues.other_survey == 1);
  REQUIRE(issues.listed.size() == 7);
  CHECK(issues.listed[0].line == 2);
  CHECK(issues.listed[1].line == 3);
  CHECK(issues.listed[2].line == 4);
  CHECK(issues.listed[2].message == "answers.recommend: answer 11 is outside 0..10");
  CHECK(issues.listed[3].line == 5);
  CHECK(issues.listed[4].line == 8);
  CHECK(issues.by_reason.at("not valid JSON") == 3);
  CHECK(issues.by_reason.at("unknown question") == 1);
  CHECK(issues.by_reason.at("outside the scale") == 1);
  CHECK(issues.by_reason.at("wrong type") == 1);
  CHECK(issues.by_reason.at("missing field") == 1);

  Result<Report> r = BuildReport(table, ReportOptions{});
  REQUIRE(r.ok());
  CHECK(r->all.nps->result.classic.n == 2);
  const std::string json = ReportToJson(*r);
  CHECK(json.find("7 of 10 lines were refused and left out") != std::string::npos);
  CHECK(json.find("line 4: answers.recommend: answer 11 is outside 0..10") != std::string::npos);
  CHECK(json.find("1 lines belong to other surveys") != std::string::npos);

  // Only the first kMaxListedIssues are listed; all are counted.
  ResponseTable many(survey);
  for (uint64_t i = 1; i <= 50; ++i) many.AddJsonLine("{", i);
  CHECK(many.issues().refused == 50);
  CHECK(many.issues().listed.size() == kMaxListedIssues);
  const std::string many_json = ReportToJson(*BuildReport(many, ReportOptions{}));
  CHECK(many_json.find("and 30 more refused lines not listed") != std::string::npos);

  // Records given directly are checked the same way.
  ResponseRecord bad =
      Offer(Day(2026, 11, 16), Outcome::kCompleted, {{"recommend", ScaleAnswer{12}}});
  bad.survey_id = "website-nps";
  ResponseTable direct(survey);
  CHECK_FALSE(direct.Add(bad, 7).ok());
  CHECK(direct.size() == 0);
  CHECK(direct.issues().listed.at(0).line == 7);
}

TEST_CASE("rotate_one: each question pools the customers asked it, with its share of offers") {
  const Survey survey = ExampleSurvey("shop-checkout");
  const std::vector<ResponseRecord> records =
      ReadJsonLines("tests/golden/report-shop-input.jsonl", survey);
  const Report r = MustReport(survey, records);
  const uint64_t offered = r.all.outcomes.Offered();
  REQUIRE(r.questions.size() == 4);
  uint64_t shares = 0;
  for (const QuestionSummary& q : r.questions) {
    INFO(q.id);
    CHECK((q.offered == offered / 4 || q.offered == offered / 4 + 1));
    CHECK(q.answered <= q.offered);
    CHECK(q.answered > 0);
    shares += q.offered;
  }
  CHECK(shares == offered);
  // Every index comes from its own question's answers only.
  CHECK(r.all.nps->result.classic.n == r.questions[0].answered);
  CHECK(r.all.nps->result.non_responders == r.questions[0].offered - r.questions[0].answered);
  CHECK(r.all.csat->result.top2.n == r.questions[1].answered);
  CHECK(r.all.ces->agreement->mean.n == r.questions[2].answered);
  // CLI: the NPS question stands in for the recommend item; "again" is the repurchase item.
  REQUIRE(r.all.cli.has_value());
  CHECK(r.all.cli->recommend == "recommend");
  CHECK(r.all.cli->repurchase == "again");
  CHECK(r.all.cli->cross_buy.empty());
  // Nobody answers two rotated questions, so there are no respondent-level pairs.
  CHECK_FALSE(r.all.csi.has_value());
}

TEST_CASE("Merging the statistics of any split gives exactly the report over the whole") {
  const Survey survey = ExampleSurvey("restaurant");
  const std::vector<ResponseRecord> records =
      ReadJsonLines("tests/golden/report-input.jsonl", survey);
  REQUIRE(records.size() > 100);
  ReportOptions options;
  options.by = {*ParseGroupBy("location"), *ParseGroupBy("period:week")};
  const ResponseTable whole_table = TableOf(survey, records);
  const Result<CollectedStats> whole = CollectStats(whole_table, options);
  REQUIRE(whole.ok());
  const std::string expected = ReportToJson(*BuildReport(whole_table, options));
  // The per-customer path and the fast counting path agree.
  CHECK(ReportToJson(*ReportFromStats(survey, *whole, options)) == expected);

  auto check_split = [&](const std::string& name, auto part_of) {
    INFO("split by " << name);
    std::map<std::string, std::vector<ResponseRecord>> parts;
    for (std::size_t i = 0; i < records.size(); ++i) parts[part_of(i)].push_back(records[i]);
    CollectedStats merged;
    merged.by = options.by;
    merged.all = EmptyStats(survey);
    for (const auto& [part, part_records] : parts) {
      Result<CollectedStats> s = CollectStats(TableOf(survey, part_records), options);
      REQUIRE(s.ok());
      REQUIRE(merged.Merge(*s).ok());
    }
    CHECK(merged == *whole);
    CHECK(ReportToJson(*ReportFromStats(survey, merged, options)) == expected);
  };
  check_split(
      "day", [&](std::size_t i) { return FormatIsoTime(records[i].device_time_ms).substr(0, 10); });
  check_split("location", [&](std::size_t i) { return records[i].tags.at("location"); });
  check_split("device and seq parity", [&](std::size_t i) {
    return records[i].device_id + std::to_string(records[i].seq % 2);
  });
  check_split("pseudo-random", [&](std::size_t i) { return std::to_string(i * 2654435761u % 7); });
  check_split("one record per part", [&](std::size_t i) { return std::to_string(i + 1000000); });

  CollectedStats other_grouping = *whole;
  other_grouping.by = {};
  CHECK_FALSE(other_grouping.Merge(*whole).ok());
}

namespace {

// Runs the tasks one after another, last first: the collector's split of rows into parts and
// their merge, without threads, on both targets (natively, thread_executor_test.cpp runs the
// same with threads).
class LastFirstExecutor final : public Executor {
 public:
  explicit LastFirstExecutor(unsigned parts) : parts_(parts) {}
  unsigned Concurrency() const override { return parts_; }
  void Run(unsigned count, const std::function<void(unsigned)>& task) override {
    ++runs;
    for (unsigned i = count; i-- > 0;) task(i);
  }
  int runs = 0;

 private:
  unsigned parts_;
};

// The golden input 150 times (60,000 offers, enough for three parts of whole blocks), each copy
// a day later; customers recur across copies, so loyalty must see visits from several parts.
std::vector<ResponseRecord> ManyRecords(const Survey& survey) {
  const std::vector<ResponseRecord> base = ReadJsonLines("tests/golden/report-input.jsonl", survey);
  std::vector<ResponseRecord> out;
  out.reserve(base.size() * 150);
  for (int copy = 0; copy < 150; ++copy) {
    for (ResponseRecord r : base) {
      r.device_time_ms += int64_t{copy} * 86400000;
      if (!r.customer_key.empty()) r.customer_key += std::to_string(copy % 7);
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Counted in parts by an executor, the statistics and the report are the same") {
  const Survey survey = ExampleSurvey("restaurant");
  const ResponseTable table = TableOf(survey, ManyRecords(survey));
  REQUIRE(table.size() == 60000);
  std::vector<ReportOptions> cases(5);
  cases[0].by = {*ParseGroupBy("location"), *ParseGroupBy("period:week")};
  cases[1].by = {*ParseGroupBy("staff")};
  cases[2].by = {*ParseGroupBy("period:day")};
  cases[2].from_ms = table.min_time_ms() + int64_t{20} * 86400000;
  cases[2].to_ms = table.min_time_ms() + int64_t{90} * 86400000;
  cases[3].where = {{"channel", "web"}};
  cases[3].by = {*ParseGroupBy("location")};
  // cases[4]: everything, no group-by (the uniform-block kernel and ungrouped loyalty).
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    const ReportOptions& options = cases[i];
    const Result<Report> one = BuildReport(table, options);
    const Result<CollectedStats> one_stats = CollectStats(table, options);
    REQUIRE(one.ok());
    REQUIRE(one_stats.ok());
    REQUIRE(one->all.loyalty.customers > 0);
    for (unsigned parts : {2u, 3u, 8u}) {
      INFO(parts << " parts");
      LastFirstExecutor executor(parts);
      const Result<Report> split = BuildReport(table, options, &executor);
      REQUIRE(split.ok());
      CHECK(executor.runs >= 1);  // it was used, not bypassed
      CHECK(ReportToJson(*split) == ReportToJson(*one));
      const Result<CollectedStats> split_stats = CollectStats(table, options, &executor);
      REQUIRE(split_stats.ok());
      CHECK(*split_stats == *one_stats);
    }
  }
  // A table too small to split is counted in one part, without the executor.
  const ResponseTable small =
      TableOf(survey, ReadJsonLines("tests/golden/report-input.jsonl", survey));
  LastFirstExecutor executor(4);
  const Result<Report> r = BuildReport(small, cases[0], &executor);
  REQUIRE(r.ok());
  CHECK(executor.runs == 0);
  CHECK(ReportToJson(*r) == ReportToJson(*BuildReport(small, cases[0])));
}

TEST_CASE("Rankings need min_n answers; periods are compared with the previous one") {
  const Survey survey = SeedSurvey();
  std::vector<ResponseRecord> records;
  // Week 1: north 40 promoters, south 25 promoters and 15 detractors, east 5 answers. Week 2:
  // north 40 detractors. Overall north 0, south +25, east too few to rank.
  auto add = [&](int day, const char* location, int count, int score) {
    for (int i = 0; i < count; ++i) {
      records.push_back(Offer(Day(2026, 11, 16 + day, 10), Outcome::kCompleted,
                              {{"recommend", ScaleAnswer{score}}}, {{"location", location}}));
    }
  };
  add(0, "north", 40, 10);
  add(1, "south", 25, 10);
  add(1, "south", 15, 2);
  add(2, "east", 5, 10);
  add(7, "north", 40, 3);
  ReportOptions options;
  options.by = {*ParseGroupBy("location")};
  const Report r = MustReport(survey, records, options);
  REQUIRE(r.groups.size() == 3);  // east, north, south
  CHECK(r.groups[0].rank->too_few);
  CHECK(r.groups[0].rank->position == 0);
  CHECK(r.groups[2].rank->position == 1);  // south
  CHECK(r.groups[1].rank->position == 2);
  CHECK(r.groups[1].rank->of == 2);
  bool warned = false;
  for (const std::string& w : r.warnings) warned |= w.find("not ranked: east") != std::string::npos;
  CHECK(warned);

  options.by = {*ParseGroupBy("location"), *ParseGroupBy("period:week")};
  const Report weekly = MustReport(survey, records, options);
  const GroupEntry* north_w48 = nullptr;
  for (const GroupEntry& e : weekly.groups) {
    if (e.key == GroupKey{"north", "2026-W48"}) north_w48 = &e;
  }
  REQUIRE(north_w48 != nullptr);
  REQUIRE(north_w48->change.has_value());
  CHECK(north_w48->change->vs == "2026-W47");
  REQUIRE(north_w48->change->nps.has_value());
  CHECK(north_w48->change->nps->difference.value == -200);
  CHECK(north_w48->change->nps->significant);
  CHECK(ReportToTable(weekly).find("(significant)") != std::string::npos);
  const std::string csv = ReportToCsv(weekly);
  CHECK(csv.rfind("\xEF\xBB\xBFlocation,period:week,offered,", 0) == 0);
  CHECK(csv.find("north,2026-W48,40,40,0,0,0,") != std::string::npos);
}

TEST_CASE("Golden reports are byte-identical natively and in wasm") {
  // tests/golden/report-*-expected.json were written by `canvass report --format json` with these
  // options from the demo-data fixtures beside them (docs/report.md says how to regenerate).
  struct Case {
    const char* survey;
    const char* input;
    const char* expected;
    std::vector<const char*> by;
  };
  const Case cases[] = {
      {"restaurant",
       "tests/golden/report-input.jsonl",
       "tests/golden/report-expected.json",
       {"location", "period:week"}},
      {"shop-checkout",
       "tests/golden/report-shop-input.jsonl",
       "tests/golden/report-shop-expected.json",
       {"period:week"}},
  };
  for (const Case& c : cases) {
    INFO(c.expected);
    const Survey survey = ExampleSurvey(c.survey);
    ResponseTable table(survey);
    std::istringstream in(test::ReadSourceFile(c.input));
    std::string line;
    uint64_t number = 0;
    while (std::getline(in, line)) table.AddJsonLine(line, ++number);
    CHECK(table.issues().refused == 0);
    ReportOptions options;
    for (const char* by : c.by) options.by.push_back(*ParseGroupBy(by));
    Result<Report> report = BuildReport(table, options);
    REQUIRE(report.ok());
    const std::string json = ReportToJson(*report);
    const std::string expected = test::ReadSourceFile(c.expected);
    if (json != expected) {
      // Name the first line that differs, rather than dumping two long documents.
      std::istringstream a(json), b(expected);
      std::string la, lb;
      int n = 0;
      while (std::getline(a, la) && std::getline(b, lb) && la == lb) ++n;
      FAIL("line " << n + 1 << ": got\n  " << la << "\nexpected\n  " << lb);
    }
  }
}
