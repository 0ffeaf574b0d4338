// SurveyJS import: maps a SurveyJS JSON definition (the most common survey format on the web) to
// a Canvass survey definition (DESIGN.md §2, docs/surveyjs-import.md).
//
// Mapped: pages[].elements[] (and the legacy pages[].questions[]), panels, rating (rateMin /
// rateMax / rateStep / rateValues, rateType, min/max descriptions including the legacy
// mininumRateDescription), radiogroup, dropdown, checkbox, boolean, text, comment, simple matrix
// rows, localized strings ({"default": ..., "ru": ...}), isRequired, hasOther / showOtherItem, and
// visibleIf of the common forms ({q} >= 9, {q} > 6 and {q} < 9, {q} = 'x', {q} notempty,
// {q} contains 'x'). A 0..10 rating becomes an NPS question. Everything else is listed in
// `unmapped` by element name with the reason — never dropped silently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "canvass/status.h"

namespace canvass {

struct SurveyJsIssue {
  std::string element;  // the SurveyJS element name (or "survey")
  std::string reason;
  bool operator==(const SurveyJsIssue&) const = default;
};

struct SurveyJsImport {
  std::string definition;               // canvass.survey/1 JSON, already validated by ParseSurvey
  std::vector<SurveyJsIssue> unmapped;  // elements (or conditions) left out, with the reason
};

// `survey_id` names the result (default: derived from the title, else "imported").
Result<SurveyJsImport> ImportSurveyJs(std::string_view json, std::string survey_id = "");

}  // namespace canvass
