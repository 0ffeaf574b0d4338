#include "canvass/survey.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace canvass;

namespace {

// A small valid survey; each test breaks one thing in it.
std::string Minimal(const std::string& questions, const std::string& extra = "") {
  return R"({"format": "canvass.survey/1", "id": "t", "languages": ["ru", "en"],
             "fallback_language": "en", "title": {"en": "T"}, )" +
         extra + R"("questions": [)" + questions + "]}";
}
const char* kNps = R"({"id": "recommend", "kind": "nps", "text": {"en": "Recommend?"}})";

std::string ErrorOf(const std::string& json) {
  Result<Survey> s = ParseSurvey(json);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
  return s.status().message();
}

}  // namespace

TEST_CASE("the example surveys load and validate") {
  for (const char* name : {"restaurant", "shop-checkout", "website-nps"}) {
    INFO(name);
    Result<Survey> s = ParseSurvey(test::ReadSourceFile(std::string("examples/") + name + ".json"));
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    CHECK(s->id == name);
    for (const char* lang : {"ru", "uk", "en"}) {
      CHECK(std::find(s->languages.begin(), s->languages.end(), lang) != s->languages.end());
      for (const Question& q : s->questions) {
        INFO(q.id << " in " << lang);
        CHECK(q.text.by_language.count(lang) == 1);
      }
    }
  }
}

TEST_CASE("the restaurant survey has NPS, a reason, the 5P CSI attributes and a contact") {
  Result<Survey> s = ParseSurvey(test::ReadSourceFile("examples/restaurant.json"));
  REQUIRE(s.ok());
  CHECK(s->questions[0].kind == QuestionKind::kNps);
  CHECK(s->questions[0].metric == MetricRole::kNps);
  CHECK(s->questions[1].kind == QuestionKind::kText);
  int csi = 0;
  for (const Question& q : s->questions) csi += q.kind == QuestionKind::kCsiAttribute;
  CHECK(csi == 5);
  const Question& contact = s->questions.back();
  CHECK(contact.kind == QuestionKind::kContact);
  CHECK_FALSE(contact.required);
  REQUIRE(contact.show_if.has_value());
  CHECK(contact.show_if->op == Condition::Op::kRange);
}

TEST_CASE("the shop survey rotates one of four questions") {
  Result<Survey> s = ParseSurvey(test::ReadSourceFile("examples/shop-checkout.json"));
  REQUIRE(s.ok());
  CHECK(s->mode == DeliveryMode::kRotateOne);
  CHECK(s->rotate_pool.size() == 4);
}

TEST_CASE("a valid minimal survey parses") {
  Result<Survey> s = ParseSurvey(Minimal(kNps));
  REQUIRE(s.ok());
  CHECK(s->questions[0].scale.min == 0);
  CHECK(s->questions[0].scale.max == 10);
}

TEST_CASE("errors name the field and the reason") {
  SECTION("unknown question kind") {
    std::string e = ErrorOf(Minimal(R"({"id": "q", "kind": "slider", "text": {"en": "x"}})"));
    CHECK(e.find("questions[0].kind") == 0);
    CHECK(e.find("unknown question kind \"slider\"") != std::string::npos);
  }
  SECTION("show_if pointing at a later question") {
    std::string e = ErrorOf(Minimal(
        R"({"id": "a", "kind": "text", "text": {"en": "x"},
            "show_if": {"question": "recommend", "range": [0, 6]}}, )" +
        std::string(kNps)));
    CHECK(e.find("questions[0].show_if.question") == 0);
    CHECK(e.find("not an earlier question") != std::string::npos);
  }
  SECTION("show_if pointing at a missing question") {
    std::string e = ErrorOf(Minimal(std::string(kNps) + R"(, {"id": "a", "kind": "text",
        "text": {"en": "x"}, "show_if": {"question": "nope", "equals": 1}})"));
    CHECK(e.find("questions[1].show_if.question") == 0);
    CHECK(e.find("\"nope\"") != std::string::npos);
  }
  SECTION("show_if pointing at itself") {
    std::string e = ErrorOf(Minimal(R"({"id": "a", "kind": "rating", "text": {"en": "x"},
        "scale": {"min": 1, "max": 5}, "show_if": {"question": "a", "equals": 1}})"));
    CHECK(e.find("questions[0].show_if.question") == 0);
  }
  SECTION("empty choice list") {
    std::string e = ErrorOf(
        Minimal(R"({"id": "c", "kind": "single_choice", "text": {"en": "x"}, "choices": []})"));
    CHECK(e == "questions[0].choices: must list at least one choice");
  }
  SECTION("scale with min >= max") {
    std::string e = ErrorOf(Minimal(
        R"({"id": "r", "kind": "rating", "text": {"en": "x"}, "scale": {"min": 5, "max": 5}})"));
    CHECK(e == "questions[0].scale: min (5) must be less than max (5)");
    e = ErrorOf(Minimal(R"({"id": "p", "kind": "csi_attribute", "text": {"en": "x"},
        "satisfaction": {"min": 7, "max": 1}})"));
    CHECK(e.find("questions[0].satisfaction: min (7)") == 0);
  }
  SECTION("missing text in the fallback language") {
    std::string e =
        ErrorOf(Minimal(R"({"id": "q", "kind": "nps", "text": {"ru": "Порекомендуете?"}})"));
    CHECK(e == "questions[0].text: no text in the fallback language \"en\"");
    e = ErrorOf(Minimal(R"({"id": "c", "kind": "single_choice", "text": {"en": "x"},
        "choices": [{"id": "a", "text": {"ru": "А"}}]})"));
    CHECK(e == "questions[0].choices[0].text: no text in the fallback language \"en\"");
  }
  SECTION("a misspelt field") {
    std::string e =
        ErrorOf(Minimal(R"({"id": "q", "kind": "nps", "requried": false, "text": {"en": "x"}})"));
    CHECK(e == "questions[0].requried: unknown field (misspelt?)");
  }
  SECTION("duplicate question ids") {
    std::string e = ErrorOf(Minimal(std::string(kNps) + "," + kNps));
    CHECK(e == "questions[1].id: \"recommend\" is used twice");
  }
  SECTION("a metric role that does not fit the scale") {
    std::string e = ErrorOf(Minimal(R"({"id": "r", "kind": "rating", "metric": "nps",
        "text": {"en": "x"}, "scale": {"min": 1, "max": 5}})"));
    CHECK(e == "questions[0].metric: nps needs a 0..10 scale");
  }
  SECTION("rotate_one over an unknown question") {
    std::string e = ErrorOf(
        Minimal(kNps, R"("delivery": {"mode": "rotate_one", "pool": ["recommend", "x"]}, )"));
    CHECK(e == "delivery.pool[1]: \"x\" is not a question of this survey");
  }
  SECTION("a fallback language that is not offered") {
    std::string e = ErrorOf(R"({"format": "canvass.survey/1", "id": "t", "languages": ["ru"],
        "fallback_language": "en", "title": {"en": "T"}, "questions": []})");
    CHECK(e == "fallback_language: \"en\" is not one of languages");
  }
  SECTION("sampling probability out of range") {
    std::string e = ErrorOf(Minimal(kNps, R"("sampling": {"mode": "probability", "p": 1.5}, )"));
    CHECK(e == "sampling.p: must be a number in (0, 1]");
  }
  SECTION("a wrong format version") {
    std::string e = ErrorOf(R"({"format": "canvass.survey/9"})");
    CHECK(e.find("format:") == 0);
  }
}

TEST_CASE("broken JSON is refused with the byte offset") {
  std::string e = ErrorOf("{\"format\": ");
  CHECK(e.find("survey JSON is not valid at byte") == 0);
  CHECK(ErrorOf("").find("not valid") != std::string::npos);
  CHECK(ErrorOf("[1, 2]").find("must be an object") != std::string::npos);
}

TEST_CASE("texts fall back to the fallback language; languages are picked from preferences") {
  Result<Survey> s = ParseSurvey(Minimal(kNps));
  REQUIRE(s.ok());
  CHECK(s->questions[0].text.Get("ru", s->fallback_language) == "Recommend?");
  CHECK(s->PickLanguage({"ru-RU", "en"}) == "ru");
  CHECK(s->PickLanguage({"de", "en-GB"}) == "en");
  CHECK(s->PickLanguage({"de"}) == "en");
}
