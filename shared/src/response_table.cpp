#include "canvass/response_table.h"

#include <limits>

#include "canvass/interchange.h"

namespace canvass {

uint32_t Dictionary::Intern(const std::string& value) {
  if (value.empty()) return 0;
  auto [it, inserted] = ids_.emplace(value, static_cast<uint32_t>(values_.size() + 1));
  if (inserted) values_.push_back(value);
  return it->second;
}

std::optional<uint32_t> Dictionary::Find(const std::string& value) const {
  if (value.empty()) return 0u;
  auto it = ids_.find(value);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

ResponseTable::ResponseTable(Survey survey) : survey_(std::move(survey)) {
  questions_.resize(survey_.questions.size());
}

void ResponseTable::Reserve(std::size_t rows) {
  outcome_.reserve(rows);
  time_ms_.reserve(rows);
  customer_ids_.reserve(rows);
  for (std::size_t i = 0; i < questions_.size(); ++i) {
    const Question& q = survey_.questions[i];
    questions_[i].value.reserve(rows);
    if (q.kind == QuestionKind::kCsiAttribute) questions_[i].importance.reserve(rows);
    if (q.kind == QuestionKind::kSingleChoice || q.kind == QuestionKind::kMultiChoice) {
      questions_[i].choices.reserve(rows);
    }
  }
  for (const std::string& key : survey_.context_tags) tags_[key].ids.reserve(rows);
}

void ResponseTable::Refuse(uint64_t line, const Status& refusal) {
  ++issues_.refused;
  ++issues_.by_reason[RefusalName(RefusalOf(refusal))];
  if (issues_.listed.size() < kMaxListedIssues) {
    issues_.listed.push_back({line, refusal.message()});
  }
}

Status ResponseTable::Add(const ResponseRecord& record, uint64_t line) {
  ++issues_.read;
  if (record.survey_id != survey_.id) {
    ++issues_.other_survey;
    return Status::NotFound("record of survey \"" + record.survey_id + "\", not \"" + survey_.id +
                            "\"");
  }
  if (size() >= std::numeric_limits<uint32_t>::max() - 1) {
    return Status::Unavailable("a report table holds at most 4294967294 rows");
  }
  // Everything is checked before any column changes, so a refused record leaves no trace.
  struct Cell {
    int8_t value = kNoAnswer;
    int8_t importance = kNoAnswer;
    uint64_t choices = 0;
  };
  std::vector<Cell> cells(survey_.questions.size());
  for (const auto& [id, value] : record.answers) {
    const int index = survey_.FindQuestion(id);
    if (index < 0) {
      const Status refusal =
          Status::InvalidArgument("answers." + id + ": no such question in survey \"" + survey_.id +
                                  "\"")
              .WithReason(static_cast<int>(Refusal::kUnknownQuestion));
      Refuse(line, refusal);
      return refusal;
    }
    const Question& q = survey_.questions[static_cast<std::size_t>(index)];
    // Exports carry contact consent without the (sealed) details; the reader accepts that form.
    if (!std::holds_alternative<ContactAnswer>(value)) {
      if (Status valid = ValidateAnswer(q, value); !valid.ok()) {
        const Status refusal = valid.WithContext("answers." + id);
        Refuse(line, refusal);
        return refusal;
      }
    }
    Cell& cell = cells[static_cast<std::size_t>(index)];
    bool typed = true;
    switch (q.kind) {
      case QuestionKind::kNps:
      case QuestionKind::kRating:
        cell.value = static_cast<int8_t>(std::get<ScaleAnswer>(value).value - q.scale.min);
        break;
      case QuestionKind::kCsiAttribute: {
        const CsiAnswer& a = std::get<CsiAnswer>(value);
        cell.value = static_cast<int8_t>(a.satisfaction - q.scale.min);
        cell.importance = static_cast<int8_t>(
            q.importance_binary ? a.importance : a.importance - q.importance.min);
        break;
      }
      case QuestionKind::kText:
        cell.value = 0;
        break;
      case QuestionKind::kSingleChoice:
      case QuestionKind::kMultiChoice: {
        const ChoiceAnswer& a = std::get<ChoiceAnswer>(value);
        for (const std::string& choice : a.ids) {
          for (std::size_t c = 0; c < q.choices.size(); ++c) {
            if (q.choices[c].id == choice) cell.choices |= uint64_t{1} << c;
          }
        }
        cell.value = a.other.empty() ? 0 : 1;
        break;
      }
      case QuestionKind::kContact: {
        const ContactAnswer* a = std::get_if<ContactAnswer>(&value);
        typed = a != nullptr;
        if (a) cell.value = a->consent ? 1 : 0;
        break;
      }
    }
    if (!typed) {
      const Status refusal = Status::InvalidArgument("answers." + id + ": question '" + id +
                                                     "' (contact) got an answer of the wrong type")
                                 .WithReason(static_cast<int>(Refusal::kWrongType));
      Refuse(line, refusal);
      return refusal;
    }
  }

  const std::size_t row = size();
  outcome_.push_back(static_cast<uint8_t>(record.outcome));
  time_ms_.push_back(record.device_time_ms);
  if (row == 0 || record.device_time_ms < min_time_ms_) min_time_ms_ = record.device_time_ms;
  if (row == 0 || record.device_time_ms > max_time_ms_) max_time_ms_ = record.device_time_ms;
  for (auto& [key, column] : tags_) column.ids.push_back(0);
  for (const auto& [key, value] : record.tags) {
    TagColumn& column = tags_[key];
    if (column.ids.size() < row + 1) column.ids.resize(row + 1, 0);  // a key seen first now
    column.ids[row] = column.dictionary.Intern(value);
  }
  customer_ids_.push_back(customers_.Intern(record.customer_key));
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Question& q = survey_.questions[i];
    QuestionColumn& column = questions_[i];
    column.value.push_back(cells[i].value);
    if (q.kind == QuestionKind::kCsiAttribute) column.importance.push_back(cells[i].importance);
    if (q.kind == QuestionKind::kSingleChoice || q.kind == QuestionKind::kMultiChoice) {
      column.choices.push_back(cells[i].choices);
    }
  }
  return Status::Ok();
}

void ResponseTable::AddJsonLine(std::string_view line, uint64_t line_number) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  Result<ResponseRecord> record = ParseJsonLine(line, &survey_);
  if (!record.ok()) {
    ++issues_.read;
    // A mixed export holds other surveys' lines: they are not errors, just not ours.
    if (RefusalOf(record.status()) == Refusal::kOtherSurvey) {
      ++issues_.other_survey;
    } else {
      Refuse(line_number, record.status());
    }
    return;
  }
  (void)Add(*record, line_number);  // a refusal is counted and listed in issues()
}

}  // namespace canvass
