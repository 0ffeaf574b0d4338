// ImportSurveyJs on untrusted JSON (an admin's upload of a SurveyJS definition, through the CLI
// or POST /v1/admin/surveys). Properties: refusals are InvalidArgument with a message; an
// accepted import yields a definition that ParseSurvey accepts, every unmapped element is named
// with a reason, and importing the same bytes twice gives the same result.
#include <cstdint>

#include "canvass/survey.h"
#include "canvass/surveyjs.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

void Run(std::string_view input) {
  Result<SurveyJsImport> imported = ImportSurveyJs(input);
  if (!imported.ok()) {
    FUZZ_CHECK(imported.status().code() == StatusCode::kInvalidArgument,
               imported.status().ToString());
    FUZZ_CHECK(!imported.status().message().empty(), "a refusal without a message");
    return;
  }
  Result<Survey> survey = ParseSurvey(imported->definition);
  FUZZ_CHECK(survey.ok(), "an import that ParseSurvey refuses: " + survey.status().ToString());
  for (const SurveyJsIssue& issue : imported->unmapped) {
    FUZZ_CHECK(!issue.element.empty() && !issue.reason.empty(),
               "an unmapped element without a name or a reason");
  }
  Result<SurveyJsImport> again = ImportSurveyJs(input);
  FUZZ_CHECK(again.ok() && again->definition == imported->definition &&
                 again->unmapped == imported->unmapped,
             "importing the same bytes twice gave different results");
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
