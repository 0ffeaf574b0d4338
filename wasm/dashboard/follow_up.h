// The dashboard's follow-up cases (docs/dashboard.md, "Follow-up"; docs/protocol.md, "Cases"): the
// list the server gave (GET /v1/admin/cases), the one case open on screen (GET of one case, with
// the contact details), the root-cause list, who is logged in, and what the user is typing or has
// asked for. No ImGui and no browser calls: ui.cpp draws it, api.cpp feeds it the server's answers
// and passes its requests to the JS glue, which does the HTTP.
//
// The workflow's rules stay on the server: the next state is the case's `next_state`, overdue is
// its `overdue`, and every change is checked there again. What this class decides is only the
// order of the list: "call back today" (open, not contacted yet, due before the end of the
// viewer's day, overdue ones included) first, then the other unresolved cases by due time, then
// the resolved ones. The contact details live in this object's memory only, and are wiped
// (SecureWipe) when the case is closed, another is opened, or the object goes (logout).
// Not thread-safe; the browser's main thread owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/status.h"

namespace canvass::dashboard {

struct CaseSummary {
  std::string id, location, survey, question, metric, state, category, assignee;
  std::int32_t score = 0, scale_min = 0, scale_max = 0;
  std::int64_t responded_ms = 0, opened_ms = 0, due_ms = 0, updated_ms = 0;
  std::optional<std::int64_t> escalated_ms, resolved_ms;
  bool overdue = false;          // the server's verdict at its now_ms
  bool call_back_today = false;  // set by CaseList::SetList (see the file comment)
  std::uint32_t revision = 0;
};

struct CaseNoteView {
  std::string author;
  std::int64_t time_ms = 0;
  std::string text;
};

struct CaseDetail {
  CaseSummary summary;
  std::string next_state;  // "" once resolved
  std::optional<std::string> contact;
  std::string contact_error;
  std::vector<CaseNoteView> notes;
  std::vector<std::string> assignees;  // managers and the owner: who may be given the case
};

// What the user asked for, for the glue to send (one at a time).
struct CaseRequest {
  enum class Kind { kNone, kList, kOpen, kState, kNote, kAssign };
  Kind kind = Kind::kNone;
  std::string id;
  std::string state;                    // kState: the case's next_state
  std::string category;                 // kState: for root_cause_found
  std::string note;                     // kState (optional), kNote
  std::optional<std::string> assignee;  // kAssign: a name, or nullopt to give the case back
};

class CaseList {
 public:
  CaseList() = default;
  CaseList(const CaseList&) = delete;
  CaseList& operator=(const CaseList&) = delete;
  ~CaseList();

  // GET /v1/admin/me: {"name", "role", "locations"}.
  Status SetMe(std::string_view json);
  const std::string& me() const { return me_; }
  const std::string& role() const { return role_; }
  // GET /v1/admin/case-categories: {"categories": [...]}.
  Status SetCategories(std::string_view json);
  const std::vector<std::string>& categories() const { return categories_; }

  // GET /v1/admin/cases: {"now_ms", "cases": [...]}; `utc_offset_min` = minutes to add to UTC
  // for the viewer's local time (JS: -new Date().getTimezoneOffset()).
  Status SetList(std::string_view json, std::int32_t utc_offset_min);
  bool loaded() const { return loaded_; }
  std::int64_t now_ms() const { return now_ms_; }
  std::int32_t utc_offset_min() const { return utc_offset_min_; }
  // The cases in the order shown, those at `location` only unless it is "".
  std::vector<const CaseSummary*> Shown(const std::string& location) const;
  const std::vector<CaseSummary>& all() const { return cases_; }

  // GET of one case. Replaces (and wipes) the case on screen if it is the one asked for.
  Status SetCase(std::string_view json);
  const std::optional<CaseDetail>& open_case() const { return open_; }
  const std::string& selected() const { return selected_; }

  // The user's clicks. Each returns false when it asks for nothing (busy, or nothing to do).
  bool Select(const std::string& id);  // asks for the case; wipes the one on screen
  void Deselect();                     // closes it and wipes its contact details
  bool RequestList();
  bool AdvanceState();  // to the open case's next_state (with the chosen category and the note)
  bool AddNote();
  bool Assign(std::optional<std::string> assignee);  // nullopt: give back
  void ChooseCategory(const std::string& category) { category_ = category; }
  const std::string& chosen_category() const { return category_; }
  // Whether AdvanceState() can be asked now: a next state, and for root_cause_found a category
  // (chosen, or already on the case). The server checks again.
  bool CanAdvance() const;

  // The note field's text (mirrored from the page's <input>).
  void SetNoteDraft(std::string text) { note_ = std::move(text); }
  const std::string& note_draft() const { return note_; }

  // The request the glue should send next, or kNone. A case request (open, state, note, assign)
  // makes the list busy until Done(); a list request may run beside it.
  CaseRequest TakeRequest();
  bool busy() const { return busy_; }
  // The glue's answer to the last case request: OK (it has then called SetCase and SetList with
  // the fresh answers), or what the server said.
  void Done(bool ok, const std::string& error);
  // The list could not be fetched.
  void ListFailed(const std::string& error);
  const std::string& error() const { return error_; }

 private:
  void WipeOpen();
  bool Ask(CaseRequest request);

  std::string me_, role_;
  std::vector<std::string> categories_;
  std::vector<CaseSummary> cases_;  // in the order shown
  bool loaded_ = false;
  std::int64_t now_ms_ = 0;
  std::int32_t utc_offset_min_ = 0;
  std::string selected_;
  std::optional<CaseDetail> open_;
  std::string category_, note_, error_;
  CaseRequest pending_;
  bool list_wanted_ = false;
  bool busy_ = false;
};

// "2026-03-01 14:05" in the viewer's local time.
std::string LocalTimeLabel(std::int64_t ms, std::int32_t utc_offset_min);

}  // namespace canvass::dashboard
