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

Status CheckScale(const Scale& scale, std::int32_t v, const std::string& what) {
  if (v < scale.min || v > scale.max) {
    return Status::InvalidArgument(what + " " + std::to_string(v) + " is outside " +
                                   std::to_string(scale.min) + ".." + std::to_string(scale.max));
  }
  return Status::Ok();
}

// Length in code points, so a limit means the same for Cyrillic and Latin text.
std::uint32_t Utf8Length(const std::string& s) {
  std::uint32_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
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

Status ValidateAnswer(const Question& q, const AnswerValue& value) {
  const std::string kind = QuestionKindName(q.kind);
  auto wrong = [&]() {
    return Status::InvalidArgument("question '" + q.id + "' (" + kind +
                                   ") got an answer of the wrong type");
  };
  switch (q.kind) {
    case QuestionKind::kNps:
    case QuestionKind::kRating: {
      const auto* s = std::get_if<ScaleAnswer>(&value);
      if (!s) return wrong();
      return CheckScale(q.scale, s->value, "answer");
    }
    case QuestionKind::kText: {
      const auto* t = std::get_if<TextAnswer>(&value);
      if (!t) return wrong();
      if (Utf8Length(t->text) > q.max_length) {
        return Status::InvalidArgument("answer is longer than " + std::to_string(q.max_length) +
                                       " characters");
      }
      if (q.required && t->text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::InvalidArgument("answer is empty");
      }
      return Status::Ok();
    }
    case QuestionKind::kSingleChoice:
    case QuestionKind::kMultiChoice: {
      const auto* c = std::get_if<ChoiceAnswer>(&value);
      if (!c) return wrong();
      if (!c->other.empty() && !q.allow_other) {
        return Status::InvalidArgument("this question has no 'other' field");
      }
      if (Utf8Length(c->other) > q.max_length) {
        return Status::InvalidArgument("'other' text is too long");
      }
      std::size_t picked = c->ids.size() + (c->other.empty() ? 0 : 1);
      if (picked == 0) return Status::InvalidArgument("no choice made");
      if (q.kind == QuestionKind::kSingleChoice && picked != 1) {
        return Status::InvalidArgument("exactly one choice is allowed");
      }
      if (!std::is_sorted(c->ids.begin(), c->ids.end()) ||
          std::adjacent_find(c->ids.begin(), c->ids.end()) != c->ids.end()) {
        return Status::InvalidArgument("choice ids must be sorted and unique");
      }
      for (const std::string& id : c->ids) {
        bool known = std::any_of(q.choices.begin(), q.choices.end(),
                                 [&](const Choice& ch) { return ch.id == id; });
        if (!known)
          return Status::InvalidArgument("'" + id + "' is not a choice of '" + q.id + "'");
      }
      return Status::Ok();
    }
    case QuestionKind::kCsiAttribute: {
      const auto* c = std::get_if<CsiAnswer>(&value);
      if (!c) return wrong();
      Status s = CheckScale(q.scale, c->satisfaction, "satisfaction");
      if (!s.ok()) return s;
      if (q.importance_binary) {
        if (c->importance != 0 && c->importance != 1) {
          return Status::InvalidArgument("importance must be 0 (not important) or 1 (important)");
        }
        return Status::Ok();
      }
      return CheckScale(q.importance, c->importance, "importance");
    }
    case QuestionKind::kContact: {
      const auto* c = std::get_if<ContactAnswer>(&value);
      if (!c) return wrong();
      if (c->consent && c->details.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::InvalidArgument("consent given but no contact details");
      }
      if (!c->consent && !c->details.empty()) {
        return Status::InvalidArgument("contact details without consent are not kept");
      }
      if (Utf8Length(c->details) > q.max_length) {
        return Status::InvalidArgument("contact details are too long");
      }
      return Status::Ok();
    }
  }
  return wrong();
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
