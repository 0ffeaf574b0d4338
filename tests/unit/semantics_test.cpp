// Tests for host/semantics.h: the tree a frame records, its serialised form, and the version that
// tells the page when to touch its DOM (only when the tree changed).
#include "semantics.h"

#include <catch2/catch.hpp>

namespace canvass::host {
namespace {

// One frame of a 0..10 question, drawn at `dpr` device pixels per CSS pixel (`zoom` stretches the
// layout, as a wider canvas would).
void NpsFrame(Semantics& sem, float dpr, int checked, const std::string& lang = "en",
              float zoom = 1) {
  sem.BeginFrame(lang, dpr / zoom);
  sem.Heading("q:recommend", "Would you recommend us?", {10 * dpr, 20 * dpr, 300 * dpr, 30 * dpr});
  SemItem& group =
      sem.BeginGroup(Role::kRadioGroup, "scale:recommend", "", {0, 60 * dpr, 600 * dpr, 60 * dpr});
  group.labelled_by = "q:recommend";
  group.described_by = "lo:recommend hi:recommend";
  for (int v = 0; v <= 10; ++v) {
    sem.Radio("nps:" + std::to_string(v), std::to_string(v),
              {v * 50 * dpr, 60 * dpr, 44 * dpr, 44 * dpr}, v == checked);
  }
  sem.EndGroup();
  sem.Text("lo:recommend", "Not likely", {0, 130 * dpr, 100 * dpr, 20 * dpr});
  sem.Button("next", "Next", {500 * dpr, 200 * dpr, 100 * dpr, 44 * dpr});
  sem.Announce("Question 1 of 2: Would you recommend us?");
  sem.EndFrame();
}

TEST_CASE("semantics: groups nest, rectangles are CSS pixels, state is kept", "[semantics]") {
  Semantics sem;
  NpsFrame(sem, 2, 7);
  const auto& items = sem.items();
  REQUIRE(items.size() == 15);
  CHECK(items[0].role == Role::kHeading);
  CHECK(items[0].level == 2);
  CHECK(items[0].parent == -1);
  CHECK(items[1].role == Role::kRadioGroup);
  for (int i = 2; i <= 12; ++i) CHECK(items[i].parent == 1);
  CHECK(items[13].parent == -1);  // after EndGroup()
  CHECK(items[9].id == "nps:7");
  CHECK(items[9].checked == Tri::kTrue);
  CHECK(items[8].checked == Tri::kFalse);
  CHECK(items[9].rect.x == 350);
  CHECK(items[9].rect.w == 44);
  REQUIRE(sem.Find("next") != nullptr);
  CHECK(sem.Find("next")->pressed == Tri::kNone);
  CHECK(sem.Find("missing") == nullptr);
}

TEST_CASE("semantics: the serialised tree", "[semantics]") {
  Semantics sem;
  NpsFrame(sem, 1, -1, "uk");
  const std::string& json = sem.json();
  CHECK(json.rfind("{\"lang\":\"uk\",\"announce\":\"Question 1 of 2: Would you recommend us?\"",
                   0) == 0);
  CHECK(json.find("\"id\":\"scale:recommend\",\"role\":\"radiogroup\",\"labelled_by\":"
                  "\"q:recommend\",\"described_by\":\"lo:recommend hi:recommend\",\"x\":0,\"y\":60,"
                  "\"w\":600,\"h\":60,\"parent\":-1}") != std::string::npos);
  CHECK(json.find("{\"id\":\"nps:3\",\"role\":\"radio\",\"name\":\"3\",\"x\":150,\"y\":60,\"w\":44,"
                  "\"h\":44,\"checked\":false,\"parent\":1}") != std::string::npos);

  Semantics quoted;
  quoted.BeginFrame("en", 1);
  quoted.Text("t", "say \"hi\"\n\\ \x01", {});
  quoted.EndFrame();
  CHECK(quoted.json().find("\"name\":\"say \\\"hi\\\"\\n\\\\ \\u0001\"") != std::string::npos);
}

TEST_CASE("semantics: the version changes only when the tree does", "[semantics]") {
  Semantics sem;
  CHECK(sem.version() == 0);
  NpsFrame(sem, 2, -1);
  const std::uint32_t first = sem.version();
  CHECK(first == 1);
  NpsFrame(sem, 2, -1);  // the same frame again: nothing for the page to do
  CHECK(sem.version() == first);
  NpsFrame(sem, 2.0001f, -1);  // sub-pixel differences are no change
  CHECK(sem.version() == first);
  NpsFrame(sem, 2, 4);  // an answer chosen
  CHECK(sem.version() == first + 1);
  NpsFrame(sem, 2, 4, "ru");  // another language
  CHECK(sem.version() == first + 2);
  NpsFrame(sem, 1, 4, "ru");  // the same layout at another pixel ratio: the same CSS pixels
  CHECK(sem.version() == first + 2);
  NpsFrame(sem, 1, 4, "ru", 1.5f);  // a larger layout
  CHECK(sem.version() == first + 3);

  // Any field of any item counts (the comparison that spares serialising unchanged frames).
  const std::uint32_t before = sem.version();
  sem.BeginFrame("ru", 1);
  sem.Heading("q", "Question", {0, 0, 100, 20});
  sem.EndFrame();
  CHECK(sem.version() == before + 1);
  sem.BeginFrame("ru", 1);
  sem.Heading("q", "Question", {0, 0, 100, 20}).error = "Please choose an answer";
  sem.EndFrame();
  CHECK(sem.version() == before + 2);
  CHECK(sem.json().find("\"error\":\"Please choose an answer\"") != std::string::npos);
  sem.BeginFrame("ru", 1);
  sem.Heading("q", "Question", {0, 0, 100, 20}).error = "Please choose an answer";
  sem.Announce("Question 1 of 1: Question");
  sem.EndFrame();
  CHECK(sem.version() == before + 3);
  sem.BeginFrame("ru", 1);
  sem.Heading("q", "Question", {0, 0, 100, 20}).error = "Please choose an answer";
  sem.Announce("Question 1 of 1: Question");
  sem.EndFrame();
  CHECK(sem.version() == before + 3);
}

}  // namespace
}  // namespace canvass::host
