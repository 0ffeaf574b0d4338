// The response table: the offers of one survey as columns (struct of arrays), the input of the
// statistics layer (stats.h). Part of the core's first layer, with no presentation.
//
// A table holds outcome, time, each tag key as ids into its own string dictionary, the customer
// key likewise, and one column per question (scale answers as int8 offsets from the scale's
// minimum, -1 = no answer). It is filled from parsed records or straight from JSON Lines; every
// refused line is counted with its number and reason (the Refusal its reader set, survey.h), and
// the rest are used.
//
// Thread-safety: a plain value; concurrent reads are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "canvass/record.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

inline constexpr int8_t kNoAnswer = -1;
// The most refused lines a table lists by number (all are counted).
inline constexpr std::size_t kMaxListedIssues = 20;

// Strings of one kind (a tag's values, customer keys) as dense ids. Id 0 means "absent"; the
// string of id i > 0 is values[i - 1]. Ids follow first appearance, so they are deterministic.
class Dictionary {
 public:
  uint32_t Intern(const std::string& value);  // "" -> 0
  std::optional<uint32_t> Find(const std::string& value) const;
  const std::string& Value(uint32_t id) const { return values_[id - 1]; }  // id > 0
  uint32_t Size() const { return static_cast<uint32_t>(values_.size()); }  // ids 1..Size()

 private:
  std::vector<std::string> values_;
  std::unordered_map<std::string, uint32_t> ids_;  // looked up, never iterated
};

// One question's answers. Which vectors are filled depends on the question's kind.
struct QuestionColumn {
  // nps, rating: answer - scale.min; csi_attribute: satisfaction - scale.min; text: 0 answered;
  // single/multi choice: 0 answered, 1 answered with "other" text; contact: consent 0 / 1.
  // kNoAnswer when not answered.
  std::vector<int8_t> value;
  std::vector<int8_t> importance;  // csi_attribute: 0/1 (binary) or rating - importance.min
  std::vector<uint64_t> choices;   // choice kinds: bit i set = choices[i] picked
};

struct InputIssue {
  uint64_t line = 0;  // 1-based; for records given as a vector, the index + 1
  std::string message;
  bool operator==(const InputIssue&) const = default;
};

// What a table refused while it was filled.
struct InputIssues {
  uint64_t read = 0;          // non-blank lines (or records) seen
  uint64_t refused = 0;       // invalid: not used
  uint64_t other_survey = 0;  // records of another survey: skipped, not an error
  // Refused lines by reason, in words (RefusalName of survey.h): "not valid JSON", "unknown
  // question", "outside the scale", "wrong type", "missing field", "invalid".
  std::map<std::string, uint64_t> by_reason;
  std::vector<InputIssue> listed;  // the first kMaxListedIssues refused, in line order
};

class ResponseTable {
 public:
  explicit ResponseTable(Survey survey);

  // Adds one record; `line` numbers it in issues. A record of another survey is skipped
  // (counted in other_survey); one with an unknown question or an invalid answer is refused
  // (counted, listed) and InvalidArgument is returned. The table is unchanged unless it is OK.
  Status Add(const ResponseRecord& record, uint64_t line = 0);
  // Parses one JSON line (interchange.h) against the survey and adds it. Blank lines are
  // ignored. Nothing here throws or stops: a bad line is counted and listed in issues().
  void AddJsonLine(std::string_view line, uint64_t line_number);
  // For big inputs: reserve room for `rows` rows.
  void Reserve(std::size_t rows);

  const Survey& survey() const { return survey_; }
  std::size_t size() const { return outcome_.size(); }
  const InputIssues& issues() const { return issues_; }

  // Columns (row i of each belongs together).
  const std::vector<uint8_t>& outcome() const { return outcome_; }  // Outcome values
  const std::vector<int64_t>& time_ms() const { return time_ms_; }
  // Tag key -> column of ids into the tag's dictionary (0 = the row has no such tag).
  struct TagColumn {
    Dictionary dictionary;
    std::vector<uint32_t> ids;
  };
  const std::map<std::string, TagColumn>& tags() const { return tags_; }
  const Dictionary& customers() const { return customers_; }
  const std::vector<uint32_t>& customer_ids() const { return customer_ids_; }
  const std::vector<QuestionColumn>& questions() const { return questions_; }  // survey order
  int64_t min_time_ms() const { return min_time_ms_; }                         // 0 when empty
  int64_t max_time_ms() const { return max_time_ms_; }

 private:
  void Refuse(uint64_t line, const Status& refusal);

  Survey survey_;
  InputIssues issues_;
  std::vector<uint8_t> outcome_;
  std::vector<int64_t> time_ms_;
  std::map<std::string, TagColumn> tags_;
  Dictionary customers_;
  std::vector<uint32_t> customer_ids_;
  std::vector<QuestionColumn> questions_;
  int64_t min_time_ms_ = 0;
  int64_t max_time_ms_ = 0;
};

}  // namespace canvass
