#include "cases.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <set>

#include "canvass/interchange.h"
#include "canvass/metrics.h"
#include "log.h"
#include "users.h"

namespace canvass::server {
namespace {

using Json = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr CaseState kOrder[] = {CaseState::kOpen, CaseState::kContacted, CaseState::kRootCauseFound,
                                CaseState::kResolved};
constexpr std::uint32_t kMaxCategories = 100;
constexpr std::size_t kMaxCategoryBytes = 64;
constexpr std::uint32_t kEscalationBatch = 100;

void Str(Json& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void OptionalInt(Json& w, const std::optional<std::int64_t>& v) {
  if (v) {
    w.Int64(*v);
  } else {
    w.Null();
  }
}

}  // namespace

const char* CaseStateName(CaseState state) {
  switch (state) {
    case CaseState::kOpen:
      return "open";
    case CaseState::kContacted:
      return "contacted";
    case CaseState::kRootCauseFound:
      return "root_cause_found";
    case CaseState::kResolved:
      return "resolved";
  }
  return "open";
}

std::optional<CaseState> ParseCaseState(std::string_view name) {
  for (CaseState s : kOrder) {
    if (name == CaseStateName(s)) return s;
  }
  return std::nullopt;
}

Status CheckTransition(CaseState from, CaseState to, bool has_category) {
  const int f = static_cast<int>(from), t = static_cast<int>(to);
  const std::string here = std::string("the case is ") + CaseStateName(from);
  if (from == CaseState::kResolved) {
    return Status::Conflict(here + ": nothing follows resolved (add a note instead)");
  }
  const std::string next = CaseStateName(kOrder[f + 1]);
  if (t == f) return Status::Conflict(here + " already; the next state is " + next);
  if (t < f) {
    return Status::Conflict(here + " and cannot go back to " + CaseStateName(to) +
                            "; the next state is " + next);
  }
  if (t > f + 1) {
    return Status::Conflict(here +
                            ": states go open -> contacted -> root_cause_found -> "
                            "resolved one step at a time, so the next state is " +
                            next + ", not " + CaseStateName(to));
  }
  if (to == CaseState::kRootCauseFound && !has_category) {
    return Status::InvalidArgument(
        "category: name the root cause (one of GET /v1/admin/case-categories) to reach "
        "root_cause_found");
  }
  return Status::Ok();
}

bool IsLowScore(std::int32_t score, std::int32_t scale_min, std::int32_t scale_max) {
  if (!metrics::ScaleCounts::IsValidScale(scale_min, scale_max)) return false;
  if (score < scale_min || score > scale_max) return false;
  return score < metrics::DefaultCutPoints(scale_min, scale_max).neutral_min;
}

std::optional<CaseTrigger> FindCaseTrigger(const Survey& survey, const ResponseRecord& record) {
  if (!record.sealed_contact || record.sealed_contact->empty()) return std::nullopt;
  bool consent = false;
  for (const Question& q : survey.questions) {
    if (q.kind != QuestionKind::kContact) continue;
    auto it = record.answers.find(q.id);
    if (it == record.answers.end()) continue;
    const auto* contact = std::get_if<ContactAnswer>(&it->second);
    if (contact && contact->consent) consent = true;
  }
  if (!consent) return std::nullopt;
  for (const Question& q : survey.questions) {
    if (q.metric != MetricRole::kNps && q.metric != MetricRole::kCsat &&
        q.metric != MetricRole::kCes) {
      continue;
    }
    auto it = record.answers.find(q.id);
    if (it == record.answers.end()) continue;
    const auto* scale = std::get_if<ScaleAnswer>(&it->second);
    if (scale && IsLowScore(scale->value, q.scale.min, q.scale.max)) {
      return CaseTrigger{q.id, q.metric, scale->value, q.scale.min, q.scale.max};
    }
  }
  return std::nullopt;
}

std::string CaseId(const std::string& device_id, std::uint64_t seq) {
  return device_id + "." + std::to_string(seq);
}

std::optional<CaseRow> CaseFromRecord(const Survey& survey, const ResponseRecord& record,
                                      const std::string& location, std::int64_t stored_ms,
                                      std::int64_t sla_ms) {
  std::optional<CaseTrigger> trigger = FindCaseTrigger(survey, record);
  if (!trigger) return std::nullopt;
  CaseRow c;
  c.case_id = CaseId(record.device_id, record.seq);
  c.device_id = record.device_id;
  c.seq = record.seq;
  c.survey_id = record.survey_id;
  c.location = location;
  c.question = trigger->question;
  c.metric = MetricRoleName(trigger->metric);
  c.score = trigger->score;
  c.scale_min = trigger->scale_min;
  c.scale_max = trigger->scale_max;
  c.state = CaseStateName(CaseState::kOpen);
  c.sealed_contact = *record.sealed_contact;
  c.responded_ms = record.device_time_ms;
  c.opened_ms = stored_ms;
  c.due_ms = stored_ms + sla_ms;
  c.updated_ms = stored_ms;
  c.revision = 1;
  return c;
}

std::vector<std::string> DefaultCategories() {
  return {"price", "staff", "product quality", "wait time", "cleanliness", "other"};
}

Result<std::vector<std::string>> ParseCategories(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  const rapidjson::Value* list = &doc;
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("categories")) {
    list = &doc["categories"];
  }
  if (doc.HasParseError() || !list->IsArray()) {
    return Status::InvalidArgument(
        R"(categories: send {"categories": ["price", "staff", ...]}, a list of strings)");
  }
  if (list->Size() == 0 || list->Size() > kMaxCategories) {
    return Status::InvalidArgument("categories: 1 to " + std::to_string(kMaxCategories) +
                                   " entries");
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& v : list->GetArray()) {
    if (!v.IsString()) return Status::InvalidArgument("categories: every entry is a string");
    std::string c(v.GetString(), v.GetStringLength());
    const bool control = std::any_of(c.begin(), c.end(), [](char ch) {
      return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (c.empty() || c.size() > kMaxCategoryBytes || control || !IsStorableText(c)) {
      return Status::InvalidArgument("categories: '" + c + "' must be 1 to " +
                                     std::to_string(kMaxCategoryBytes) +
                                     " bytes of text without control characters");
    }
    if (!seen.insert(c).second) {
      return Status::InvalidArgument("categories: '" + c + "' is listed twice");
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string CategoriesJson(const std::vector<std::string>& categories) {
  rapidjson::StringBuffer buf;
  Json w(buf);
  w.StartArray();
  for (const std::string& c : categories) Str(w, c);
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

void WriteCaseFields(Json& w, const CaseRow& c, std::int64_t now_ms) {
  w.Key("id");
  Str(w, c.case_id);
  w.Key("location");
  Str(w, c.location);
  w.Key("survey");
  Str(w, c.survey_id);
  w.Key("device");
  Str(w, c.device_id);
  w.Key("seq");
  w.Uint64(c.seq);
  w.Key("question");
  Str(w, c.question);
  w.Key("metric");
  Str(w, c.metric);
  w.Key("score");
  w.Int(c.score);
  w.Key("scale");
  w.StartArray();
  w.Int(c.scale_min);
  w.Int(c.scale_max);
  w.EndArray();
  w.Key("state");
  Str(w, c.state);
  w.Key("category");
  if (c.category.empty()) {
    w.Null();
  } else {
    Str(w, c.category);
  }
  w.Key("assignee");
  if (c.assignee.empty()) {
    w.Null();
  } else {
    Str(w, c.assignee);
  }
  w.Key("has_contact");
  w.Bool(!c.sealed_contact.empty());
  w.Key("responded_ms");
  w.Int64(c.responded_ms);
  w.Key("opened_ms");
  w.Int64(c.opened_ms);
  w.Key("due_ms");
  w.Int64(c.due_ms);
  w.Key("overdue");
  w.Bool(c.state != CaseStateName(CaseState::kResolved) && c.due_ms <= now_ms);
  w.Key("escalated_ms");
  OptionalInt(w, c.escalated_ms);
  w.Key("resolved_ms");
  OptionalInt(w, c.resolved_ms);
  w.Key("updated_ms");
  w.Int64(c.updated_ms);
  w.Key("revision");
  w.Uint(c.revision);
}

CaseEvent MakeCaseEvent(const std::string& type, const CaseRow& c, std::int64_t time_ms,
                        const CaseEventDetail& detail) {
  CaseEvent e;
  e.event_id = c.case_id + "/" + std::to_string(c.revision);
  e.type = type;
  e.case_id = c.case_id;
  e.created_ms = time_ms;
  rapidjson::StringBuffer buf;
  Json w(buf);
  w.StartObject();
  w.Key("id");
  Str(w, e.event_id);
  w.Key("type");
  Str(w, type);
  w.Key("time_ms");
  w.Int64(time_ms);
  if (!detail.by.empty()) {
    w.Key("by");
    Str(w, detail.by);
  }
  if (!detail.from.empty()) {
    w.Key("from");
    Str(w, detail.from);
  }
  if (type == "case.escalated") {
    w.Key("managers");
    w.StartArray();
    for (const std::string& m : detail.managers) Str(w, m);
    w.EndArray();
  }
  w.Key("case");
  w.StartObject();
  WriteCaseFields(w, c, time_ms);
  w.EndObject();
  w.EndObject();
  e.body.assign(buf.GetString(), buf.GetSize());
  return e;
}

Status CaseProjection::Prepare() {
  Result<std::vector<SurveyRow>> all = store_->ListSurveys();
  if (!all.ok()) return all.status();
  std::lock_guard lock(mu_);
  for (const SurveyRow& row : *all) {  // oldest first: the last of an id is its latest
    auto& known = by_version_[row.version];
    if (!known) {
      Result<Survey> parsed = ParseSurvey(row.definition);
      if (!parsed.ok()) continue;  // was valid when published; a newer format this build lacks
      known = std::make_shared<const Survey>(std::move(*parsed));
    }
    latest_[row.survey_id] = known;
  }
  return Status::Ok();
}

std::shared_ptr<const Survey> CaseProjection::SurveyOf(const ResponseRecord& record) const {
  std::lock_guard lock(mu_);
  if (auto it = by_version_.find(record.survey_version); it != by_version_.end() && it->second) {
    return it->second;
  }
  if (auto it = latest_.find(record.survey_id); it != latest_.end()) return it->second;
  return nullptr;
}

Status CaseProjection::Digest(const std::vector<StoredRecord>& records) {
  triggers_.clear();
  for (const StoredRecord& stored : records) {
    // A record that does not decode or does not qualify is skipped, never an error: the queue
    // must keep moving.
    Result<ResponseRecord> record = DecodeStoredRecord(stored);
    if (!record.ok()) continue;
    std::shared_ptr<const Survey> survey = SurveyOf(*record);
    if (!survey || !FindCaseTrigger(*survey, *record)) continue;
    if (!IsStorableText(record->survey_id) || !IsStorableText(record->device_id)) continue;
    triggers_.push_back({&stored, std::move(*record), std::move(survey)});
  }
  digested_ = BatchName(records);
  return Status::Ok();
}

Status CaseProjection::Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) {
  // The store hands Apply the records it gave Digest; anything else is digested here.
  if (digested_.empty() || digested_ != BatchName(records)) {
    if (Status s = Digest(records); !s.ok()) return s;
  }
  digested_.clear();  // this Apply uses it up (a retried transaction digests again)
  opened_.clear();
  for (const Trigger& t : triggers_) {
    const ResponseRecord& record = t.record;
    // The device's location, never the record's own tag (DESIGN §5).
    std::string location = t.stored->location;
    if (location.empty()) {
      Result<std::string> enrolled = DeviceRegistry::Location(txn.sql(), t.stored->device_id);
      if (!enrolled.ok()) return enrolled.status();
      location = *enrolled;
    }
    std::optional<CaseRow> c =
        CaseFromRecord(*t.survey, record, location, t.stored->stored_ms, sla_ms_);
    if (!c) continue;
    Result<bool> added = CaseStore::Open(txn.sql(), *c);
    if (!added.ok()) return added.status();
    if (!*added) continue;  // opened already
    opened_.push_back(*c);
    if (Status s = WebhookOutbox::Enqueue(txn.sql(),
                                          MakeCaseEvent("case.opened", *c, t.stored->stored_ms));
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

void CaseProjection::Committed() {
  for (const CaseRow& c : opened_) {
    Log(LogLevel::kInfo, "case opened",
        {{"case", c.case_id},
         {"location", c.location},
         {"survey", c.survey_id},
         {"score", std::to_string(c.score)},
         {"due", FormatIsoTime(c.due_ms)}});
  }
  opened_.clear();
}

Result<std::uint32_t> EscalateOverdue(ServerStore* store, std::int64_t now_ms) {
  CaseFilter due;
  due.overdue_at = now_ms;
  due.escalated = false;
  due.limit = kEscalationBatch;
  Result<std::vector<CaseRow>> cases = store->ListCases(due);
  if (!cases.ok()) return cases.status();
  if (cases->empty()) return 0u;
  Result<std::vector<UserRow>> users = store->ListUsers();
  if (!users.ok()) return users.status();
  std::uint32_t escalated = 0;
  for (const CaseRow& found : *cases) {
    CaseEventDetail detail;
    for (const UserRow& u : *users) {
      const bool here =
          std::find(u.locations.begin(), u.locations.end(), found.location) != u.locations.end();
      if (u.role == RoleName(Role::kManager) && here) detail.managers.push_back(u.name);
    }
    bool changed = false;
    Result<CaseRow> done = store->ChangeCase(found.case_id, [&](CaseRow& c) -> Result<CaseChange> {
      CaseChange change;
      changed = false;
      if (c.escalated_ms || c.state == CaseStateName(CaseState::kResolved) || c.due_ms > now_ms) {
        return change;  // another server escalated it, or it moved on meanwhile
      }
      c.escalated_ms = now_ms;
      c.updated_ms = now_ms;
      ++c.revision;
      change.changed = changed = true;
      change.events.push_back(MakeCaseEvent("case.escalated", c, now_ms, detail));
      return change;
    });
    if (!done.ok()) return done.status();
    if (changed) ++escalated;
  }
  return escalated;
}

}  // namespace canvass::server
