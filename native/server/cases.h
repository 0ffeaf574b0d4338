// The closed loop (DESIGN.md §6): an unhappy customer who consented to a call back and left
// contact details opens a follow-up case for the staff of that location.
//
// - Rules, pure: which record opens a case (FindCaseTrigger, CaseFromRecord), the workflow
//   open -> contacted -> root_cause_found -> resolved (CheckTransition), the root-cause list.
// - CaseProjection: the "cases" projection (projector.h). It opens a case, and queues a
//   case.opened webhook event, once for every qualifying stored record — through the projection
//   queue, so exactly once across crashes and across servers sharing one PostgreSQL.
// - EscalateOverdue: the sweep that escalates each case past its due time once (case.escalated).
// - MakeCaseEvent / WriteCaseFields: the JSON of webhook events and of cases in the admin API.
//   Neither ever holds the contact details: only GET /v1/admin/cases/<id> opens them.
// Thread-safety: the free functions are pure or call the store (thread-safe); CaseProjection may
// be called from several threads (Projector::CatchUp), its survey cache has a lock of its own.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/record.h"
#include "canvass/status.h"
#include "canvass/survey.h"
#include "projector.h"
#include "store.h"

namespace canvass::server {

enum class CaseState { kOpen, kContacted, kRootCauseFound, kResolved };
const char* CaseStateName(CaseState state);  // "open", "contacted", "root_cause_found", "resolved"
std::optional<CaseState> ParseCaseState(std::string_view name);

// OK if a case in `from` may go to `to`: only the next state, never back, never skipping one, and
// root_cause_found only with a category. Conflict (or InvalidArgument for the missing category)
// with a message that names the allowed next step.
Status CheckTransition(CaseState from, CaseState to, bool has_category);

// The answer that makes a response a case.
struct CaseTrigger {
  std::string question;
  MetricRole metric = MetricRole::kNone;
  std::int32_t score = 0;
  std::int32_t scale_min = 0;
  std::int32_t scale_max = 0;
};

// True for a low score: below the neutral band of metrics::DefaultCutPoints(min, max) — the
// critics of docs/metrics.md §6, which on 0..10 are NPS's detractors 0-6 (1-3 on 1..5 and 1..7).
// False for a point outside the scale.
bool IsLowScore(std::int32_t score, std::int32_t scale_min, std::int32_t scale_max);

// The rule (docs/protocol.md, "Cases"): the first question in survey order with the metric role
// nps, csat or ces whose answer is a low score, provided that a contact question was answered
// with consent and the record carries the sealed contact details. nullopt otherwise.
std::optional<CaseTrigger> FindCaseTrigger(const Survey& survey, const ResponseRecord& record);

// The case `record` opens (state open, due stored_ms + sla_ms), or nullopt. `location` is where
// it belongs (the record's location tag, or the device's).
std::optional<CaseRow> CaseFromRecord(const Survey& survey, const ResponseRecord& record,
                                      const std::string& location, std::int64_t stored_ms,
                                      std::int64_t sla_ms);

// "<device_id>.<seq>": one case per record at most.
std::string CaseId(const std::string& device_id, std::uint64_t seq);

// Root-cause categories: the owner's list (settings key kCategoriesSetting, a JSON array of
// strings), or the defaults when none was saved.
inline constexpr char kCategoriesSetting[] = "case_categories";
std::vector<std::string> DefaultCategories();
// The list in a settings value or a request body: 1-100 distinct strings of 1-64 bytes without
// control characters. InvalidArgument saying what is wrong otherwise.
Result<std::vector<std::string>> ParseCategories(std::string_view json);
std::string CategoriesJson(const std::vector<std::string>& categories);

// Webhook events. `by` is the user who made the change (state_changed, note_added, assigned),
// `from` the state before (state_changed), `managers` who are told (escalated).
struct CaseEventDetail {
  std::string by;
  std::string from;
  std::vector<std::string> managers;
};
CaseEvent MakeCaseEvent(const std::string& type, const CaseRow& c, std::int64_t time_ms,
                        const CaseEventDetail& detail = {});

// The keys of a case object (no contact details, no notes), for the API and events.
void WriteCaseFields(rapidjson::Writer<rapidjson::StringBuffer>& w, const CaseRow& c,
                     std::int64_t now_ms);

class CaseProjection : public Projection {
 public:
  static constexpr char kName[] = "cases";
  CaseProjection(ServerStore* store, std::int64_t sla_ms) : store_(store), sla_ms_(sla_ms) {}
  std::string Name() const override { return kName; }
  // Loads the survey definitions published since the last call.
  Status Prepare() override;
  // Decodes the records and keeps those that open a case.
  Status Digest(const std::vector<StoredRecord>& records) override;
  // Opens their cases (once each) and queues the case.opened events.
  Status Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) override;
  void Committed() override;  // logs the cases the last Apply opened

 private:
  // A record that opens a case, found by Digest for the Apply of the same records.
  struct Trigger {
    const StoredRecord* stored;
    ResponseRecord record;
    std::shared_ptr<const Survey> survey;
  };
  // The definition a record was made under, else the latest of its survey id (a version
  // published on another server after Prepare ran), else null.
  std::shared_ptr<const Survey> SurveyOf(const ResponseRecord& record) const;

  ServerStore* store_;
  std::int64_t sla_ms_;
  std::string digested_;  // which batch `triggers_` is for (BatchName), "" for none
  std::vector<Trigger> triggers_;
  std::vector<CaseRow> opened_;  // by the last Apply, for Committed (no contact details logged)
  // Never held while calling the store: Apply runs under the store's transaction.
  mutable std::mutex mu_;
  std::map<Hash256, std::shared_ptr<const Survey>> by_version_;
  std::map<std::string, std::shared_ptr<const Survey>> latest_;
};

// Escalates every case that is past due, not resolved and not escalated yet: sets escalated_ms
// and queues a case.escalated event naming the location's managers. Each case once, also with
// several servers sweeping (ChangeCase re-checks under the row lock). Returns how many.
Result<std::uint32_t> EscalateOverdue(ServerStore* store, std::int64_t now_ms);

}  // namespace canvass::server
