// ParseSurvey on untrusted JSON (an admin's upload, and every bundle a device receives).
// Properties: refusals are InvalidArgument with a message; an accepted survey parses the same way
// twice (no hidden state) and names an id and at least one question.
#include <cstdint>

#include "canvass/survey.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

void Run(std::string_view input) {
  Result<Survey> survey = ParseSurvey(input);
  if (!survey.ok()) {
    FUZZ_CHECK(survey.status().code() == StatusCode::kInvalidArgument, survey.status().ToString());
    FUZZ_CHECK(!survey.status().message().empty(), "a refusal without a message");
    return;
  }
  FUZZ_CHECK(!survey->id.empty(), "an accepted survey without an id");
  FUZZ_CHECK(!survey->questions.empty(), "an accepted survey without questions");
  for (const Question& q : survey->questions) {
    FUZZ_CHECK(survey->FindQuestion(q.id) >= 0, "question '" + q.id + "' cannot be found");
  }
  Result<Survey> again = ParseSurvey(input);
  FUZZ_CHECK(again.ok() && again->id == survey->id && again->revision == survey->revision &&
                 again->questions.size() == survey->questions.size(),
             "parsing the same bytes twice gave different surveys");
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
