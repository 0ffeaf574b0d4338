#include "canvass/surveyjs.h"

#include <catch2/catch.hpp>

#include "canvass/flow.h"
#include "canvass/survey.h"
#include "test_support.h"

using namespace canvass;

TEST_CASE("SurveyJS: every mapped element kind, visibleIf chains, locales and legacy names") {
  Result<SurveyJsImport> imported =
      ImportSurveyJs(test::ReadSourceFile("tests/surveyjs/full.json"));
  INFO(imported.status().ToString());
  REQUIRE(imported.ok());
  CHECK(imported->unmapped.empty());
  Result<Survey> s = ParseSurvey(imported->definition);
  REQUIRE(s.ok());
  CHECK(s->id == "store-feedback");
  CHECK(s->title.Get("ru", s->fallback_language) == "Отзыв о магазине");
  CHECK(s->thanks.Get("en", "en") == "Thank you!");

  auto q = [&](const char* id) -> const Question& {
    int i = s->FindQuestion(id);
    INFO(id);
    REQUIRE(i >= 0);
    return s->questions[static_cast<std::size_t>(i)];
  };
  CHECK(q("nps").kind == QuestionKind::kNps);
  CHECK(q("nps").required);
  CHECK(q("nps").text.Get("ru", "en") == "Порекомендуете нас?");
  CHECK(q("nps").scale.min_label.Get("en", "en") == "Not likely");
  REQUIRE(q("why_low").show_if.has_value());
  CHECK(q("why_low").show_if->low == 0);
  CHECK(q("why_low").show_if->high == 6);
  CHECK(q("why_mid").show_if->low == 7);
  CHECK(q("why_mid").show_if->high == 8);
  CHECK(q("praise").show_if->low == 9);
  CHECK(q("praise").show_if->high == 10);
  CHECK(q("satisfaction").kind == QuestionKind::kRating);
  CHECK(q("satisfaction").scale.min == 1);  // SurveyJS defaults to 1..5
  CHECK(q("satisfaction").scale.style == ScaleStyle::kSmileys);
  CHECK(q("satisfaction").scale.max_label.Get("en", "en") == "Great");  // legacy name
  CHECK(q("visit").kind == QuestionKind::kSingleChoice);
  CHECK(q("visit").allow_other);  // legacy hasOther
  CHECK(q("visit").choices[1].text.Get("ru", "en") == "Постоянно");
  CHECK(q("store").kind == QuestionKind::kSingleChoice);
  CHECK(q("bought").kind == QuestionKind::kMultiChoice);
  CHECK(q("again").choices.size() == 2);
  CHECK(q("again").choices[0].text.Get("en", "en") == "Sure");
  CHECK(q("gifts_note").show_if->op == Condition::Op::kEquals);
  CHECK(q("store_note").show_if->op == Condition::Op::kEquals);
  CHECK(q("visit_note").show_if->op == Condition::Op::kIn);
  CHECK(q("quality.price").choices.size() == 3);
  CHECK(q("quality.staff").kind == QuestionKind::kSingleChoice);
  CHECK(q("ease").scale.max == 7);  // inside a panel, from rateValues

  // The imported survey runs in the flow engine unchanged: a detractor sees "why low".
  FlowSession f = FlowSession::Series(*s);
  REQUIRE(f.Answer(ScaleAnswer{4}).ok());
  CHECK(f.Current()->id == "why_low");
}

TEST_CASE("SurveyJS: unmappable elements are listed exactly, by name and reason") {
  Result<SurveyJsImport> imported =
      ImportSurveyJs(test::ReadSourceFile("tests/surveyjs/unmappable.json"), "mixed");
  REQUIRE(imported.ok());
  std::vector<std::string> names;
  for (const auto& issue : imported->unmapped) names.push_back(issue.element);
  CHECK(names == std::vector<std::string>{"intro", "photo", "half", "grid", "either", "words"});
  CHECK(imported->unmapped[2].reason.find("rateStep 2") != std::string::npos);
  CHECK(imported->unmapped[4].reason.find("other than 'and'") != std::string::npos);
  Result<Survey> s = ParseSurvey(imported->definition);
  REQUIRE(s.ok());
  CHECK(s->id == "mixed");
  CHECK(s->questions.size() == 1);
}

TEST_CASE("SurveyJS: hostile or empty input gets a clear error") {
  CHECK(ImportSurveyJs("{").status().message().find("not valid at byte") != std::string::npos);
  CHECK(ImportSurveyJs("[]").status().message() == "a SurveyJS definition is a JSON object");
  CHECK(ImportSurveyJs(R"({"pages": [{"elements": [{"type": "html", "name": "x"}]}]})")
            .status()
            .message()
            .find("no question") != std::string::npos);
}
