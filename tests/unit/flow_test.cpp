#include "canvass/flow.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace canvass;

namespace {
Survey Load(const char* name) {
  Result<Survey> s = ParseSurvey(test::ReadSourceFile(std::string("examples/") + name + ".json"));
  REQUIRE(s.ok());
  return *s;
}
void AnswerCsi(FlowSession& f, int sat) {
  for (const char* id : {"price", "staff", "place", "product", "promotion"}) {
    REQUIRE(f.Current() != nullptr);
    REQUIRE(f.Current()->id == id);
    REQUIRE(f.Answer(CsiAnswer{1, sat}).ok());
  }
}
}  // namespace

TEST_CASE("a promoter walks the restaurant survey without the call-back question") {
  Survey s = Load("restaurant");
  FlowSession f = FlowSession::Series(s);
  REQUIRE(f.Current()->id == "recommend");
  REQUIRE(f.Answer(ScaleAnswer{10}).ok());
  REQUIRE(f.Current()->id == "reason");
  REQUIRE(f.Skip().ok());
  AnswerCsi(f, 5);
  CHECK(f.Current() == nullptr);
  CHECK(f.IsComplete());
  CHECK(f.OutcomeIfLeftNow() == Outcome::kCompleted);
  CHECK(f.FinalAnswers().size() == 6);
}

TEST_CASE("a detractor is offered the call-back, and the details are sealed in the record") {
  REQUIRE(InitCrypto().ok());
  Survey s = Load("restaurant");
  FlowSession f = FlowSession::Series(s);
  REQUIRE(f.Answer(ScaleAnswer{3}).ok());
  REQUIRE(f.Answer(TextAnswer{"Холодный суп"}).ok());
  AnswerCsi(f, 2);
  REQUIRE(f.Current() != nullptr);
  CHECK(f.Current()->id == "contact");
  CHECK(f.Answer(ContactAnswer{true, ""}).code() == StatusCode::kInvalidArgument);
  REQUIRE(f.Answer(ContactAnswer{true, "Ирина +380671234567"}).ok());
  REQUIRE(f.IsComplete());

  BoxKey org = BoxKey::FromSeed(test::CountingSeed(3));
  ResponseRecord r = BuildRecord(s, Blake2b256("def"), f, f.OutcomeIfLeftNow(), 1000,
                                 {{"location", "Kyiv"}}, org.public_key());
  REQUIRE(r.sealed_contact.has_value());
  CHECK(std::get<ContactAnswer>(r.answers.at("contact")) == ContactAnswer{true, ""});
  Result<std::string> bytes = EncodeRecord(r);
  REQUIRE(bytes.ok());
  CHECK(bytes->find("380671234567") == std::string::npos);
  Result<std::string> opened = org.OpenSealed(*r.sealed_contact);
  REQUIRE(opened.ok());
  CHECK(*opened == "Ирина +380671234567");
}

TEST_CASE("going back and changing an answer drops answers that are no longer visible") {
  Survey s = Load("website-nps");
  FlowSession f = FlowSession::Series(s);
  REQUIRE(f.Answer(ScaleAnswer{5}).ok());
  REQUIRE(f.Current()->id == "missing");
  REQUIRE(f.Answer(ChoiceAnswer{{"delivery", "price"}, "cheaper shipping"}).ok());
  REQUIRE(f.Current()->id == "reason");
  REQUIRE(f.Back());
  REQUIRE(f.Back());
  REQUIRE(f.Current()->id == "recommend");
  REQUIRE(f.Answer(ScaleAnswer{10}).ok());
  CHECK(f.Current()->id == "reason");  // "missing" is hidden for promoters now
  REQUIRE(f.Answer(TextAnswer{"great"}).ok());
  CHECK(f.IsComplete());
  Answers final_answers = f.FinalAnswers();
  CHECK(final_answers.count("missing") == 0);
  CHECK(final_answers.size() == 2);
}

TEST_CASE("answers are validated against the question") {
  Survey s = Load("website-nps");
  FlowSession f = FlowSession::Series(s);
  CHECK(f.Answer(ScaleAnswer{11}).message() == "answer 11 is outside 0..10");
  CHECK(f.Answer(TextAnswer{"ten"}).code() == StatusCode::kInvalidArgument);
  CHECK(f.Skip().message() == "question 'recommend' needs an answer");
  REQUIRE(f.Answer(ScaleAnswer{0}).ok());
  CHECK(f.Answer(ChoiceAnswer{{"teleport"}, ""}).message().find("not a choice") !=
        std::string::npos);
  CHECK(f.Answer(ChoiceAnswer{{"price", "delivery"}, ""}).code() ==
        StatusCode::kInvalidArgument);  // not sorted
  CHECK(f.Answer(ChoiceAnswer{{}, ""}).message() == "no choice made");
}

TEST_CASE("outcomes of an abandoned session") {
  Survey s = Load("restaurant");
  FlowSession f = FlowSession::Series(s);
  CHECK(f.OutcomeIfLeftNow() == Outcome::kIgnored);
  REQUIRE(f.Answer(ScaleAnswer{8}).ok());
  CHECK(f.OutcomeIfLeftNow() == Outcome::kPartial);
  CHECK_FALSE(f.IsComplete());
}

TEST_CASE("ratings, CSI importance on a scale, and text limits") {
  Question q;
  q.id = "r";
  q.kind = QuestionKind::kCsiAttribute;
  q.scale.min = 1;
  q.scale.max = 5;
  q.importance_binary = true;
  CHECK(ValidateAnswer(q, CsiAnswer{1, 5}).ok());
  CHECK_FALSE(ValidateAnswer(q, CsiAnswer{2, 5}).ok());
  CHECK_FALSE(ValidateAnswer(q, CsiAnswer{1, 0}).ok());
  q.importance_binary = false;
  q.importance.min = 1;
  q.importance.max = 10;
  CHECK(ValidateAnswer(q, CsiAnswer{7, 5}).ok());
  Question t;
  t.id = "t";
  t.kind = QuestionKind::kText;
  t.max_length = 5;
  CHECK(ValidateAnswer(t, TextAnswer{"пятьб"}).ok());  // 5 characters, 10 bytes
  CHECK_FALSE(ValidateAnswer(t, TextAnswer{"шесть!"}).ok());
}

TEST_CASE("rotate_one: every question gets its share, picks are reproducible and unordered") {
  Survey s = Load("shop-checkout");
  const std::vector<std::string>& pool = s.rotate_pool;
  RotationPicker picker(2026);
  std::map<std::string, int> counts;
  std::vector<std::string> first_rounds;
  for (int i = 0; i < 10000; ++i) {
    const std::string& q = picker.Next(pool);
    ++counts[q];
    if (i < 40) first_rounds.push_back(q);
  }
  REQUIRE(counts.size() == 4);
  for (const auto& [id, n] : counts) {
    INFO(id);
    CHECK(std::abs(n / 10000.0 - 0.25) < 0.03);
  }
  // Random, not round-robin: the 10 rounds of 4 are not all in the same order.
  bool varied = false;
  for (int r = 1; r < 10; ++r) {
    for (int i = 0; i < 4; ++i) varied |= first_rounds[r * 4 + i] != first_rounds[i];
  }
  CHECK(varied);
  // Same seed, same picks; resuming from a saved draw count continues the same sequence.
  RotationPicker again(2026), resumed(2026, 17);
  for (int i = 0; i < 17; ++i) again.Next(pool);
  for (int i = 0; i < 50; ++i) CHECK(again.Next(pool) == resumed.Next(pool));
  // Each picked question runs as a one-question session.
  Result<FlowSession> one = FlowSession::Single(s, "easy");
  REQUIRE(one.ok());
  REQUIRE(one->Answer(ScaleAnswer{6}).ok());
  CHECK(one->IsComplete());
}

TEST_CASE("sampling: every k-th, probability and frequency caps") {
  Sampling every3;
  every3.mode = Sampling::Mode::kEveryKth;
  every3.k = 3;
  Sampler a(1);
  std::vector<bool> got;
  for (int i = 0; i < 6; ++i) got.push_back(a.ShouldOffer(every3));
  CHECK(got == std::vector<bool>{true, false, false, true, false, false});

  Survey web = Load("website-nps");
  Sampler b(7);
  int offered = 0;
  for (int i = 0; i < 10000; ++i) offered += b.ShouldOffer(web.sampling);
  CHECK(std::abs(offered / 10000.0 - 0.3) < 0.02);

  const std::int64_t day = 86400000;
  CHECK(FrequencyCapAllows(web.sampling, 100 * day, std::nullopt));
  CHECK_FALSE(FrequencyCapAllows(web.sampling, 100 * day, 20 * day));
  CHECK(FrequencyCapAllows(web.sampling, 110 * day, 20 * day));
}
