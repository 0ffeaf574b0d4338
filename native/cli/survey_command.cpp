// `canvass survey check|show`: validate survey definitions and print their flow.
#include <iostream>
#include <sstream>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "canvass/survey.h"
#include "commands.h"

namespace canvass::cli {

std::optional<SurveyFile> LoadSurveyFile(const std::string& path, const std::string& command) {
  Result<std::string> definition = ReadFile(path);
  if (!definition.ok()) {
    std::cerr << command << ": " << definition.status().message() << "\n";
    return std::nullopt;
  }
  Result<Survey> survey = ParseSurvey(*definition);
  if (!survey.ok()) {
    std::cerr << path << ": " << survey.status().message() << "\n";
    return std::nullopt;
  }
  return SurveyFile{std::move(*definition), std::move(*survey)};
}

namespace {

int SurveyCheck(const std::vector<std::string>& files) {
  if (files.empty()) {
    std::cerr << "canvass survey check: name at least one survey file\n";
    return 2;
  }
  int bad = 0;
  for (const std::string& path : files) {
    Result<std::string> json = ReadFile(path);
    Result<Survey> survey = json.ok() ? ParseSurvey(*json) : Result<Survey>(json.status());
    if (!survey.ok()) {
      std::cout << path << ": " << survey.status().message() << "\n";
      ++bad;
      continue;
    }
    std::cout << path << ": ok (" << survey->id << ", " << survey->questions.size()
              << " questions, languages";
    for (const std::string& l : survey->languages) std::cout << " " << l;
    std::cout << ", version " << ToHex(SurveyVersion(*json)).substr(0, 12) << ")\n";
  }
  return bad == 0 ? 0 : 1;
}

std::string DescribeCondition(const Condition& c) {
  std::ostringstream out;
  out << "only if " << c.question;
  auto value = [](const std::variant<std::int32_t, std::string>& v) {
    return std::holds_alternative<std::int32_t>(v) ? std::to_string(std::get<std::int32_t>(v))
                                                   : "'" + std::get<std::string>(v) + "'";
  };
  switch (c.op) {
    case Condition::Op::kEquals:
      out << " = " << value(c.values[0]);
      break;
    case Condition::Op::kIn: {
      out << " in {";
      for (std::size_t i = 0; i < c.values.size(); ++i)
        out << (i ? ", " : "") << value(c.values[i]);
      out << "}";
      break;
    }
    case Condition::Op::kRange:
      out << " in " << c.low << ".." << c.high;
      break;
  }
  return out.str();
}

int SurveyShow(const std::string& path, const std::string& lang_arg) {
  std::optional<SurveyFile> file = LoadSurveyFile(path, "canvass");
  if (!file) return 1;
  const Survey* s = &file->survey;
  const std::string lang = lang_arg.empty() ? s->fallback_language : s->PickLanguage({lang_arg});
  const std::string& fb = s->fallback_language;
  std::cout << s->title.Get(lang, fb) << "  [" << s->id << ", revision " << s->revision
            << ", shown in " << lang << "]\n";
  if (s->mode == DeliveryMode::kRotateOne) {
    std::cout << "Delivery: one question per customer, rotated evenly over:";
    for (const std::string& q : s->rotate_pool) std::cout << " " << q;
    std::cout << "\n";
  } else {
    std::cout << "Delivery: the whole series, in order, with branching\n";
  }
  switch (s->sampling.mode) {
    case Sampling::Mode::kEvery:
      std::cout << "Sampling: every customer";
      break;
    case Sampling::Mode::kEveryKth:
      std::cout << "Sampling: every " << s->sampling.k << "th";
      break;
    case Sampling::Mode::kProbability:
      std::cout << "Sampling: with probability " << s->sampling.probability;
      break;
  }
  if (s->sampling.cap_days) std::cout << ", not again for " << s->sampling.cap_days << " days";
  std::cout << "\n\n";
  int n = 0;
  for (const Question& q : s->questions) {
    std::cout << ++n << ". [" << q.id << "] " << q.text.Get(lang, fb) << "\n   "
              << QuestionKindName(q.kind);
    if (q.kind == QuestionKind::kNps || q.kind == QuestionKind::kRating ||
        q.kind == QuestionKind::kCsiAttribute) {
      std::cout << " " << q.scale.min << ".." << q.scale.max;
    }
    if (q.metric != MetricRole::kNone) std::cout << ", metric " << MetricRoleName(q.metric);
    std::cout << (q.required ? ", required" : ", optional");
    if (q.show_if) std::cout << ", " << DescribeCondition(*q.show_if);
    std::cout << "\n";
    for (const Choice& c : q.choices)
      std::cout << "     - " << c.id << ": " << c.text.Get(lang, fb) << "\n";
  }
  return 0;
}

}  // namespace

int RunSurvey(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "canvass survey: expected check or show; see canvass --help\n";
    return 2;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "check") return SurveyCheck(rest);
  if (args[0] == "show") {
    std::string file, lang;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == "--lang" && i + 1 < rest.size()) {
        lang = rest[++i];
      } else if (file.empty()) {
        file = rest[i];
      } else {
        std::cerr << "canvass survey show: unexpected argument '" << rest[i] << "'\n";
        return 2;
      }
    }
    if (file.empty()) {
      std::cerr << "canvass survey show: name a survey file\n";
      return 2;
    }
    return SurveyShow(file, lang);
  }
  std::cerr << "canvass survey: unknown command '" << args[0] << "'; see canvass --help\n";
  return 2;
}

}  // namespace canvass::cli
