// The dashboard's follow-up cases (wasm/dashboard/follow_up.h): the order of the list ("call back
// today" first), what the user may ask for, and that contact details do not outlive the case on
// screen. Natively and under node.
#include "follow_up.h"

#include <catch2/catch.hpp>

#include <string>

namespace canvass::dashboard {
namespace {

constexpr std::int64_t kHour = 3600000;
// 2026-03-02 10:00 UTC.
constexpr std::int64_t kNow = 1772445600000;

std::string CaseJson(const std::string& id, const std::string& state, std::int64_t due_ms,
                     bool overdue = false, const std::string& location = "Kyiv-Podil") {
  return "{\"id\":\"" + id + "\",\"location\":\"" + location +
         "\",\"survey\":\"restaurant\",\"question\":\"recommend\",\"metric\":\"nps\",\"score\":3,"
         "\"scale\":[0,10],\"state\":\"" +
         state +
         "\",\"category\":null,\"assignee\":null,\"has_contact\":true,\"responded_ms\":1,"
         "\"opened_ms\":" +
         std::to_string(due_ms - 24 * kHour) + ",\"due_ms\":" + std::to_string(due_ms) +
         ",\"overdue\":" + (overdue ? "true" : "false") +
         ",\"escalated_ms\":null,\"resolved_ms\":" + (state == "resolved" ? "5" : "null") +
         ",\"updated_ms\":1,\"revision\":1";
}

std::string ListJson(const std::vector<std::string>& cases) {
  std::string out = "{\"now_ms\":" + std::to_string(kNow) + ",\"cases\":[";
  for (std::size_t i = 0; i < cases.size(); ++i) out += (i ? "," : "") + cases[i] + "}";
  return out + "]}";
}

std::vector<std::string> Ids(const CaseList& list, const std::string& location = "") {
  std::vector<std::string> out;
  for (const CaseSummary* c : list.Shown(location)) out.push_back(c->id);
  return out;
}

}  // namespace

TEST_CASE("the follow-up list puts the call-backs of today first") {
  CaseList list;
  // As the server sends them: earliest due first.
  const std::string json = ListJson({
      CaseJson("late-contacted", "contacted", kNow - 2 * kHour, true),
      CaseJson("late-open", "open", kNow - kHour, true),
      CaseJson("today-open", "open", kNow + 5 * kHour),
      CaseJson("tomorrow-open", "open", kNow + 20 * kHour),
      CaseJson("done", "resolved", kNow + 21 * kHour, false, "Lviv-Rynok"),
  });
  // UTC+2: the viewer's day ends at 22:00 UTC.
  REQUIRE(list.SetList(json, 120).ok());
  CHECK(Ids(list) == std::vector<std::string>{"late-open", "today-open", "late-contacted",
                                              "tomorrow-open", "done"});
  CHECK(list.Shown("")[0]->call_back_today);
  CHECK(list.Shown("")[0]->overdue);                // the server's verdict, kept as it came
  CHECK_FALSE(list.Shown("")[2]->call_back_today);  // contacted already
  CHECK(Ids(list, "Lviv-Rynok") == std::vector<std::string>{"done"});

  // UTC-10: the viewer's day (00:00 local) ends at 10:00 UTC tomorrow: tomorrow's case is today's.
  REQUIRE(list.SetList(json, -600).ok());
  CHECK(Ids(list) == std::vector<std::string>{"late-open", "today-open", "tomorrow-open",
                                              "late-contacted", "done"});
  CHECK_FALSE(list.SetList("[]", 0).ok());
}

TEST_CASE("a follow-up case: the next state from the server, a category for the root cause") {
  CaseList list;
  REQUIRE(list.SetMe(R"({"name":"olena","role":"staff","locations":["Kyiv-Podil"]})").ok());
  REQUIRE(list.SetCategories(R"({"categories":["price","wait time"]})").ok());
  REQUIRE(list.SetList(ListJson({CaseJson("dev-1.1", "open", kNow + kHour)}), 0).ok());
  CHECK(list.me() == "olena");
  CHECK_FALSE(list.AdvanceState());  // nothing open

  REQUIRE(list.Select("dev-1.1"));
  CaseRequest open = list.TakeRequest();
  CHECK(open.kind == CaseRequest::Kind::kOpen);
  CHECK(open.id == "dev-1.1");
  CHECK(list.busy());
  CHECK_FALSE(list.Select("dev-1.1"));  // one request at a time

  // An answer for another case (opened before) is ignored.
  REQUIRE(list.SetCase(CaseJson("dev-9.9", "open", kNow) + ",\"next_state\":\"contacted\"}").ok());
  CHECK_FALSE(list.open_case().has_value());
  REQUIRE(list.SetCase(CaseJson("dev-1.1", "contacted", kNow + kHour) +
                       ",\"next_state\":\"root_cause_found\",\"contact\":\"+380 67 123 45 67\","
                       "\"notes\":[{\"author\":\"olena\",\"time_ms\":5,\"text\":\"called\"}]}")
              .ok());
  list.Done(true, "");
  REQUIRE(list.open_case().has_value());
  CHECK(*list.open_case()->contact == "+380 67 123 45 67");
  CHECK(list.open_case()->notes.size() == 1);
  CHECK(list.TakeRequest().kind == CaseRequest::Kind::kNone);

  // root_cause_found needs a category.
  CHECK_FALSE(list.CanAdvance());
  CHECK_FALSE(list.AdvanceState());
  list.ChooseCategory("wait time");
  list.SetNoteDraft("a table for 40 minutes");
  REQUIRE(list.AdvanceState());
  CaseRequest next = list.TakeRequest();
  CHECK(next.kind == CaseRequest::Kind::kState);
  CHECK(next.state == "root_cause_found");
  CHECK(next.category == "wait time");
  CHECK(next.note == "a table for 40 minutes");
  list.Done(false, "409: the case is resolved");
  CHECK(list.error() == "409: the case is resolved");
  CHECK(list.note_draft() == "a table for 40 minutes");  // kept to try again
  CHECK_FALSE(list.busy());

  REQUIRE(list.Assign(std::string("olena")));
  CaseRequest assign = list.TakeRequest();
  CHECK(assign.kind == CaseRequest::Kind::kAssign);
  CHECK(assign.assignee == std::optional<std::string>("olena"));
  list.Done(true, "");
  CHECK(list.note_draft().empty());

  // Closing the case forgets its contact details.
  list.Deselect();
  CHECK_FALSE(list.open_case().has_value());
  CHECK(list.selected().empty());
  CHECK(list.RequestList());
  CHECK_FALSE(list.RequestList());  // already asked
  CHECK(list.TakeRequest().kind == CaseRequest::Kind::kList);
}

TEST_CASE("case times are shown in the viewer's local time") {
  CHECK(LocalTimeLabel(kNow, 0) == "2026-03-02 10:00");
  CHECK(LocalTimeLabel(kNow, 120) == "2026-03-02 12:00");
  CHECK(LocalTimeLabel(kNow, -660) == "2026-03-01 23:00");
  CHECK(LocalTimeLabel(0, -30) == "1969-12-31 23:30");
}

}  // namespace canvass::dashboard
