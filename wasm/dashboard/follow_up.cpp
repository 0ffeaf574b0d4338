#include "follow_up.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>

#include "canvass/crypto.h"
#include "model.h"

namespace canvass::dashboard {
namespace {

constexpr std::int64_t kDayMs = 86400000;

std::string Str(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::int64_t Int(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

std::optional<std::int64_t> OptionalInt(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

bool Bool(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::vector<std::string> Strings(const rapidjson::Value& o, const char* key) {
  std::vector<std::string> out;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

Result<rapidjson::Document> Parse(std::string_view json, const char* what) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::Corruption(std::string(what) + ": the server's answer is not a JSON object");
  }
  return doc;
}

CaseSummary SummaryOf(const rapidjson::Value& c) {
  CaseSummary s;
  s.id = Str(c, "id");
  s.location = Str(c, "location");
  s.survey = Str(c, "survey");
  s.question = Str(c, "question");
  s.metric = Str(c, "metric");
  s.state = Str(c, "state");
  s.category = Str(c, "category");
  s.assignee = Str(c, "assignee");
  s.score = static_cast<std::int32_t>(Int(c, "score"));
  auto scale = c.FindMember("scale");
  if (scale != c.MemberEnd() && scale->value.IsArray() && scale->value.Size() == 2 &&
      scale->value[0].IsInt() && scale->value[1].IsInt()) {
    s.scale_min = scale->value[0].GetInt();
    s.scale_max = scale->value[1].GetInt();
  }
  s.responded_ms = Int(c, "responded_ms");
  s.opened_ms = Int(c, "opened_ms");
  s.due_ms = Int(c, "due_ms");
  s.updated_ms = Int(c, "updated_ms");
  s.escalated_ms = OptionalInt(c, "escalated_ms");
  s.resolved_ms = OptionalInt(c, "resolved_ms");
  s.overdue = Bool(c, "overdue");
  s.revision = static_cast<std::uint32_t>(Int(c, "revision"));
  return s;
}

void Wipe(std::string* s) {
  if (!s->empty()) SecureWipe(s->data(), static_cast<std::uint32_t>(s->size()));
  s->clear();
}

}  // namespace

CaseList::~CaseList() { WipeOpen(); }

void CaseList::WipeOpen() {
  if (open_ && open_->contact) Wipe(&*open_->contact);
  open_.reset();
}

Status CaseList::SetMe(std::string_view json) {
  Result<rapidjson::Document> doc = Parse(json, "GET /v1/admin/me");
  if (!doc.ok()) return doc.status();
  me_ = Str(*doc, "name");
  role_ = Str(*doc, "role");
  return Status::Ok();
}

Status CaseList::SetCategories(std::string_view json) {
  Result<rapidjson::Document> doc = Parse(json, "GET /v1/admin/case-categories");
  if (!doc.ok()) return doc.status();
  categories_ = Strings(*doc, "categories");
  return Status::Ok();
}

Status CaseList::SetList(std::string_view json, std::int32_t utc_offset_min) {
  Result<rapidjson::Document> doc = Parse(json, "GET /v1/admin/cases");
  if (!doc.ok()) return doc.status();
  auto list = doc->FindMember("cases");
  if (list == doc->MemberEnd() || !list->value.IsArray()) {
    return Status::Corruption("GET /v1/admin/cases: no \"cases\" list in the answer");
  }
  now_ms_ = Int(*doc, "now_ms");
  utc_offset_min_ = utc_offset_min;
  // The end of the viewer's day, in UTC ms.
  const std::int64_t offset_ms = std::int64_t{utc_offset_min} * 60000;
  const std::int64_t local = now_ms_ + offset_ms;
  const std::int64_t day = CubeDayOf(local);
  const std::int64_t day_end = (day + 1) * kDayMs - offset_ms;
  std::vector<CaseSummary> cases;
  for (const auto& c : list->value.GetArray()) {
    if (!c.IsObject()) continue;
    CaseSummary s = SummaryOf(c);
    s.call_back_today = s.state == "open" && s.due_ms < day_end;
    cases.push_back(std::move(s));
  }
  // The server sends the most urgent (earliest due) first; the groups keep that order.
  auto group = [](const CaseSummary& s) {
    if (s.call_back_today) return 0;
    return s.state == "resolved" ? 2 : 1;
  };
  std::stable_sort(cases.begin(), cases.end(), [&](const CaseSummary& a, const CaseSummary& b) {
    if (group(a) != group(b)) return group(a) < group(b);
    if (group(a) == 2) return a.resolved_ms.value_or(0) > b.resolved_ms.value_or(0);
    return a.due_ms < b.due_ms;
  });
  cases_ = std::move(cases);
  loaded_ = true;
  if (open_) {
    for (const CaseSummary& listed : cases_) {
      if (listed.id == open_->summary.id) open_->summary.call_back_today = listed.call_back_today;
    }
  }
  return Status::Ok();
}

std::vector<const CaseSummary*> CaseList::Shown(const std::string& location) const {
  std::vector<const CaseSummary*> out;
  for (const CaseSummary& c : cases_) {
    if (location.empty() || c.location == location) out.push_back(&c);
  }
  return out;
}

Status CaseList::SetCase(std::string_view json) {
  Result<rapidjson::Document> doc = Parse(json, "GET /v1/admin/cases/<id>");
  if (!doc.ok()) return doc.status();
  CaseDetail d;
  d.summary = SummaryOf(*doc);
  if (d.summary.id.empty()) return Status::Corruption("the case has no id");
  if (d.summary.id != selected_) return Status::Ok();  // another was opened meanwhile
  d.next_state = Str(*doc, "next_state");
  auto contact = doc->FindMember("contact");
  if (contact != doc->MemberEnd() && contact->value.IsString()) {
    d.contact = std::string(contact->value.GetString(), contact->value.GetStringLength());
  }
  d.contact_error = Str(*doc, "contact_error");
  auto notes = doc->FindMember("notes");
  if (notes != doc->MemberEnd() && notes->value.IsArray()) {
    for (const auto& n : notes->value.GetArray()) {
      if (n.IsObject()) d.notes.push_back({Str(n, "author"), Int(n, "time_ms"), Str(n, "text")});
    }
  }
  d.assignees = Strings(*doc, "assignees");
  for (const CaseSummary& listed : cases_) {
    if (listed.id == d.summary.id) d.summary.call_back_today = listed.call_back_today;
  }
  WipeOpen();
  if (!d.summary.category.empty() && category_.empty()) category_ = d.summary.category;
  open_ = std::move(d);
  return Status::Ok();
}

bool CaseList::Ask(CaseRequest request) {
  if (busy_ || pending_.kind != CaseRequest::Kind::kNone) return false;
  pending_ = std::move(request);
  busy_ = true;
  error_.clear();
  return true;
}

bool CaseList::Select(const std::string& id) {
  if (busy_ || id == selected_) return false;
  WipeOpen();
  selected_ = id;
  category_.clear();
  note_.clear();
  CaseRequest r;
  r.kind = CaseRequest::Kind::kOpen;
  r.id = id;
  return Ask(std::move(r));
}

void CaseList::Deselect() {
  WipeOpen();
  selected_.clear();
  category_.clear();
  note_.clear();
  error_.clear();
}

bool CaseList::RequestList() {
  if (list_wanted_) return false;
  list_wanted_ = true;
  return true;
}

bool CaseList::CanAdvance() const {
  if (!open_ || open_->next_state.empty() || busy_) return false;
  if (open_->next_state == "root_cause_found") return !category_.empty();
  return true;
}

bool CaseList::AdvanceState() {
  if (!CanAdvance()) return false;
  CaseRequest r;
  r.kind = CaseRequest::Kind::kState;
  r.id = open_->summary.id;
  r.state = open_->next_state;
  if (r.state == "root_cause_found" ||
      (!category_.empty() && category_ != open_->summary.category)) {
    r.category = category_;
  }
  r.note = note_;
  return Ask(std::move(r));
}

bool CaseList::AddNote() {
  if (!open_ || note_.empty()) return false;
  CaseRequest r;
  r.kind = CaseRequest::Kind::kNote;
  r.id = open_->summary.id;
  r.note = note_;
  return Ask(std::move(r));
}

bool CaseList::Assign(std::optional<std::string> assignee) {
  if (!open_ || open_->summary.state == "resolved") return false;
  CaseRequest r;
  r.kind = CaseRequest::Kind::kAssign;
  r.id = open_->summary.id;
  r.assignee = std::move(assignee);
  return Ask(std::move(r));
}

CaseRequest CaseList::TakeRequest() {
  if (pending_.kind != CaseRequest::Kind::kNone) {
    CaseRequest out = std::move(pending_);
    pending_ = CaseRequest{};
    return out;
  }
  if (list_wanted_) {
    list_wanted_ = false;
    CaseRequest out;
    out.kind = CaseRequest::Kind::kList;
    return out;
  }
  return CaseRequest{};
}

void CaseList::Done(bool ok, const std::string& error) {
  busy_ = false;
  if (ok) {
    note_.clear();
    error_.clear();
  } else {
    error_ = error;
  }
}

void CaseList::ListFailed(const std::string& error) { error_ = error; }

std::string LocalTimeLabel(std::int64_t ms, std::int32_t utc_offset_min) {
  const std::int64_t local = ms + std::int64_t{utc_offset_min} * 60000;
  const std::int64_t day = CubeDayOf(local);
  const std::int64_t in_day = local - day * kDayMs;
  char buf[16];
  std::snprintf(buf, sizeof buf, " %02d:%02d", static_cast<int>(in_day / 3600000),
                static_cast<int>(in_day / 60000 % 60));
  return DayLabel(day) + buf;
}

}  // namespace canvass::dashboard
