// The survey widget's state machine (wasm/widget/widget.h) without ImGui or a browser: screens,
// the idle timeout, back, and the outcomes an offer ends in. Time is a number the test moves.
#include "widget/widget.h"

#include <catch2/catch.hpp>

#include "canvass/messages.h"
#include "test_support.h"

namespace canvass::widget {
namespace {

const SigningKey& Org() {
  static const SigningKey key = SigningKey::FromSeed(test::CountingSeed(1));
  return key;
}

std::string Bundle(const std::string& definition, const SigningKey& signer = Org()) {
  Result<Survey> survey = ParseSurvey(definition);
  REQUIRE(survey.ok());
  SurveyBundle b{survey->id, definition, 0, {}};
  return EncodeSignedMessage(SignMessage(kSurveyDomain, EncodeBundle(b), signer));
}

std::string Restaurant() { return test::ReadSourceFile("examples/restaurant.json"); }

std::vector<std::string> EventTypes(Widget& w) {
  std::vector<std::string> types;
  for (const Event& e : w.TakeEvents()) {
    const auto at = e.json.find("\"type\":\"") + 8;
    types.push_back(e.json.substr(at, e.json.find('"', at) - at));
  }
  return types;
}

// A widget with a device and the restaurant survey selected, its events taken.
std::unique_ptr<Widget> Ready(Mode mode, std::int64_t idle_ms = 60000) {
  Widget::Options o;
  o.mode = mode;
  o.preferred_languages = {"en"};
  o.idle_ms = idle_ms;
  o.thanks_ms = 5000;
  auto w = std::make_unique<Widget>(o);
  REQUIRE(w->SetDevice(test::CountingSeed(60), "dev-1", Org().public_key(), Org().public_key(),
                       "Kyiv-Podil", "kiosk")
              .ok());
  REQUIRE(w->LoadBundle(Bundle(Restaurant())).ok());
  REQUIRE(w->SelectSurvey("restaurant").ok());
  (void)w->TakeEvents();
  return w;
}

// Answers every question of the restaurant survey in turn (contact: no consent).
void AnswerAll(Widget& w, std::int64_t now) {
  for (int guard = 0; w.screen() == Screen::kQuestion && guard < 20; ++guard) {
    switch (w.current()->kind) {
      case QuestionKind::kNps:
        w.ChooseScale(9, now);
        break;
      case QuestionKind::kCsiAttribute:
        w.SetImportance(1, now);
        w.SetSatisfaction(4, now);
        break;
      default:
        w.Next(now);
        break;
    }
  }
}

TEST_CASE("widget: a kiosk without a device asks staff to enroll it") {
  Widget w(Widget::Options{});
  CHECK(w.screen() == Screen::kLoading);
  w.Tick(0);
  CHECK(w.screen() == Screen::kEnroll);
  w.RequestEnroll();
  CHECK(w.error() == "type the enrollment code first");
  w.SetText("enroll", "ABCD");
  w.RequestEnroll();
  CHECK(EventTypes(w) == std::vector<std::string>{"enroll"});
  REQUIRE(
      w.SetDevice(test::CountingSeed(60), "dev-1", Org().public_key(), Org().public_key()).ok());
  CHECK(w.screen() == Screen::kLoading);  // no survey yet
  REQUIRE(w.LoadBundle(Bundle(Restaurant())).ok());
  REQUIRE(w.SelectSurvey("restaurant").ok());
  CHECK(w.screen() == Screen::kAttract);
}

TEST_CASE("widget: a completed kiosk offer saves, thanks, and returns to attract") {
  auto w = Ready(Mode::kKiosk);
  w->Start(1000);
  REQUIRE(w->screen() == Screen::kQuestion);
  CHECK(w->current()->id == "recommend");
  CHECK(EventTypes(*w) == std::vector<std::string>{"offer", "progress"});
  AnswerAll(*w, 2000);
  REQUIRE(w->screen() == Screen::kSaving);
  CHECK(w->last_outcome() == Outcome::kCompleted);
  CHECK(w->has_pending_record());
  Result<LogEntry> entry = w->SignPending(ChainHead{});
  REQUIRE(entry.ok());
  CHECK(entry->seq == 1);
  w->RecordSaved(true, "", 3000);
  CHECK(w->screen() == Screen::kThanks);
  w->Tick(3000 + 5000);
  CHECK(w->screen() == Screen::kThanks);  // not yet: the thanks stay thanks_ms
  w->Tick(3000 + 5001);
  CHECK(w->screen() == Screen::kAttract);
}

TEST_CASE("widget: the idle timeout records partial with answers, ignored without") {
  SECTION("partial") {
    auto w = Ready(Mode::kKiosk, 60000);
    w->Start(0);
    w->ChooseScale(9, 10000);
    w->Touch(10000);
    REQUIRE(w->current()->id == "reason");
    w->Tick(70000);  // exactly idle_ms after the last input: still there
    CHECK(w->screen() == Screen::kQuestion);
    w->Tick(70001);
    CHECK(w->screen() == Screen::kSaving);
    CHECK(w->last_outcome() == Outcome::kPartial);
    w->RecordSaved(true, "", 70001);
    CHECK(w->screen() == Screen::kAttract);  // no thank-you for one who walked away
  }
  SECTION("ignored") {
    auto w = Ready(Mode::kKiosk, 60000);
    w->Start(0);
    w->Tick(60001);
    CHECK(w->screen() == Screen::kSaving);
    CHECK(w->last_outcome() == Outcome::kIgnored);
  }
  SECTION("an embedded widget has no idle timeout") {
    auto w = Ready(Mode::kEmbed, 60000);
    w->Start(0);
    w->Tick(10 * 60000);
    CHECK(w->screen() == Screen::kQuestion);
  }
}

TEST_CASE("widget: back shows the earlier answer again, and leaves the first question be") {
  auto w = Ready(Mode::kKiosk);
  w->Start(0);
  w->Back();
  CHECK(w->current()->id == "recommend");
  w->ChooseScale(3, 100);
  REQUIRE(w->current()->id == "reason");
  w->SetText("text", "cold soup");
  w->Next(200);
  REQUIRE(w->current()->id == "price");
  w->Back();
  CHECK(w->current()->id == "reason");
  CHECK(w->TextValue("text") == "cold soup");
  w->Back();
  CHECK(w->current()->id == "recommend");
  CHECK(w->draft().scale == 3);
}

TEST_CASE("widget: a required question without an answer stays, with the reason") {
  auto w = Ready(Mode::kKiosk);
  w->Start(0);
  w->Next(100);
  CHECK(w->screen() == Screen::kQuestion);
  CHECK(w->current()->id == "recommend");
  CHECK_FALSE(w->error().empty());
}

TEST_CASE("widget: an embedded visitor who closes declines; the thanks close by themselves") {
  SECTION("closed mid-survey") {
    auto w = Ready(Mode::kEmbed);
    w->Start(0);
    w->ChooseScale(10, 100);
    w->Close(200);
    CHECK(w->last_outcome() == Outcome::kDeclined);
    w->RecordSaved(true, "", 300);
    CHECK(w->screen() == Screen::kClosed);
    CHECK(EventTypes(*w).back() == "complete");
  }
  SECTION("completed") {
    auto w = Ready(Mode::kEmbed);
    w->Start(0);
    AnswerAll(*w, 100);
    w->RecordSaved(true, "", 200);
    CHECK(w->screen() == Screen::kThanks);
    (void)w->TakeEvents();
    w->Tick(200 + 5001);
    CHECK(w->screen() == Screen::kClosed);
    CHECK(EventTypes(*w) == std::vector<std::string>{"closed"});
  }
}

TEST_CASE("widget: a record the log could not keep is an error, not a thank-you") {
  auto w = Ready(Mode::kKiosk);
  w->Start(0);
  AnswerAll(*w, 100);
  w->RecordSaved(false, "the browser refused storage", 200);
  CHECK(w->screen() == Screen::kError);
  CHECK(w->error() == "the browser refused storage");
}

TEST_CASE("widget: staff open the panel with the PIN; an offer in progress is kept as partial") {
  auto w = Ready(Mode::kKiosk);
  w->Start(0);
  w->ChooseScale(8, 100);
  w->OpenStaff();
  CHECK(w->screen() == Screen::kPin);
  CHECK(w->last_outcome() == Outcome::kPartial);
  w->PinDigit('9');
  w->PinSubmit();
  CHECK(w->error() == "wrong PIN");
  CHECK(w->screen() == Screen::kPin);
  for (char c : std::string("1234")) w->PinDigit(c);
  w->PinSubmit();
  CHECK(w->screen() == Screen::kStaff);
  w->RecordSaved(true, "", 200);  // the partial record reached the log meanwhile
  CHECK(w->screen() == Screen::kStaff);
  w->LeaveStaff();
  CHECK(w->screen() == Screen::kAttract);
}

TEST_CASE("widget: a bundle that does not verify is refused; the last good one stays") {
  auto w = Ready(Mode::kKiosk);
  const SigningKey other = SigningKey::FromSeed(test::CountingSeed(99));
  Result<std::string> refused = w->LoadBundle(Bundle(Restaurant(), other));
  CHECK_FALSE(refused.ok());
  CHECK(w->survey() != nullptr);
  CHECK(w->SelectSurvey("restaurant").ok());
}

}  // namespace
}  // namespace canvass::widget
