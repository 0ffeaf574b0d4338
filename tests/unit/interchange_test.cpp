#include "canvass/interchange.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace canvass;

TEST_CASE("ISO times format and parse in UTC") {
  CHECK(FormatIsoTime(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatIsoTime(1795000000123) == "2026-11-18T11:06:40.123Z");
  CHECK(FormatIsoTime(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(*ParseIsoTime("2026-11-18T11:06:40.123Z") == 1795000000123);
  CHECK(*ParseIsoTime("2026-11-22") == DaysFromCivil(2026, 11, 22) * 86400000);
  CHECK(*ParseIsoTime("2026-11-22T12:00:00+02:00") == *ParseIsoTime("2026-11-22T10:00:00Z"));
  CHECK(*ParseIsoTime("2024-02-29T00:00:00Z") == DaysFromCivil(2024, 2, 29) * 86400000);
  CHECK_FALSE(ParseIsoTime("2026-13-01").ok());
  CHECK_FALSE(ParseIsoTime("2026-11-22T10:00:00").ok());  // no zone
  CHECK_FALSE(ParseIsoTime("yesterday").ok());
  for (std::int64_t days : {-800000, -1, 0, 59, 60, 20000, 800000}) {
    std::int32_t y;
    std::uint32_t m, d;
    CivilFromDays(days, &y, &m, &d);
    CHECK(DaysFromCivil(y, m, d) == days);
  }
}

TEST_CASE("a record round-trips through a JSON line, contact details excluded") {
  REQUIRE(InitCrypto().ok());
  ResponseRecord r = test::SampleRecord();
  std::string line = ToJsonLine(r);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find("\"time\":\"2026-11-18T11:06:40.123Z\"") != std::string::npos);
  CHECK(line.find("sealed") == std::string::npos);
  Result<ResponseRecord> back = ParseJsonLine(line);
  REQUIRE(back.ok());
  ResponseRecord expected = r;
  expected.sealed_contact.reset();
  expected.attachment_hash.reset();
  expected.prev_hash = Hash256{};  // the chain stays on the server; exports carry content
  CHECK(*back == expected);
}

TEST_CASE("lines are typed and checked against the survey") {
  Result<Survey> s = ParseSurvey(test::ReadSourceFile("examples/website-nps.json"));
  REQUIRE(s.ok());
  const char* base =
      R"({"survey":"website-nps","time":"2026-11-22T10:00:00Z","outcome":"completed",)";
  Result<ResponseRecord> ok =
      ParseJsonLine(std::string(base) + R"("answers":{"recommend":9,"missing":"price"}})", &*s);
  REQUIRE(ok.ok());
  CHECK(std::get<ChoiceAnswer>(ok->answers.at("missing")).ids == std::vector<std::string>{"price"});
  CHECK(
      ParseJsonLine(std::string(base) + R"("answers":{"recommend":11}})", &*s).status().message() ==
      "answers.recommend: answer 11 is outside 0..10");
  CHECK(ParseJsonLine(std::string(base) + R"("answers":{"nope":1}})", &*s)
            .status()
            .message()
            .find("no such question") != std::string::npos);
  CHECK(ParseJsonLine(std::string(base) + R"("answers":{"recommend":"ten"}})", &*s)
            .status()
            .message()
            .find("wrong type") != std::string::npos);
  CHECK(ParseJsonLine(R"({"survey":"website-nps"})", &*s).status().message() == "time: is missing");
  CHECK(ParseJsonLine("{not json", &*s).status().message().find("not valid JSON") == 0);
  CHECK(ParseJsonLine(R"({"survey":"x","time":"2026-11-22","outcome":"done"})")
            .status()
            .message()
            .find("outcome") == 0);
}

TEST_CASE("CSV cells: quoted where needed, formulas neutralised, numbers kept", "[interchange]") {
  // Security review 2, finding 4: `=HYPERLINK(...)` in a text answer ran in spreadsheets.
  CHECK(CsvCell("plain") == "plain");
  CHECK(CsvCell("a,b") == "\"a,b\"");
  CHECK(CsvCell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvCell("=HYPERLINK(\"http://x\",\"y\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  CHECK(CsvCell("+380 67") == "'+380 67");
  CHECK(CsvCell("@SUM(A1)") == "'@SUM(A1)");
  CHECK(CsvCell("\tx") == "'\tx");
  CHECK(CsvCell("\rx") == "\"'\rx\"");
  CHECK(CsvCell("-cmd") == "'-cmd");
  CHECK(CsvCell("-") == "'-");
  CHECK(CsvCell("-5") == "-5");
  CHECK(CsvCell("-12.25") == "-12.25");
  CHECK(CsvCell("-1.2.3") == "'-1.2.3");
  CHECK(CsvCell("") == "");
}
