// Regression tests for failures the fuzz targets (tests/fuzz/) found in the core. Each test names
// the failure it pins and the target that found it; they run natively and in wasm.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "canvass/interchange.h"
#include "canvass/record.h"
#include "canvass/survey.h"

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

}  // namespace canvass
