// ParseJsonLine on untrusted JSON Lines (exports read back by `canvass report`, answers typed at
// `canvass device record`), without a survey and with each example survey.
// The first byte picks the survey (0: none; 1-3: examples/*.json); the rest is the line.
// Property: an accepted line, written back with ToJsonLine and read again, gives the same line
// (the export format is stable after one round).
#include <cstdint>
#include <vector>

#include "canvass/interchange.h"
#include "canvass/survey.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

namespace {
std::vector<canvass::Survey>* surveys = nullptr;
}

void Setup() {
  surveys = new std::vector<canvass::Survey>();
  for (const char* file :
       {"examples/restaurant.json", "examples/shop-checkout.json", "examples/website-nps.json"}) {
    canvass::Result<canvass::Survey> s = canvass::ParseSurvey(canvass::fuzz::ReadSourceFile(file));
    FUZZ_CHECK(s.ok(), std::string(file) + ": " + s.status().ToString());
    surveys->push_back(std::move(*s));
  }
}

void Run(std::string_view bytes) {
  if (bytes.empty()) return;
  const std::uint8_t pick = static_cast<std::uint8_t>(bytes[0]);
  const Survey* survey = pick == 0 ? nullptr : &(*surveys)[pick % surveys->size()];
  const std::string_view input = bytes.substr(1);
  Result<ResponseRecord> record = ParseJsonLine(input, survey);
  if (!record.ok()) {
    FUZZ_CHECK(record.status().code() == StatusCode::kInvalidArgument, record.status().ToString());
    return;
  }
  const std::string line = ToJsonLine(*record);
  Result<ResponseRecord> again = ParseJsonLine(line, survey);
  FUZZ_CHECK(again.ok(), "ToJsonLine wrote a line ParseJsonLine refuses: " +
                             again.status().ToString() + "\n  line: " + line);
  FUZZ_CHECK(ToJsonLine(*again) == line, "the export line is not stable: " + line);
}

const Target kTarget{Setup, Run};

}  // namespace canvass::fuzz
