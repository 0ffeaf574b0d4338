// The flow engine: which question comes next, whether an answer is valid, when a survey is done,
// and who is asked at all (DESIGN.md §2). The widget (wasm), the native kiosk and the tests all
// drive surveys through this; no UI re-implements branching, validation or rotation.
//
// FlowSession walks one customer through one survey: Current() is the question on screen,
// Answer()/Skip() move forward, Back() moves back. Answers to questions hidden by a later change
// of an earlier answer are dropped from FinalAnswers(). A session is a plain value (copyable,
// not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "canvass/random.h"
#include "canvass/record.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

// True if `condition` holds for `answers` (false when its question is unanswered).
bool ConditionHolds(const Condition& condition, const Answers& answers);

// InvalidArgument (saying why, in words for a person) unless `value` is a valid answer to `q`.
Status ValidateAnswer(const Question& q, const AnswerValue& value);

class FlowSession {
 public:
  // A series survey: every question in order, following show_if.
  static FlowSession Series(const Survey& survey);
  // One question only (rotate_one): the picked question id must be in the survey.
  static Result<FlowSession> Single(const Survey& survey, const std::string& question_id);

  // The question to show now, or nullptr when there is none left.
  const Question* Current() const;
  // Validates and records the answer to Current(), then moves to the next visible question.
  Status Answer(AnswerValue value);
  // Moves past Current() without an answer; InvalidArgument if it is required.
  Status Skip();
  // Goes back to the previous question shown; false at the first one.
  bool Back();

  // True when no question is left and every visible required question has an answer.
  bool IsComplete() const;
  // The outcome to record if the customer leaves now (kiosk idle timeout or close):
  // completed if complete, partial with some answers, otherwise ignored.
  Outcome OutcomeIfLeftNow() const;
  // Answers to the questions that are visible given the answers themselves.
  Answers FinalAnswers() const;
  const Answers& answers() const { return answers_; }
  // For progress bars: questions shown so far (including the current one), and an estimate of
  // the total given the answers so far.
  int ShownCount() const { return static_cast<int>(path_.size()); }
  int EstimatedTotal() const;

 private:
  FlowSession(const Survey& survey, std::vector<int> plan);
  bool Visible(int index) const;
  int NextVisible(std::size_t plan_pos) const;  // plan position of the next visible, or -1
  void Advance();  // to the next visible question after the current one, or finished

  const Survey* survey_;
  std::vector<int> plan_;          // question indices this customer may see, in order
  std::vector<std::size_t> path_;  // plan positions shown, the last is current
  bool finished_ = false;
  Answers answers_;
};

// rotate_one: picks one question per customer from the pool, balanced and reproducible. Draws
// come in rounds of k = pool size; each round is a fresh random permutation of the pool seeded by
// (seed, round), so after any number of draws every question has been asked within one time of
// every other, yet the order is unpredictable to staff. The state is (seed, draws): persist both.
class RotationPicker {
 public:
  explicit RotationPicker(std::uint64_t seed, std::uint64_t draws = 0)
      : seed_(seed), draws_(draws) {}
  const std::string& Next(const std::vector<std::string>& pool);
  std::uint64_t draws() const { return draws_; }

 private:
  std::uint64_t seed_;
  std::uint64_t draws_;
};

// Sampling (ask every customer, every k-th, or with probability p) and website frequency caps.
class Sampler {
 public:
  explicit Sampler(std::uint64_t seed, std::uint64_t visits = 0) : rng_(seed), visits_(visits) {}
  // Decides for the next customer.
  bool ShouldOffer(const Sampling& sampling);
  std::uint64_t visits() const { return visits_; }

 private:
  SplitMix64 rng_;
  std::uint64_t visits_;
};
// False while a website visitor who answered or declined at `last_ms` is inside the cap window.
bool FrequencyCapAllows(const Sampling& sampling, std::int64_t now_ms,
                        std::optional<std::int64_t> last_ms);

// The draft record of a finished (or abandoned) session: outcome, visible answers and tags.
// Contact details, if any, are sealed to `organisation_box_key` here; they never reach the record
// in clear. seq, prev_hash and device_id are filled in by the log.
ResponseRecord BuildRecord(const Survey& survey, const Hash256& survey_version,
                           const FlowSession& session, Outcome outcome, std::int64_t time_ms,
                           const std::map<std::string, std::string>& tags,
                           const PublicKey& organisation_box_key);

}  // namespace canvass
