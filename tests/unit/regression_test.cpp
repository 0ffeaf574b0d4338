// Regression tests for failures the fuzz targets (tests/fuzz/) found in the core. Each test names
// the failure it pins and the target that found it; they run natively and in wasm.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "canvass/interchange.h"
#include "canvass/record.h"
#include "canvass/survey.h"
#include "canvass/surveyjs.h"

namespace canvass {
namespace {

// Deep enough that rapidjson's recursive parser overflowed an 8 MiB native stack.
std::string DeeplyNested(std::size_t depth) { return std::string(depth, '['); }

}  // namespace

TEST_CASE("regression: FormatIsoTime negated INT64_MIN (signed overflow, fuzz_record)",
          "[regression]") {
  // A record may carry any device time; exporting it must not be undefined behaviour.
  CHECK(FormatIsoTime(std::numeric_limits<std::int64_t>::min()) ==
        "-292275055-05-16T16:47:04.192Z");
  CHECK(FormatIsoTime(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(FormatIsoTime(-86400000) == "1969-12-31T00:00:00Z");
  CHECK(FormatIsoTime(0) == "1970-01-01T00:00:00Z");
  ResponseRecord record;
  record.survey_id = "s";
  record.device_time_ms = std::numeric_limits<std::int64_t>::min();
  CHECK(ToJsonLine(record).find("\"time\":\"-292275055-05-16T16:47:04.192Z\"") !=
        std::string::npos);
}

TEST_CASE("regression: deeply nested JSON overflowed the stack (fuzz_api, /v1/enroll)",
          "[regression]") {
  // rapidjson's default parser recurses once per nesting level; the parsers now run iteratively
  // and refuse such input with a message instead of crashing.
  const std::string deep = DeeplyNested(200000);
  Result<ResponseRecord> line = ParseJsonLine(deep);
  REQUIRE(!line.ok());
  CHECK(line.status().code() == StatusCode::kInvalidArgument);
  Result<Survey> survey = ParseSurvey(deep);
  REQUIRE(!survey.ok());
  CHECK(survey.status().code() == StatusCode::kInvalidArgument);
  // Closed nesting is valid JSON but not an object of the right shape: refused all the same.
  const std::string closed = deep + std::string(200000, ']');
  CHECK(!ParseJsonLine(closed).ok());
  CHECK(!ParseSurvey(closed).ok());
}

TEST_CASE(
    "regression: a visibleIf comparing with '-' or a huge number threw from stoll "
    "(fuzz_surveyjs)",
    "[regression]") {
  // std::stoll threw std::invalid_argument (out_of_range for 30 digits) out of ImportSurveyJs:
  // the CLI aborted, the server answered 500. Now the condition is listed as unmapped.
  for (const char* value : {"-", "123456789012345678901234567890", "-x"}) {
    const std::string json =
        std::string(R"({"pages":[{"elements":[)"
                    R"({"type":"rating","name":"nps","rateMin":0,"rateMax":10},)"
                    R"({"type":"comment","name":"why","visibleIf":"{nps} <= )") +
        value + R"("}]}]})";
    INFO(json);
    Result<SurveyJsImport> imported = ImportSurveyJs(json);
    REQUIRE(imported.ok());
    bool listed = false;
    for (const SurveyJsIssue& issue : imported->unmapped) {
      listed = listed || issue.reason.find("not a number or a string") != std::string::npos;
    }
    CHECK(listed);
  }
}

TEST_CASE(
    "regression: an unmapped element with an empty name was listed without a name "
    "(fuzz_surveyjs)",
    "[regression]") {
  const std::string json =
      R"({"pages":[{"elements":[{"type":"rating","name":"nps","rateMin":0,"rateMax":10},)"
      R"({"type":"html","name":""}]}]})";
  Result<SurveyJsImport> imported = ImportSurveyJs(json);
  REQUIRE(imported.ok());
  REQUIRE(imported->unmapped.size() == 1);
  CHECK(imported->unmapped[0].element == "(unnamed html)");
}

}  // namespace canvass
