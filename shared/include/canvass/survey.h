// Survey definitions (DESIGN.md §2): the model, and ParseSurvey() which loads it from JSON.
//
// The JSON format is documented in docs/survey-format.md. ParseSurvey() validates everything a
// device would otherwise trip over at run time, and its errors name the offending field by path
// ("questions[2].show_if.question: ...") and say why. A Survey is an immutable value after parsing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "canvass/record.h"  // AnswerValue
#include "canvass/status.h"

namespace canvass {

// Text in several languages. Get() falls back to the survey's fallback language.
struct LocalizedText {
  std::map<std::string, std::string> by_language;
  bool empty() const { return by_language.empty(); }
  const std::string& Get(const std::string& language, const std::string& fallback) const;
};

enum class QuestionKind {
  kNps,     // 0..10 "how likely are you to recommend"
  kRating,  // an integer scale with its own range
  kSingleChoice,
  kMultiChoice,
  kText,
  kCsiAttribute,  // importance + satisfaction of one attribute
  kContact,       // consent + contact details, sealed on the device
};
const char* QuestionKindName(QuestionKind kind);

enum class MetricRole {
  kNone,
  kNps,
  kCsat,
  kCes,
  kCliRecommend,
  kCliRepurchase,
  kCliCrossBuy,
  kCsi,
};
const char* MetricRoleName(MetricRole role);  // "nps", "cli.recommend", ... ("" for kNone)

enum class ScaleStyle { kNumbers, kStars, kSmileys };

struct Scale {
  std::int32_t min = 0;
  std::int32_t max = 10;
  ScaleStyle style = ScaleStyle::kNumbers;
  LocalizedText min_label, max_label;
};

struct Choice {
  std::string id;
  LocalizedText text;
};

// show_if: the question is shown only when an earlier question's answer matches.
struct Condition {
  enum class Op { kEquals, kIn, kRange };
  std::string question;  // id of an earlier question
  Op op = Op::kEquals;
  std::vector<std::variant<std::int32_t, std::string>> values;  // kEquals (one) and kIn
  std::int32_t low = 0, high = 0;                               // kRange, inclusive
};

struct Question {
  std::string id;
  QuestionKind kind = QuestionKind::kRating;
  MetricRole metric = MetricRole::kNone;
  bool required = true;
  LocalizedText text;
  LocalizedText hint;
  Scale scale;                              // nps (always 0..10), rating, csi satisfaction
  bool importance_binary = true;            // csi: "important / not important" rather than a scale
  Scale importance;                         // csi, when !importance_binary
  std::vector<Choice> choices;              // single_choice, multi_choice
  bool allow_other = false;                 // choices: an "other: ..." text field
  std::uint32_t max_length = 1000;          // text, other, contact details
  std::vector<std::string> contact_fields;  // contact: "name", "phone", "email"
  LocalizedText consent_text;               // contact
  std::optional<Condition> show_if;
};

enum class DeliveryMode {
  kSeries,     // the whole list, with branching
  kRotateOne,  // one question per customer from `rotate_pool`, balanced
};

struct Sampling {
  enum class Mode { kEvery, kEveryKth, kProbability };
  Mode mode = Mode::kEvery;
  std::uint32_t k = 1;            // kEveryKth
  std::uint64_t threshold53 = 0;  // kProbability: offer when a 53-bit draw < threshold53
  double probability = 1.0;       // kProbability, as written (for display)
  std::uint32_t cap_days = 0;     // websites: not again for N days after answering or declining
  std::uint32_t trigger_after_seconds = 0;  // websites: show after N seconds on the page
  std::string trigger_path_prefix;          // websites: only on paths starting with this
};

struct Survey {
  std::string id;
  std::uint32_t revision = 1;
  std::vector<std::string> languages;  // in order of preference
  std::string fallback_language;
  LocalizedText title, intro, thanks;
  DeliveryMode mode = DeliveryMode::kSeries;
  std::vector<std::string> rotate_pool;  // kRotateOne: question ids
  Sampling sampling;
  std::vector<std::string> context_tags;  // tags every response carries: location, staff, ...
  std::vector<Question> questions;

  // Index of the question with `id`, or -1.
  int FindQuestion(std::string_view id) const;
  // The language to show for a preference list (e.g. the browser's), else the fallback.
  std::string PickLanguage(const std::vector<std::string>& preferred) const;
};

// Parses and validates a survey definition. InvalidArgument names the field and the reason.
Result<Survey> ParseSurvey(std::string_view json);

// Why an answer (or a line of input) was refused, in the classes a report counts refusals by. Set
// as Status::reason() where the refusal is made (ValidateAnswer, ParseJsonLine, ResponseTable),
// so that nobody classifies an error by reading its message.
enum class Refusal : int {
  kInvalid = 0,      // "invalid": anything else (also a status without a reason)
  kNotJson,          // "not valid JSON": the line does not parse, or is not an object
  kUnknownQuestion,  // "unknown question": an answer to no question of the survey
  kOutsideScale,     // "outside the scale": a value or importance off its scale
  kWrongType,        // "wrong type": an answer or field of the wrong JSON or answer type
  kMissingField,     // "missing field": a required field is absent
  kOtherSurvey,      // "other survey": a record of another survey (skipped, not an error)
};
// The words above ("not valid JSON", ...), as reports print them.
const char* RefusalName(Refusal refusal);
// The Refusal a status carries (kInvalid when it carries none).
Refusal RefusalOf(const Status& status);

// InvalidArgument (saying why, in words for a person, with its Refusal as reason()) unless
// `value` is a valid answer to `q`.
Status ValidateAnswer(const Question& q, const AnswerValue& value);

}  // namespace canvass
