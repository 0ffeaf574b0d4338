#include <algorithm>
#include <cfloat>

#include "view.h"

namespace canvass::dashboard::view {
namespace {

ImU32 StateColour(const std::string& state) {
  if (state == "open") return kBadText;
  if (state == "contacted") return kPassiveText;
  if (state == "root_cause_found") return kAccentText;
  return kGoodText;
}

std::string StateLabel(const Painter& p, const std::string& state) {
  return p.T(("state:" + state).c_str());
}

// "NPS 3 / 0..10"
std::string ScoreLabel(const CaseSummary& c) {
  std::string metric = c.metric;
  for (char& ch : metric) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
  return metric + " " + std::to_string(c.score) + "  (" + std::to_string(c.scale_min) + ".." +
         std::to_string(c.scale_max) + ")";
}

// A small coloured label; returns its width.
float Badge(Painter& p, float x, float y, ImU32 colour, const std::string& text) {
  const float s = p.s, w = p.Width(p.f.small, text) + 12 * s, h = p.f.small->FontSize + 6 * s;
  p.dl->AddRectFilled(ImVec2(x, y), ImVec2(x + w, y + h), (colour & 0x00FFFFFF) | 0x28000000,
                      4 * s);
  p.Text(p.f.small, x + 6 * s, y + 3 * s, colour, text);
  return w;
}

// The list: "call back today" first, then the others in progress, then the resolved. Returns
// the bottom.
float DrawCaseList(Painter& p, const Model& m, CaseList& cases, UiRect r, const UiRect& visible,
                   bool* changed) {
  const float s = p.s;
  const std::vector<const CaseSummary*> shown = cases.Shown(m.filter().tags[0]);
  const float row_h = 56 * s, head_h = 34 * s;
  float y = r.y;
  const float x_state = r.x + 14 * s, x_loc = r.x + r.w * 0.22f, x_score = r.x + r.w * 0.42f,
              x_opened = r.x + r.w * 0.60f, x_due = r.x + r.w * 0.80f;
  // Heights first: the panel is drawn behind the rows.
  int groups = 0;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const int g = shown[i]->call_back_today ? 0 : shown[i]->state == "resolved" ? 2 : 1;
    const int prev = i == 0                              ? -1
                     : shown[i - 1]->call_back_today     ? 0
                     : shown[i - 1]->state == "resolved" ? 2
                                                         : 1;
    if (g != prev) ++groups;
  }
  const float body_h = shown.empty() ? 60 * s
                                     : static_cast<float>(groups) * head_h +
                                           static_cast<float>(shown.size()) * row_h + 12 * s;
  const float panel_h = 44 * s + body_h;
  p.Panel(UiRect{r.x, r.y, r.w, panel_h});
  p.Item("list:cases", UiRect{r.x, r.y, r.w, panel_h}, visible);
  p.Text(p.f.small, x_state, y + 14 * s, kMuted, p.T("col_state"));
  p.Text(p.f.small, x_loc, y + 14 * s, kMuted, p.T("location"));
  p.Text(p.f.small, x_score, y + 14 * s, kMuted, p.T("col_score"));
  p.Text(p.f.small, x_opened, y + 14 * s, kMuted, p.T("col_opened"));
  p.Text(p.f.small, x_due, y + 14 * s, kMuted, p.T("col_due"));
  y += 40 * s;
  if (shown.empty()) {
    p.Text(p.f.body, x_state, y + 12 * s, kMuted,
           cases.loaded() ? p.T("no_cases") : p.T("loading_cases"));
    return r.y + panel_h;
  }
  // A screen reader walks the list as a group of toggle buttons, one per case, read as a line.
  p.sem().BeginGroup(host::Role::kGroup, "list:cases", p.T("cases"), {r.x, y, r.w, 0});
  int last_group = -1;
  for (const CaseSummary* c : shown) {
    const int g = c->call_back_today ? 0 : c->state == "resolved" ? 2 : 1;
    if (g != last_group) {
      last_group = g;
      const char* key = g == 0 ? "call_back_today" : g == 1 ? "in_progress" : "resolved_group";
      p.dl->AddLine(ImVec2(r.x + 1, y), ImVec2(r.x + r.w - 1, y), kGrid, 1 * s);
      p.Text(p.f.body, x_state, y + (head_h - p.f.body->FontSize) / 2, g == 0 ? kBadText : kInk,
             p.T(key));
      p.sem().Text(std::string("cases:") + key, p.T(key), {x_state, y, r.w, head_h});
      y += head_h;
    }
    const UiRect row{r.x + 6 * s, y, r.w - 12 * s, row_h - 4 * s};
    bool hovered = false;
    std::string name = StateLabel(p, c->state) + ", " + c->location + ", " + ScoreLabel(*c) + ", " +
                       p.T("col_opened") + " " +
                       LocalTimeLabel(c->opened_ms, cases.utc_offset_min()) + ", " +
                       p.T("col_due") + " " + LocalTimeLabel(c->due_ms, cases.utc_offset_min());
    if (c->escalated_ms) name += ", " + std::string(p.T("escalated"));
    if (c->overdue) name += ", " + std::string(p.T("overdue"));
    if (p.Area("case:" + c->id, row, visible, &hovered, name, cases.selected() == c->id)) {
      if (cases.selected() == c->id) {
        cases.Deselect();
      } else {
        cases.Select(c->id);
      }
      *changed = true;
    }
    const bool selected = cases.selected() == c->id;
    const bool late = c->overdue || c->escalated_ms;
    ImU32 fill = selected ? kSelectedRow : late ? kLateRow : hovered ? kChip : kPanel;
    p.dl->AddRectFilled(ImVec2(row.x, row.y), ImVec2(row.x + row.w, row.y + row.h), fill, 6 * s);
    if (late) {
      p.dl->AddRectFilled(ImVec2(row.x, row.y), ImVec2(row.x + 4 * s, row.y + row.h), kBad, 2 * s);
    }
    const float ty = row.y + 8 * s, ty2 = ty + p.f.body->FontSize + 4 * s;
    p.Text(p.f.body, x_state, ty, StateColour(c->state), StateLabel(p, c->state));
    // One badge in the row (an escalated case was overdue); the case panel shows both.
    if (c->escalated_ms || c->overdue) {
      p.dl->PushClipRect(ImVec2(x_state, row.y), ImVec2(x_loc - 6 * s, row.y + row.h), true);
      Badge(p, x_state, ty2, kBadText, p.T(c->escalated_ms ? "escalated" : "overdue"));
      p.dl->PopClipRect();
    }
    p.dl->PushClipRect(ImVec2(x_loc, row.y), ImVec2(x_score - 8 * s, row.y + row.h), true);
    p.Text(p.f.body, x_loc, ty, kInk, c->location);
    p.Text(p.f.small, x_loc, ty2, kMuted, c->assignee.empty() ? p.T("unassigned") : c->assignee);
    p.dl->PopClipRect();
    p.Text(p.f.body, x_score, ty, kInk, ScoreLabel(*c));
    p.Text(p.f.small, x_score, ty2, kMuted, c->survey);
    p.Text(p.f.body, x_opened, ty, kInk, LocalTimeLabel(c->opened_ms, cases.utc_offset_min()));
    p.Text(p.f.body, x_due, ty, c->overdue ? kBadText : kInk,
           LocalTimeLabel(c->due_ms, cases.utc_offset_min()));
    y += row_h;
  }
  p.sem().EndGroup();
  return r.y + panel_h;
}

// The case open on screen: its facts, the contact details as the server sent them, the notes,
// the note field and the next step. Returns the bottom.
float DrawCaseDetail(Painter& p, CaseList& cases, UiRect r, const UiRect& visible, bool* changed) {
  const float s = p.s;
  const float x = r.x + 16 * s, right = r.x + r.w - 16 * s, w = right - x;
  float y = r.y + 14 * s;
  const std::optional<CaseDetail>& open = cases.open_case();
  // Drawn into a channel behind: the panel's height is known only at the end.
  p.dl->ChannelsSplit(2);
  p.dl->ChannelsSetCurrent(1);
  auto finish = [&](float bottom) {
    p.dl->ChannelsSetCurrent(0);
    p.Panel(UiRect{r.x, r.y, r.w, bottom - r.y});
    p.dl->ChannelsMerge();
    p.Item("panel:case", UiRect{r.x, r.y, r.w, bottom - r.y}, visible);
    return bottom;
  };
  if (cases.selected().empty() || !open) {
    const char* key = cases.selected().empty() ? "choose_case" : "opening";
    p.Text(p.f.body, x, y + 6 * s, kMuted, p.T(key));
    y += p.f.body->FontSize + 20 * s;
    if (!cases.error().empty()) {
      p.Text(p.f.small, x, y, kBadText, cases.error());
      y += p.f.small->FontSize + 14 * s;
    }
    return finish(y);
  }
  const CaseSummary& c = open->summary;
  const float cw = p.ChipWidth(p.T("close"));
  if (p.Button("case:close", UiRect{right - cw, y - 4 * s, cw, 28 * s}, p.T("close"), Look::kQuiet,
               visible)) {
    cases.Deselect();
    *changed = true;
    return finish(y + 30 * s);
  }
  p.Text(p.f.large, x, y, StateColour(c.state), StateLabel(p, c.state));
  float bx = x + p.Width(p.f.large, StateLabel(p, c.state)) + 10 * s;
  if (c.overdue) bx += Badge(p, bx, y + 2 * s, kBadText, p.T("overdue")) + 4 * s;
  if (c.escalated_ms) Badge(p, bx, y + 2 * s, kBadText, p.T("escalated"));
  y += p.f.large->FontSize + 8 * s;
  p.Text(p.f.body, x, y, kInk, c.location + "   " + ScoreLabel(c) + "   " + c.survey);
  y += p.f.body->FontSize + 4 * s;
  p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + 2 * p.f.small->FontSize + 8 * s), true);
  p.Text(p.f.small, x, y, kMuted,
         std::string(p.T("opened_at")) + " " + LocalTimeLabel(c.opened_ms, cases.utc_offset_min()) +
             "   " + p.T("due_at") + " " + LocalTimeLabel(c.due_ms, cases.utc_offset_min()) +
             "   " + (c.assignee.empty() ? std::string(p.T("unassigned")) : c.assignee));
  if (!c.category.empty()) {
    y += p.f.small->FontSize + 4 * s;
    p.Text(p.f.small, x, y, kMuted, std::string(p.T("root_cause")) + ": " + c.category);
  }
  p.dl->PopClipRect();
  y += p.f.small->FontSize + 14 * s;

  // The contact details: only what the server's answer holds, only while the case is open here.
  const float box_h = p.f.large->FontSize + p.f.small->FontSize + 26 * s;
  const UiRect box{x, y, w, box_h};
  p.dl->AddRectFilled(ImVec2(box.x, box.y), ImVec2(box.x + box.w, box.y + box.h), kContactBox,
                      6 * s);
  p.Text(p.f.small, x + 12 * s, y + 8 * s, kMuted, p.T("contact"));
  p.dl->PushClipRect(ImVec2(box.x, box.y), ImVec2(box.x + box.w - 8 * s, box.y + box.h), true);
  if (open->contact) {
    p.Text(p.f.large, x + 12 * s, y + 14 * s + p.f.small->FontSize, kInk, *open->contact);
  } else {
    p.Text(p.f.body, x + 12 * s, y + 14 * s + p.f.small->FontSize, kBadText,
           open->contact_error.empty() ? p.T("no_contact") : open->contact_error);
  }
  p.dl->PopClipRect();
  p.Item("case:contact", box, visible);
  y += box_h + 16 * s;

  // Assignment: staff take a case or give it back; managers and the owner pick anyone at the
  // location (the server's `assignees`).
  if (c.state != "resolved") {
    Flow flow(x, right, y, 28 * s, 6 * s);
    if (c.assignee != cases.me()) {
      if (p.Button("case:take", flow.Next(p.ChipWidth(p.T("take"))), p.T("take"),
                   cases.busy() ? Look::kDisabled : Look::kPlain, visible)) {
        cases.Assign(cases.me());
        *changed = true;
      }
    } else if (p.Button("case:give_back", flow.Next(p.ChipWidth(p.T("give_back"))),
                        p.T("give_back"), cases.busy() ? Look::kDisabled : Look::kPlain, visible)) {
      cases.Assign(std::nullopt);
      *changed = true;
    }
    if (!open->assignees.empty()) {
      const std::string label = std::string(p.T("assign_to")) + ":";
      const UiRect lr = flow.Next(p.Width(p.f.small, label) + 4 * s);
      p.Text(p.f.small, lr.x, lr.y + (lr.h - p.f.small->FontSize) / 2, kMuted, label);
      for (const std::string& name : open->assignees) {
        if (name == cases.me()) continue;
        if (p.Button("assign:" + name, flow.Next(p.ChipWidth(name)), name,
                     name == c.assignee ? Look::kSelected
                     : cases.busy()     ? Look::kDisabled
                                        : Look::kPlain,
                     visible) &&
            name != c.assignee) {
          cases.Assign(name);
          *changed = true;
        }
      }
    }
    y = flow.Bottom() + 16 * s;
  }

  // The note field: a real <input> is laid over this box by the page.
  const float field_h = 40 * s;
  const UiRect field{x, y, w, field_h};
  p.TextField("note", field, false, p.T("note_placeholder"), &visible);
  y += field_h + 10 * s;

  // The next step, as the server names it; root_cause_found needs a category from the list.
  if (open->next_state == "root_cause_found") {
    p.Text(p.f.small, x, y, kMuted, p.T("root_cause"));
    y += p.f.small->FontSize + 6 * s;
    Flow flow(x, right, y, 28 * s, 6 * s);
    for (const std::string& cat : cases.categories()) {
      if (p.Button("category:" + cat, flow.Next(p.ChipWidth(cat)), cat,
                   cat == cases.chosen_category() ? Look::kSelected : Look::kPlain, visible)) {
        cases.ChooseCategory(cat);
        *changed = true;
      }
    }
    y = flow.Bottom() + 10 * s;
  }
  {
    Flow flow(x, right, y, 34 * s, 8 * s);
    if (!open->next_state.empty()) {
      const std::string label = p.T(("next:" + open->next_state).c_str());
      if (p.Button("case:next", flow.Next(p.ChipWidth(label) + 12 * s), label,
                   cases.CanAdvance() ? Look::kSelected : Look::kDisabled, visible)) {
        cases.AdvanceState();
        *changed = true;
      }
    }
    if (p.Button("case:add_note", flow.Next(p.ChipWidth(p.T("add_note"))), p.T("add_note"),
                 cases.note_draft().empty() || cases.busy() ? Look::kDisabled : Look::kPlain,
                 visible)) {
      cases.AddNote();
      *changed = true;
    }
    y = flow.Bottom() + 8 * s;
  }
  const char* hint = cases.busy()               ? "sending"
                     : open->next_state.empty() ? "done"
                     : open->next_state == "root_cause_found" && !cases.CanAdvance()
                         ? "need_category"
                         : nullptr;
  if (hint) {
    p.Text(p.f.small, x, y, kMuted, p.T(hint));
    y += p.f.small->FontSize + 8 * s;
  }
  if (!cases.error().empty()) {
    p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + 60 * s), true);
    p.Text(p.f.small, x, y, kBadText, cases.error());
    p.dl->PopClipRect();
    y += p.f.small->FontSize + 8 * s;
  }
  y += 8 * s;

  // Notes, newest last (as the server keeps them).
  p.Text(p.f.body, x, y, kInk, p.T("notes"));
  y += p.f.body->FontSize + 8 * s;
  if (open->notes.empty()) {
    p.Text(p.f.small, x, y, kFaintText, p.T("no_notes"));
    y += p.f.small->FontSize + 8 * s;
  }
  for (const CaseNoteView& n : open->notes) {
    p.Text(p.f.small, x, y, kMuted,
           n.author + "  " + LocalTimeLabel(n.time_ms, cases.utc_offset_min()));
    y += p.f.small->FontSize + 2 * s;
    p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + p.f.body->FontSize + 4 * s), true);
    p.Text(p.f.body, x, y, kInk, n.text);
    p.dl->PopClipRect();
    y += p.f.body->FontSize + 10 * s;
  }
  return finish(y + 6 * s);
}

}  // namespace

// The follow-up view: list and case side by side on a wide screen, else one under the other.
float DrawCases(Painter& p, const Model& m, CaseList& cases, UiRect r, const UiRect& visible,
                bool* changed) {
  const float s = p.s, gap = 14 * s;
  // A case the location filter no longer shows is closed (its contact details wiped).
  if (!cases.selected().empty()) {
    bool shown = false;
    for (const CaseSummary* c : cases.Shown(m.filter().tags[0])) shown |= c->id == cases.selected();
    if (!shown && cases.loaded()) {
      cases.Deselect();
      *changed = true;
    }
  }
  const float rw = p.ChipWidth(p.T("refresh"));
  if (p.Button("cases:refresh", UiRect{r.x + r.w - rw, r.y - 44 * s, rw, 32 * s}, p.T("refresh"),
               Look::kQuiet, visible)) {
    cases.RequestList();
    *changed = true;
  }
  const bool side_by_side = r.w > 900 * s;
  if (side_by_side) {
    const float lw = (r.w - gap) * 0.56f;
    const float a = DrawCaseList(p, m, cases, UiRect{r.x, r.y, lw, 0}, visible, changed);
    const float b =
        DrawCaseDetail(p, cases, UiRect{r.x + lw + gap, r.y, r.w - lw - gap, 0}, visible, changed);
    return std::max(a, b) + gap;
  }
  const float a = DrawCaseList(p, m, cases, UiRect{r.x, r.y, r.w, 0}, visible, changed) + gap;
  return DrawCaseDetail(p, cases, UiRect{r.x, a, r.w, 0}, visible, changed) + gap;
}

}  // namespace canvass::dashboard::view
