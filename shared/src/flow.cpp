#include "canvass/flow.h"

#include <algorithm>
#include <numeric>

namespace canvass {
namespace {

bool ValueMatches(const std::variant<std::int32_t, std::string>& want, const AnswerValue& have) {
  if (const auto* n = std::get_if<std::int32_t>(&want)) {
    if (const auto* s = std::get_if<ScaleAnswer>(&have)) return s->value == *n;
    if (const auto* c = std::get_if<CsiAnswer>(&have)) return c->satisfaction == *n;
    return false;
  }
  const std::string& text = std::get<std::string>(want);
  if (const auto* c = std::get_if<ChoiceAnswer>(&have)) {
    return std::find(c->ids.begin(), c->ids.end(), text) != c->ids.end();
  }
  if (const auto* t = std::get_if<TextAnswer>(&have)) return t->text == text;
  return false;
}

}  // namespace

bool ConditionHolds(const Condition& condition, const Answers& answers) {
  auto it = answers.find(condition.question);
  if (it == answers.end()) return false;
  const AnswerValue& have = it->second;
  switch (condition.op) {
    case Condition::Op::kEquals:
    case Condition::Op::kIn:
      return std::any_of(condition.values.begin(), condition.values.end(),
                         [&](const auto& want) { return ValueMatches(want, have); });
    case Condition::Op::kRange: {
      std::int32_t v;
      if (const auto* s = std::get_if<ScaleAnswer>(&have)) {
        v = s->value;
      } else if (const auto* c = std::get_if<CsiAnswer>(&have)) {
        v = c->satisfaction;
      } else {
        return false;
      }
      return v >= condition.low && v <= condition.high;
    }
  }
  return false;
}

FlowSession::FlowSession(const Survey& survey, std::vector<int> plan)
    : survey_(&survey), plan_(std::move(plan)) {
  int first = NextVisible(0);
  if (first < 0) {
    finished_ = true;
  } else {
    path_.push_back(static_cast<std::size_t>(first));
  }
}

FlowSession FlowSession::Series(const Survey& survey) {
  std::vector<int> plan(survey.questions.size());
  std::iota(plan.begin(), plan.end(), 0);
  return FlowSession(survey, std::move(plan));
}

Result<FlowSession> FlowSession::Single(const Survey& survey, const std::string& question_id) {
  int index = survey.FindQuestion(question_id);
  if (index < 0) return Status::NotFound("no question '" + question_id + "' in " + survey.id);
  return FlowSession(survey, {index});
}

bool FlowSession::Visible(int index) const {
  const Question& q = survey_->questions[static_cast<std::size_t>(index)];
  return !q.show_if || ConditionHolds(*q.show_if, answers_);
}

int FlowSession::NextVisible(std::size_t plan_pos) const {
  for (std::size_t i = plan_pos; i < plan_.size(); ++i) {
    if (Visible(plan_[i])) return static_cast<int>(i);
  }
  return -1;
}

const Question* FlowSession::Current() const {
  if (finished_ || path_.empty()) return nullptr;
  return &survey_->questions[static_cast<std::size_t>(plan_[path_.back()])];
}

void FlowSession::Advance() {
  const int next = NextVisible(path_.back() + 1);
  if (next < 0) {
    finished_ = true;
  } else {
    path_.push_back(static_cast<std::size_t>(next));
  }
}

Status FlowSession::Answer(AnswerValue value) {
  const Question* q = Current();
  if (!q) return Status::InvalidArgument("the survey has no question left to answer");
  Status s = ValidateAnswer(*q, value);
  if (!s.ok()) return s;
  answers_[q->id] = std::move(value);
  Advance();
  return Status::Ok();
}

Status FlowSession::Skip() {
  const Question* q = Current();
  if (!q) return Status::InvalidArgument("the survey has no question left to skip");
  if (q->required) return Status::InvalidArgument("question '" + q->id + "' needs an answer");
  answers_.erase(q->id);
  Advance();
  return Status::Ok();
}

bool FlowSession::Back() {
  if (finished_) {
    if (path_.empty()) return false;
    finished_ = false;  // back to the last question shown
    return true;
  }
  if (path_.size() <= 1) return false;
  path_.pop_back();
  return true;
}

Answers FlowSession::FinalAnswers() const {
  // Walk the plan in order: a question counts only if visible given the answers kept so far.
  Answers kept;
  for (int index : plan_) {
    const Question& q = survey_->questions[static_cast<std::size_t>(index)];
    if (q.show_if && !ConditionHolds(*q.show_if, kept)) continue;
    auto it = answers_.find(q.id);
    if (it != answers_.end()) kept.insert(*it);
  }
  return kept;
}

bool FlowSession::IsComplete() const {
  if (!finished_) return false;
  Answers kept = FinalAnswers();
  for (int index : plan_) {
    const Question& q = survey_->questions[static_cast<std::size_t>(index)];
    if (q.show_if && !ConditionHolds(*q.show_if, kept)) continue;
    if (q.required && !kept.count(q.id)) return false;
  }
  return true;
}

Outcome FlowSession::OutcomeIfLeftNow() const {
  if (IsComplete()) return Outcome::kCompleted;
  return FinalAnswers().empty() ? Outcome::kIgnored : Outcome::kPartial;
}

int FlowSession::EstimatedTotal() const {
  int total = 0;
  for (int index : plan_) total += Visible(index) ? 1 : 0;
  return total;
}

const std::string& RotationPicker::Next(const std::vector<std::string>& pool) {
  const std::uint64_t k = pool.size();
  const std::uint64_t round = draws_ / k, position = draws_ % k;
  // Fisher-Yates over indices with this round's seed: a fresh permutation per round.
  std::vector<std::uint32_t> order(pool.size());
  std::iota(order.begin(), order.end(), 0u);
  SplitMix64 rng(MixSeed(seed_, round));
  for (std::uint64_t i = k - 1; i > 0; --i) {
    std::uint64_t j = rng.Below(i + 1);
    std::swap(order[i], order[j]);
  }
  ++draws_;
  return pool[order[position]];
}

bool Sampler::ShouldOffer(const Sampling& sampling) {
  const std::uint64_t visit = visits_++;
  switch (sampling.mode) {
    case Sampling::Mode::kEvery:
      return true;
    case Sampling::Mode::kEveryKth:
      return visit % sampling.k == 0;
    case Sampling::Mode::kProbability:
      return rng_.Next53() < sampling.threshold53;
  }
  return true;
}

bool FrequencyCapAllows(const Sampling& sampling, std::int64_t now_ms,
                        std::optional<std::int64_t> last_ms) {
  if (!last_ms || sampling.cap_days == 0) return true;
  const std::int64_t window = static_cast<std::int64_t>(sampling.cap_days) * 86400000;
  return now_ms - *last_ms >= window;
}

ResponseRecord BuildRecord(const Survey& survey, const Hash256& survey_version,
                           const FlowSession& session, Outcome outcome, std::int64_t time_ms,
                           const std::map<std::string, std::string>& tags,
                           const PublicKey& organisation_box_key) {
  ResponseRecord r;
  r.survey_id = survey.id;
  r.survey_version = survey_version;
  r.device_time_ms = time_ms;
  r.outcome = outcome;
  r.tags = tags;
  r.answers = session.FinalAnswers();
  for (auto& [id, value] : r.answers) {
    if (auto* contact = std::get_if<ContactAnswer>(&value)) {
      if (contact->consent && !contact->details.empty()) {
        r.sealed_contact = SealTo(organisation_box_key, contact->details);
      }
      SecureWipe(contact->details.data(), static_cast<std::uint32_t>(contact->details.size()));
      contact->details.clear();
    }
  }
  return r;
}

}  // namespace canvass
