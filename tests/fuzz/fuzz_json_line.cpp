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

namespace {
std::vector<canvass::Survey>* surveys = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  canvass::fuzz::InitOrDie();
  surveys = new std::vector<canvass::Survey>();
  for (const char* file :
       {"examples/restaurant.json", "examples/shop-checkout.json", "examples/website-nps.json"}) {
    canvass::Result<canvass::Survey> s = canvass::ParseSurvey(canvass::fuzz::ReadSourceFile(file));
    FUZZ_CHECK(s.ok(), std::string(file) + ": " + s.status().ToString());
    surveys->push_back(std::move(*s));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace canvass;
  if (size == 0) return 0;
  const Survey* survey = data[0] == 0 ? nullptr : &(*surveys)[data[0] % surveys->size()];
  const std::string_view input = fuzz::AsView(data + 1, size - 1);
  Result<ResponseRecord> record = ParseJsonLine(input, survey);
  if (!record.ok()) {
    FUZZ_CHECK(record.status().code() == StatusCode::kInvalidArgument, record.status().ToString());
    return 0;
  }
  const std::string line = ToJsonLine(*record);
  Result<ResponseRecord> again = ParseJsonLine(line, survey);
  FUZZ_CHECK(again.ok(), "ToJsonLine wrote a line ParseJsonLine refuses: " +
                             again.status().ToString() + "\n  line: " + line);
  FUZZ_CHECK(ToJsonLine(*again) == line, "the export line is not stable: " + line);
  return 0;
}
