#include "canvass/stats.h"

#include <cstdio>

#include "canvass/interchange.h"  // CivilFromDays

namespace canvass {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::string Printf(const char* format, int a, unsigned b, unsigned c = 0) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

bool IsScaleKind(QuestionKind kind) {
  return kind == QuestionKind::kNps || kind == QuestionKind::kRating;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Periods and group-by
//-----------------------------------------------------------------------------

const char* PeriodName(Period period) {
  switch (period) {
    case Period::kDay:
      return "day";
    case Period::kWeek:
      return "week";
    case Period::kMonth:
      return "month";
  }
  return "day";
}

std::string PeriodLabel(Period period, int64_t days) {
  int32_t y;
  uint32_t m, d;
  switch (period) {
    case Period::kDay: {
      CivilFromDays(days, &y, &m, &d);
      return Printf("%04d-%02u-%02u", y, m, d);
    }
    case Period::kMonth:
      CivilFromDays(days, &y, &m, &d);
      return Printf("%04d-%02u", y, m);
    case Period::kWeek: {
      // ISO 8601: the week (Monday..Sunday) belongs to the year of its Thursday.
      const int64_t weekday = days - FloorDiv(days + 3, 7) * 7 + 3;  // Monday 0 .. Sunday 6
      const int64_t thursday = days - weekday + 3;
      CivilFromDays(thursday, &y, &m, &d);
      const int64_t week = (thursday - DaysFromCivil(y, 1, 1)) / 7 + 1;
      return Printf("%04d-W%02u", y, static_cast<unsigned>(week));
    }
  }
  return "";
}

std::string GroupBy::Name() const {
  return period ? std::string("period:") + PeriodName(*period) : tag;
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  GroupBy g;
  if (text.rfind("period:", 0) == 0) {
    const std::string_view p = text.substr(7);
    for (Period candidate : {Period::kDay, Period::kWeek, Period::kMonth}) {
      if (p == PeriodName(candidate)) {
        g.period = candidate;
        return g;
      }
    }
    return Status::InvalidArgument(
        "\"" + std::string(text) +
        "\": the period must be period:day, period:week or period:month");
  }
  if (text.empty() || text.find_first_of(" =:,") != std::string_view::npos) {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\" is not a tag key (like location) or period:day|week|month");
  }
  g.tag = std::string(text);
  return g;
}

//-----------------------------------------------------------------------------
// [SECTION] Selection and statistics
//-----------------------------------------------------------------------------

Status QuestionStats::Merge(const QuestionStats& other) {
  if (!answers.MergesWith(other.answers) || choices.size() != other.choices.size()) {
    return Status::InvalidArgument("question statistics of different shapes");
  }
  metrics::CsiAttributeStats csi_merged = csi;
  if (Status s = csi_merged.Merge(other.csi); !s.ok()) return s;
  csi = std::move(csi_merged);
  (void)answers.Merge(other.answers);
  pairs.Merge(other.pairs);
  for (std::size_t i = 0; i < choices.size(); ++i) choices[i] += other.choices[i];
  answered += other.answered;
  this->other += other.other;
  consent += other.consent;
  return Status::Ok();
}

bool QuestionStats::MergesWith(const QuestionStats& other) const {
  return answers.MergesWith(other.answers) && choices.size() == other.choices.size() &&
         csi.importance_rating.MergesWith(other.csi.importance_rating) &&
         csi.satisfaction.MergesWith(other.csi.satisfaction);
}

Status GroupStats::Merge(const GroupStats& other) {
  const bool adopt = questions.empty() && !other.questions.empty();
  if (!adopt && other.questions.size() != questions.size()) {
    return Status::InvalidArgument("statistics of surveys with different questions");
  }
  // Every shape is checked before anything changes, so that a refused merge leaves this as it
  // was without copying it first (a group's customer visits can be large, and the statistics
  // cube merges thousands of cells into one group).
  for (std::size_t i = 0; !adopt && i < questions.size(); ++i) {
    if (!questions[i].MergesWith(other.questions[i])) {
      QuestionStats probe = questions[i];  // for the message that says what differs
      Status s = probe.Merge(other.questions[i]);
      return (s.ok() ? Status::InvalidArgument("question statistics of different shapes") : s)
          .WithContext("question " + std::to_string(i + 1));
    }
  }
  if (adopt) {
    questions = other.questions;
  } else {
    for (std::size_t i = 0; i < questions.size(); ++i) (void)questions[i].Merge(other.questions[i]);
  }
  outcomes.Merge(other.outcomes);
  customers.Merge(other.customers);
  return Status::Ok();
}

GroupStats EmptyStats(const Survey& survey) {
  GroupStats g;
  g.questions.resize(survey.questions.size());
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    const Question& q = survey.questions[i];
    QuestionStats& s = g.questions[i];
    if (IsScaleKind(q.kind)) s.answers = metrics::ScaleCounts(q.scale.min, q.scale.max);
    if (q.kind == QuestionKind::kCsiAttribute) {
      s.csi.satisfaction = metrics::ScaleCounts(q.scale.min, q.scale.max);
      if (!q.importance_binary) {
        s.csi.importance_rating = metrics::ScaleCounts(q.importance.min, q.importance.max);
      }
    }
    s.choices.assign(q.choices.size(), 0);
  }
  return g;
}

Status CollectedStats::Merge(const CollectedStats& other) {
  if (by != other.by) return Status::InvalidArgument("statistics grouped differently");
  CollectedStats merged = *this;
  if (Status s = merged.all.Merge(other.all); !s.ok()) return s;
  for (const auto& [key, stats] : other.groups) {
    auto it = merged.groups.find(key);
    if (it == merged.groups.end()) {
      merged.groups.emplace(key, stats);
    } else if (Status s = it->second.Merge(stats); !s.ok()) {
      return s;
    }
  }
  merged.rows += other.rows;
  merged.selected += other.selected;
  *this = std::move(merged);
  return Status::Ok();
}

}  // namespace canvass
