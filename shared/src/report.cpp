#include "canvass/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "canvass/byte_counts.h"
#include "canvass/executor.h"
#include "canvass/flow.h"
#include "canvass/interchange.h"
#include "canvass/json.h"

namespace canvass {

using metrics::Estimate;

namespace {

constexpr int64_t kDayMs = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::string Printf(const char* format, int a, unsigned b, unsigned c = 0) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

bool IsScaleKind(QuestionKind kind) {
  return kind == QuestionKind::kNps || kind == QuestionKind::kRating;
}

// Why a line was refused, in a few words, from the reader's message.
std::string ReasonOf(const std::string& message) {
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  if (message.rfind("not valid JSON", 0) == 0 || has("must be a JSON object")) {
    return "not valid JSON";
  }
  if (has("no such question")) return "unknown question";
  if (has("outside") || has("importance must be")) return "outside the scale";
  if (has("wrong type") || has("must be a") || has("must be true") || has("needs whole-number") ||
      has("choices must be") || has("unsupported value") || has("unknown answer object")) {
    return "wrong type";
  }
  if (has("is missing")) return "missing field";
  return "invalid";
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
// [SECTION] Response table
//-----------------------------------------------------------------------------

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

void ResponseTable::Refuse(uint64_t line, const std::string& message) {
  ++issues_.refused;
  ++issues_.by_reason[ReasonOf(message)];
  if (issues_.listed.size() < kMaxListedIssues) issues_.listed.push_back({line, message});
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
      const std::string message =
          "answers." + id + ": no such question in survey \"" + survey_.id + "\"";
      Refuse(line, message);
      return Status::InvalidArgument(message);
    }
    const Question& q = survey_.questions[static_cast<std::size_t>(index)];
    // Exports carry contact consent without the (sealed) details; the reader accepts that form.
    if (!std::holds_alternative<ContactAnswer>(value)) {
      if (Status valid = ValidateAnswer(q, value); !valid.ok()) {
        const std::string message = "answers." + id + ": " + valid.message();
        Refuse(line, message);
        return Status::InvalidArgument(message);
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
      const std::string message =
          "answers." + id + ": question '" + id + "' (contact) got an answer of the wrong type";
      Refuse(line, message);
      return Status::InvalidArgument(message);
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
    const std::string& message = record.status().message();
    ++issues_.read;
    // A mixed export holds other surveys' lines: they are not errors, just not ours.
    if (message.rfind("survey: \"", 0) == 0 &&
        message.find("\" is not the survey") != std::string::npos) {
      ++issues_.other_survey;
    } else {
      Refuse(line_number, message);
    }
    return;
  }
  (void)Add(*record, line_number);  // a refusal is counted and listed in issues()
}

//-----------------------------------------------------------------------------
// [SECTION] Statistics
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

namespace {

// Loyalty counts of one group, when they are counted by customer id rather than by key.
struct LoyaltyCounts {
  uint64_t customers = 0;
  uint64_t returning = 0;
  uint64_t visits = 0;
};

// The same sums PairedStats::Add forms, for `count` identical pairs at once.
void AddPairs(metrics::PairedStats& p, int32_t x, int32_t y, uint64_t count) {
  const int64_t c = static_cast<int64_t>(count);
  p.n += count;
  p.sum_x += c * x;
  p.sum_y += c * y;
  p.sum_xx += count * static_cast<uint64_t>(int64_t{x} * x);
  p.sum_yy += count * static_cast<uint64_t>(int64_t{y} * y);
  p.sum_xy += c * x * y;
}

// Filters and groups a table in blocks of rows. For each block it first computes every row's
// group (or kSkip), then runs one tight counting loop per column over the block: the group ids
// stay in L1 and each loop streams one column. Blocks where every row falls in one group (no
// group-by, or a period group-by over time-ordered rows) count whole byte columns with the vector
// kernel of byte_counts.h.
//
// A collector counts one range of rows (Count), so that several can count a table side by side;
// Absorb adds another collector's raw counts and customer visits (as lists, not counts: loyalty
// needs to know who came back), and Finish turns the counts into statistics. All integer sums, so
// the result does not depend on how the rows were split.
class Collector {
 public:
  static constexpr uint32_t kSkip = std::numeric_limits<uint32_t>::max();
  static constexpr std::size_t kBlock = 4096;
  // Each group's histogram exists twice, for even and odd rows: runs of equal bins (common: most
  // answers are alike) would otherwise wait on each other's increment, store to load.
  static constexpr uint32_t kLanes = 2;

  Collector(const ResponseTable& table, const ReportOptions& options, std::size_t begin,
            std::size_t end)
      : table_(table), survey_(table.survey()), options_(options), begin_(begin), end_(end) {}

  // Prepares and counts rows begin..end.
  Status Count();
  // Adds the counts of `other` (same table and options, counted) to this one's.
  void Absorb(const Collector& other);
  // Statistics and loyalty from the counts; the loyalty walk over groups runs on `executor`.
  void Finish(bool with_customer_keys, Executor* executor);

  CollectedStats stats;
  LoyaltyCounts all_loyalty;
  std::map<GroupKey, LoyaltyCounts> group_loyalty;

 private:
  struct Dim {
    const std::vector<uint32_t>* ids = nullptr;  // tag: the column
    const Dictionary* dictionary = nullptr;
    bool period = false;
    uint64_t card = 1;
  };
  // One single-column count inside a fused histogram.
  struct Part {
    enum Kind { kOutcome, kScale, kFlag } kind = kScale;
    int question = -1;
    const int8_t* column = nullptr;
    uint32_t radix = 1;   // values -1..radix-2, stored as bin digit value + 1
    uint32_t stride = 1;  // place of this digit in the fused bin
    uint32_t offset = 0;  // place of this part's counts in `direct`
  };
  // kFused: one histogram over several single-column counts (outcome, scale answers, answered
  // flags), so a row costs one increment for all of them; bin = sum (value + 1) * stride.
  // kCsi*: a histogram over up to three byte columns; bin = ((a+1)*rb + (b+1))*rc + (c+1).
  struct Spec {
    enum Kind { kFused, kCsi, kCsiImportance, kCsiPairs } kind = kFused;
    std::vector<Part> parts;       // kFused
    std::vector<uint64_t> direct;  // kFused: groups x sum(radix), counted by the vector kernel
    uint32_t direct_width = 0;
    int question = -1;
    const int8_t* a = nullptr;
    const int8_t* b = nullptr;
    const int8_t* c = nullptr;
    uint32_t ra = 1, rb = 1, rc = 1;
    uint32_t bins = 1;
    int32_t recommend_min = 0;   // csi: the scale minimum of the recommend score
    std::vector<uint32_t> hist;  // groups x bins
  };

  Status Prepare();
  uint32_t GroupOf(uint64_t combo);
  // Fills gid[0..len) for rows start..; returns the one group all rows share, kSkip if none is
  // selected, or kSkip - 1 when they differ.
  uint32_t BlockGroups(std::size_t start, std::size_t len, uint32_t* gid);
  void CountBlock(Spec& spec, std::size_t start, std::size_t len, const uint32_t* gid,
                  uint32_t uniform);
  GroupKey KeyOf(uint32_t group) const;
  void Decode(uint32_t group, GroupStats* out) const;

  const ResponseTable& table_;
  const Survey& survey_;
  const ReportOptions& options_;
  std::size_t begin_ = 0, end_ = 0;
  bool nothing_selected_ = false;
  std::vector<std::pair<const std::vector<uint32_t>*, uint32_t>> where_;
  std::vector<Dim> dims_;
  int64_t base_day_ = 0;
  std::vector<uint32_t> day_period_;  // day - base_day -> period id (per period dim kind)
  std::vector<std::vector<uint32_t>> period_of_day_;  // per dim (empty for tags)
  std::vector<std::vector<int64_t>> period_first_day_;
  uint64_t combos_ = 1;
  std::vector<uint32_t> dense_;  // combo -> group + 1 (0 = not seen), when combos_ is small
  std::unordered_map<uint64_t, uint32_t> sparse_;  // looked up, never iterated
  std::vector<uint64_t> group_combo_;
  std::vector<Spec> specs_;
  std::vector<std::vector<uint32_t>> choice_hist_;      // per question: groups x choices
  std::vector<uint32_t> customer_visits_;               // customer id -> visits (ungrouped)
  std::vector<std::vector<uint32_t>> group_customers_;  // per group: customer id of each visit
  // Per group: the visit lists of absorbed collectors, walked by Finish beside this one's (not
  // copied); they must outlive Finish.
  std::vector<std::vector<const std::vector<uint32_t>*>> absorbed_visits_;
  std::vector<uint32_t> visit_customer_, visit_group_;  // one block's visits (Count)
};

Status Collector::Prepare() {
  for (const auto& [key, value] : options_.where) {
    auto it = table_.tags().find(key);
    std::optional<uint32_t> id;
    if (it != table_.tags().end()) id = it->second.dictionary.Find(value);
    if (!id || *id == 0) {
      nothing_selected_ = true;  // no row has this tag value
      continue;
    }
    where_.emplace_back(&it->second.ids, *id);
  }
  const int64_t min_day = FloorDiv(table_.min_time_ms(), kDayMs);
  const int64_t max_day = FloorDiv(table_.max_time_ms(), kDayMs);
  base_day_ = min_day;
  for (const GroupBy& g : options_.by) {
    Dim dim;
    period_of_day_.emplace_back();
    period_first_day_.emplace_back();
    if (g.period) {
      dim.period = true;
      if (max_day - min_day > 4000000) return Status::InvalidArgument("time range too wide");
      std::vector<uint32_t>& map = period_of_day_.back();
      std::vector<int64_t>& first = period_first_day_.back();
      std::string last;
      for (int64_t day = min_day; table_.size() > 0 && day <= max_day; ++day) {
        // Labels sort in time order, so a new label means a new period.
        std::string label = *g.period == Period::kDay ? std::string() : PeriodLabel(*g.period, day);
        if (*g.period == Period::kDay || label != last || first.empty()) {
          first.push_back(day);
          last = std::move(label);
        }
        map.push_back(static_cast<uint32_t>(first.size() - 1));
      }
      dim.card = std::max<uint64_t>(1, first.size());
    } else {
      auto it = table_.tags().find(g.tag);
      if (it != table_.tags().end()) {
        dim.ids = &it->second.ids;
        dim.dictionary = &it->second.dictionary;
        dim.card = uint64_t{it->second.dictionary.Size()} + 1;
      }
    }
    if (combos_ > (uint64_t{1} << 62) / dim.card) {
      return Status::InvalidArgument("too many groups: group by fewer tags");
    }
    combos_ *= dim.card;
    dims_.push_back(dim);
  }
  if (combos_ <= (uint64_t{1} << 22)) dense_.assign(combos_, 0);

  // Counting specs: outcomes, then each question in survey order.
  const int recommend = [&] {
    int cli = -1;
    for (std::size_t i = 0; i < survey_.questions.size(); ++i) {
      if (survey_.questions[i].metric == MetricRole::kNps) return static_cast<int>(i);
      if (survey_.questions[i].metric == MetricRole::kCliRecommend && cli < 0) {
        cli = static_cast<int>(i);
      }
    }
    return cli;
  }();
  std::vector<Part> singles;
  Part outcome;
  outcome.kind = Part::kOutcome;
  outcome.column = reinterpret_cast<const int8_t*>(table_.outcome().data());
  outcome.radix = 5;
  singles.push_back(outcome);
  for (std::size_t i = 0; i < survey_.questions.size(); ++i) {
    const Question& q = survey_.questions[i];
    const QuestionColumn& column = table_.questions()[i];
    const uint32_t points = static_cast<uint32_t>(q.scale.max - q.scale.min + 1);
    choice_hist_.emplace_back();
    if (q.kind != QuestionKind::kCsiAttribute) {
      Part part;
      part.kind = IsScaleKind(q.kind) ? Part::kScale : Part::kFlag;
      part.question = static_cast<int>(i);
      part.column = column.value.data();
      part.radix = IsScaleKind(q.kind) ? points + 1 : 3;
      singles.push_back(part);
      continue;
    }
    Spec s;
    s.question = static_cast<int>(i);
    const uint32_t importance =
        q.importance_binary ? 2 : static_cast<uint32_t>(q.importance.max - q.importance.min + 1);
    const uint32_t rec_points =
        recommend >= 0 ? static_cast<uint32_t>(survey_.questions[recommend].scale.max -
                                               survey_.questions[recommend].scale.min + 1)
                       : 0;
    const int8_t* rec = recommend >= 0 ? table_.questions()[recommend].value.data() : nullptr;
    s.recommend_min = recommend >= 0 ? survey_.questions[recommend].scale.min : 0;
    s.kind = Spec::kCsi;
    s.a = column.importance.data();
    s.ra = importance + 1;
    s.b = column.value.data();
    s.rb = points + 1;
    if (rec && uint64_t{s.ra} * s.rb * (rec_points + 1) <= 2048) {
      s.c = rec;  // one pass gives importance, satisfaction and the pairs
      s.rc = rec_points + 1;
    } else if (rec) {
      s.kind = Spec::kCsiImportance;  // two passes: (importance, satisfaction), (sat, rec)
      Spec pairs;
      pairs.kind = Spec::kCsiPairs;
      pairs.question = s.question;
      pairs.a = column.value.data();
      pairs.ra = points + 1;
      pairs.b = rec;
      pairs.rb = rec_points + 1;
      pairs.recommend_min = s.recommend_min;
      specs_.push_back(std::move(pairs));
    } else {
      s.kind = Spec::kCsiImportance;
    }
    specs_.push_back(std::move(s));
  }
  for (Spec& s : specs_) s.bins = s.ra * s.rb * s.rc;
  // Pack the single-column counts into as few fused histograms as keep a group's bins small.
  for (const Part& single : singles) {
    if (specs_.empty() || specs_.back().kind != Spec::kFused ||
        uint64_t{specs_.back().bins} * single.radix > 1024) {
      Spec fused;
      fused.kind = Spec::kFused;
      fused.bins = 1;
      specs_.push_back(std::move(fused));
    }
    Spec& fused = specs_.back();
    Part part = single;
    part.stride = fused.bins;
    part.offset = fused.direct_width;
    fused.bins *= part.radix;
    fused.direct_width += part.radix;
    fused.parts.push_back(part);
  }
  customer_visits_.assign(uint64_t{table_.customers().Size()} + 1, 0);
  visit_customer_.assign(kBlock, 0);
  visit_group_.assign(kBlock, 0);
  return Status::Ok();
}

void Collector::Absorb(const Collector& other) {
  for (uint32_t g = 0; g < other.group_combo_.size(); ++g) {
    const uint32_t to = GroupOf(other.group_combo_[g]);
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      Spec& s = specs_[i];
      const Spec& o = other.specs_[i];
      const std::size_t n = std::size_t{s.bins} * kLanes;
      for (std::size_t b = 0; b < n; ++b) s.hist[to * n + b] += o.hist[g * n + b];
      for (std::size_t b = 0; b < s.direct_width; ++b) {
        s.direct[to * s.direct_width + b] += o.direct[g * s.direct_width + b];
      }
    }
    for (std::size_t i = 0; i < choice_hist_.size(); ++i) {
      const std::size_t k = survey_.questions[i].choices.size();
      for (std::size_t c = 0; c < k; ++c)
        choice_hist_[i][to * k + c] += other.choice_hist_[i][g * k + c];
    }
    if (!other.group_customers_[g].empty()) {
      absorbed_visits_[to].push_back(&other.group_customers_[g]);
    }
  }
  for (std::size_t c = 0; dims_.empty() && c < customer_visits_.size(); ++c) {
    customer_visits_[c] += other.customer_visits_[c];
  }
}

uint32_t Collector::GroupOf(uint64_t combo) {
  uint32_t* slot = nullptr;
  if (!dense_.empty()) {
    slot = &dense_[combo];
  } else {
    slot = &sparse_[combo];
  }
  if (*slot == 0) {
    group_combo_.push_back(combo);
    *slot = static_cast<uint32_t>(group_combo_.size());
    const std::size_t groups = group_combo_.size();
    for (Spec& s : specs_) {
      s.hist.resize(groups * s.bins * kLanes, 0);
      s.direct.resize(groups * s.direct_width, 0);
    }
    group_customers_.resize(groups);
    absorbed_visits_.resize(groups);
    for (std::size_t i = 0; i < choice_hist_.size(); ++i) {
      choice_hist_[i].resize(groups * survey_.questions[i].choices.size(), 0);
    }
  }
  return *slot - 1;
}

uint32_t Collector::BlockGroups(std::size_t start, std::size_t len, uint32_t* gid) {
  const int64_t* time = table_.time_ms().data() + start;
  uint64_t combo[kBlock];
  uint8_t keep[kBlock];
  const int64_t from = options_.from_ms.value_or(std::numeric_limits<int64_t>::min());
  const int64_t to = options_.to_ms.value_or(std::numeric_limits<int64_t>::max());
  // & rather than &&: no branch per row.
  if (options_.from_ms || options_.to_ms) {
    for (std::size_t j = 0; j < len; ++j) keep[j] = (time[j] >= from) & (time[j] < to);
  } else {
    std::fill(keep, keep + len, uint8_t{1});
  }
  for (const auto& [column, id] : where_) {
    const uint32_t* ids = column->data() + start;
    for (std::size_t j = 0; j < len; ++j) keep[j] &= ids[j] == id;
  }
  for (std::size_t j = 0; j < len; ++j) combo[j] = 0;
  const int64_t base_ms = base_day_ * kDayMs;
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    const Dim& dim = dims_[d];
    if (dim.period) {
      const uint32_t* period = period_of_day_[d].data();
      for (std::size_t j = 0; j < len; ++j) {
        const uint64_t day = static_cast<uint64_t>(time[j] - base_ms) / kDayMs;
        combo[j] = combo[j] * dim.card + period[day];
      }
    } else if (dim.ids) {
      const uint32_t* ids = dim.ids->data() + start;
      for (std::size_t j = 0; j < len; ++j) combo[j] = combo[j] * dim.card + ids[j];
    }
  }
  if (!dense_.empty()) {
    // Rows of different groups interleave (e.g. by location): look each one up, and take the
    // slow path only for a group not seen yet. Unselected rows never make a group.
    for (std::size_t j = 0; j < len; ++j) {
      uint32_t slot = dense_[combo[j]];  // group + 1, 0 = not seen
      if (slot == 0 && keep[j]) slot = GroupOf(combo[j]) + 1;
      gid[j] = keep[j] ? slot - 1 : kSkip;
    }
  } else {
    uint64_t last_combo = 0;
    uint32_t last_group = kSkip;
    for (std::size_t j = 0; j < len; ++j) {
      if (!keep[j]) {
        gid[j] = kSkip;
        continue;
      }
      if (last_group == kSkip || combo[j] != last_combo) {
        last_group = GroupOf(combo[j]);
        last_combo = combo[j];
      }
      gid[j] = last_group;
    }
  }
  // The kernel may count a whole block only if every row of it is selected into one group.
  const uint32_t first = len > 0 ? gid[0] : kSkip;
  uint32_t differ = 0;
  for (std::size_t j = 0; j < len; ++j) differ |= gid[j] ^ first;
  if (differ != 0) return kSkip - 1;  // some rows selected, not all into one group
  return first;                       // kSkip when no row is selected
}

void Collector::CountBlock(Spec& s, std::size_t start, std::size_t len, const uint32_t* gid,
                           uint32_t uniform) {
  uint32_t* hist = s.hist.data();
  const uint32_t bins = s.bins;
  if (s.kind == Spec::kFused) {
    if (uniform < kSkip - 1) {
      // One group for the whole block: count each column with the vector kernel.
      uint64_t* direct = s.direct.data() + uint64_t{uniform} * s.direct_width;
      for (const Part& part : s.parts) {
        uint64_t* counts = direct + part.offset;
        counts[0] += CountSmallValues(part.column + start, len, static_cast<int>(part.radix - 1),
                                      counts + 1);
      }
      return;
    }
    const std::size_t k = s.parts.size();
    const int8_t* col[4] = {};
    uint32_t stride[4] = {};
    for (std::size_t p = 0; p < k && p < 4; ++p) {
      col[p] = s.parts[p].column + start;
      stride[p] = s.parts[p].stride;
    }
    uint32_t base = 0;  // every digit stored + 1: add the strides once
    for (const Part& part : s.parts) base += part.stride;
    if (k <= 4) {
      for (std::size_t j = 0; j < len; ++j) {
        if (gid[j] == kSkip) continue;
        uint32_t bin = base;
        for (std::size_t p = 0; p < 4; ++p) {
          if (p < k) bin += static_cast<uint32_t>(col[p][j]) * stride[p];
        }
        ++hist[(uint64_t{gid[j]} * kLanes + (j & 1)) * bins + bin];
      }
    } else {
      for (std::size_t j = 0; j < len; ++j) {
        if (gid[j] == kSkip) continue;
        uint32_t bin = base;
        for (const Part& part : s.parts) {
          bin += static_cast<uint32_t>(part.column[start + j]) * part.stride;
        }
        ++hist[(uint64_t{gid[j]} * kLanes + (j & 1)) * bins + bin];
      }
    }
    return;
  }
  const int8_t* a = s.a + start;
  const int8_t* b = s.b + start;
  const uint32_t rb = s.rb;
  if (uniform < kSkip - 1 && bins <= 256) {
    // One group: compute every row's bin as a byte (a loop the compiler vectorises), then count
    // the bytes with the interleaved histogram, which does not stall on runs of equal bins.
    uint8_t code[kBlock];
    const int8_t* c = s.c ? s.c + start : nullptr;
    const uint32_t rc = s.rc;
    for (std::size_t j = 0; j < len; ++j) {
      const uint32_t ab = static_cast<uint32_t>(a[j] + 1) * rb + static_cast<uint32_t>(b[j] + 1);
      code[j] = static_cast<uint8_t>(c ? ab * rc + static_cast<uint32_t>(c[j] + 1) : ab);
    }
    uint64_t counts[256] = {};
    byte_counts_detail::Histogram(reinterpret_cast<const int8_t*>(code), len, counts);
    uint32_t* h = hist + uint64_t{uniform} * kLanes * bins;
    for (uint32_t bin = 0; bin < bins; ++bin) h[bin] += static_cast<uint32_t>(counts[bin]);
    return;
  }
  if (!s.c) {
    for (std::size_t j = 0; j < len; ++j) {
      if (gid[j] == kSkip) continue;
      ++hist[(uint64_t{gid[j]} * kLanes + (j & 1)) * bins + static_cast<uint32_t>(a[j] + 1) * rb +
             static_cast<uint32_t>(b[j] + 1)];
    }
    return;
  }
  const int8_t* c = s.c + start;
  const uint32_t rc = s.rc;
  for (std::size_t j = 0; j < len; ++j) {
    if (gid[j] == kSkip) continue;
    ++hist[(uint64_t{gid[j]} * kLanes + (j & 1)) * bins +
           (static_cast<uint32_t>(a[j] + 1) * rb + static_cast<uint32_t>(b[j] + 1)) * rc +
           static_cast<uint32_t>(c[j] + 1)];
  }
}

Status Collector::Count() {
  if (Status s = Prepare(); !s.ok()) return s;
  const bool grouped = !dims_.empty();
  const uint32_t* customers = table_.customer_ids().data();
  uint32_t gid[kBlock];
  for (std::size_t start = begin_; !nothing_selected_ && start < end_; start += kBlock) {
    const std::size_t len = std::min(kBlock, end_ - start);
    const uint32_t uniform = BlockGroups(start, len, gid);
    if (uniform == kSkip) continue;  // nothing selected in this block
    for (Spec& s : specs_) CountBlock(s, start, len, gid, uniform);
    for (std::size_t i = 0; i < choice_hist_.size(); ++i) {
      const std::size_t k = survey_.questions[i].choices.size();
      if (k == 0) continue;
      const uint64_t* masks = table_.questions()[i].choices.data() + start;
      uint32_t* hist = choice_hist_[i].data();
      for (std::size_t j = 0; j < len; ++j) {
        if (gid[j] == kSkip) continue;
        for (uint64_t m = masks[j]; m != 0; m &= m - 1) {
          ++hist[gid[j] * k + static_cast<std::size_t>(__builtin_ctzll(m))];
        }
      }
    }
    // Visits: a share of rows carry a customer key, in no order, so these loops have no branch
    // per row. Grouped, each visit joins its group's list (Finish counts them per customer);
    // ungrouped, a customer's visits are counted here, rows without one in slot 0, which nothing
    // reads. Customer ids are in no order either: the counter a few rows ahead is fetched early.
    if (grouped) {
      std::size_t taken = 0;
      for (std::size_t j = 0; j < len; ++j) {
        const uint32_t c = customers[start + j];
        visit_customer_[taken] = c;
        visit_group_[taken] = gid[j];
        taken += (gid[j] != kSkip) & (c != 0);
      }
      for (std::size_t i = 0; i < taken; ++i) {
        group_customers_[visit_group_[i]].push_back(visit_customer_[i]);
      }
    } else {
      constexpr std::size_t kAhead = 16;
      for (std::size_t j = 0; j < len; ++j) {
        if (j + kAhead < len) __builtin_prefetch(&customer_visits_[customers[start + j + kAhead]]);
        const uint32_t c = customers[start + j];
        ++customer_visits_[gid[j] != kSkip ? c : 0];
      }
    }
  }
  return Status::Ok();
}

void Collector::Finish(bool with_customer_keys, Executor* executor) {
  stats.by = options_.by;
  stats.rows = table_.size();
  stats.all = EmptyStats(survey_);
  const bool grouped = !dims_.empty();

  // Statistics per group, then everything selected as their merge (exact: integer counts).
  std::vector<GroupStats> per_group(group_combo_.size());
  for (uint32_t g = 0; g < group_combo_.size(); ++g) {
    per_group[g] = EmptyStats(survey_);
    Decode(g, &per_group[g]);
    stats.selected += per_group[g].outcomes.Offered();
  }
  for (const GroupStats& g : per_group) (void)stats.all.Merge(g);
  if (grouped) {
    for (uint32_t g = 0; g < group_combo_.size(); ++g) stats.groups[KeyOf(g)] = per_group[g];
  }

  // Loyalty needs customers, not counts: visits per customer id, overall and per group. Each
  // group's visits are walked once; a stamp says whether a customer was seen in this group yet.
  // Groups are independent, so the executor's tasks take every n-th group, each with its own
  // tallies, whose visits add up to everything's. Customer ids come in no order: the tally a few
  // visits ahead is fetched early.
  struct Tally {
    uint32_t stamp = 0;  // group + 1 of the last group that counted this customer
    uint32_t in_group = 0;
    uint32_t visits = 0;  // in all groups of this task
  };
  std::vector<std::vector<Tally>> tallies;
  if (grouped) {
    const uint32_t groups = static_cast<uint32_t>(group_combo_.size());
    std::vector<LoyaltyCounts> counts_of(groups);
    std::vector<GroupStats*> stats_of(groups, nullptr);
    for (uint32_t g = 0; g < groups && with_customer_keys; ++g)
      stats_of[g] = &stats.groups[KeyOf(g)];
    // Each group's visits: its own list, then those of absorbed parts, in row order.
    std::vector<std::vector<const std::vector<uint32_t>*>> lists(groups);
    std::size_t total_visits = 0;
    for (uint32_t g = 0; g < groups; ++g) {
      lists[g].push_back(&group_customers_[g]);
      lists[g].insert(lists[g].end(), absorbed_visits_[g].begin(), absorbed_visits_[g].end());
      for (const std::vector<uint32_t>* v : lists[g]) total_visits += v->size();
    }
    const unsigned tasks = executor && groups > 1 && total_visits >= (std::size_t{1} << 14)
                               ? std::min<unsigned>(executor->Concurrency(), groups)
                               : 1;
    tallies.resize(tasks);
    auto walk = [&](unsigned task) {
      std::vector<Tally>& tally = tallies[task];
      tally.resize(uint64_t{table_.customers().Size()} + 1);
      constexpr std::size_t kAhead = 16;
      for (uint32_t g = task; g < groups; g += tasks) {
        LoyaltyCounts& counts = counts_of[g];
        for (const std::vector<uint32_t>* list : lists[g]) {
          const std::vector<uint32_t>& visits = *list;
          const std::size_t n = visits.size();
          for (std::size_t i = 0; i < n; ++i) {
            if (i + kAhead < n) __builtin_prefetch(&tally[visits[i + kAhead]]);
            Tally& t = tally[visits[i]];
            ++t.visits;
            if (t.stamp != g + 1) {
              t.stamp = g + 1;
              t.in_group = 0;
              ++counts.customers;
            }
            counts.returning += ++t.in_group == 2;
          }
          counts.visits += n;
        }
        if (stats_of[g] != nullptr) {
          for (const std::vector<uint32_t>* list : lists[g]) {
            for (uint32_t c : *list) {
              if (tally[c].stamp != g + 1) continue;  // already added
              (void)stats_of[g]->customers.Add(table_.customers().Value(c), tally[c].in_group);
              tally[c].stamp = 0;
            }
          }
        }
      }
    };
    if (tasks > 1) {
      executor->Run(tasks, walk);
    } else {
      walk(0);
    }
    for (uint32_t g = 0; g < groups; ++g) group_loyalty[KeyOf(g)] = counts_of[g];
  }
  absorbed_visits_.clear();  // the absorbed parts may go now
  for (uint32_t c = 1; c < customer_visits_.size(); ++c) {
    uint32_t v = customer_visits_[c];
    for (const std::vector<Tally>& tally : tallies) v += tally[c].visits;
    if (v == 0) continue;
    ++all_loyalty.customers;
    all_loyalty.returning += v >= 2;
    all_loyalty.visits += v;
    if (with_customer_keys) (void)stats.all.customers.Add(table_.customers().Value(c), v);
  }
}

GroupKey Collector::KeyOf(uint32_t group) const {
  GroupKey key(dims_.size());
  uint64_t combo = group_combo_[group];
  for (std::size_t d = dims_.size(); d-- > 0;) {
    const Dim& dim = dims_[d];
    const uint64_t digit = combo % dim.card;
    combo /= dim.card;
    if (dim.period) {
      key[d] = PeriodLabel(*options_.by[d].period, period_first_day_[d][digit]);
    } else if (digit > 0) {
      key[d] = dim.dictionary->Value(static_cast<uint32_t>(digit));
    }
  }
  return key;
}

void Collector::Decode(uint32_t group, GroupStats* out) const {
  for (const Spec& s : specs_) {
    std::vector<uint64_t> h(s.bins, 0);
    for (uint32_t lane = 0; lane < kLanes; ++lane) {
      const uint32_t* counts = s.hist.data() + (uint64_t{group} * kLanes + lane) * s.bins;
      for (uint32_t bin = 0; bin < s.bins; ++bin) h[bin] += counts[bin];
    }
    if (s.kind == Spec::kFused) {
      // Each part's counts: what the kernel counted directly plus its margin of the histogram.
      const uint64_t* direct = s.direct.data() + uint64_t{group} * s.direct_width;
      for (const Part& part : s.parts) {
        std::vector<uint64_t> m(direct + part.offset, direct + part.offset + part.radix);
        for (uint32_t bin = 0; bin < s.bins; ++bin) {
          if (h[bin] != 0) m[bin / part.stride % part.radix] += h[bin];
        }
        if (part.kind == Part::kOutcome) {
          out->outcomes.completed += m[1 + static_cast<int>(Outcome::kCompleted)];
          out->outcomes.partial += m[1 + static_cast<int>(Outcome::kPartial)];
          out->outcomes.declined += m[1 + static_cast<int>(Outcome::kDeclined)];
          out->outcomes.ignored += m[1 + static_cast<int>(Outcome::kIgnored)];
          continue;
        }
        const Question& q = survey_.questions[static_cast<std::size_t>(part.question)];
        QuestionStats& qs = out->questions[static_cast<std::size_t>(part.question)];
        if (part.kind == Part::kScale) {
          for (uint32_t v = 1; v < part.radix; ++v) {
            if (m[v] == 0) continue;
            (void)qs.answers.Add(q.scale.min + static_cast<int32_t>(v - 1), m[v]);
            qs.answered += m[v];
          }
          continue;
        }
        qs.answered += m[1] + m[2];
        if (q.kind == QuestionKind::kContact) qs.consent += m[2];
        if (q.kind == QuestionKind::kSingleChoice || q.kind == QuestionKind::kMultiChoice) {
          qs.other += m[2];
        }
      }
      continue;
    }
    const Question& q = survey_.questions[static_cast<std::size_t>(s.question)];
    QuestionStats& qs = out->questions[static_cast<std::size_t>(s.question)];
    switch (s.kind) {
      case Spec::kFused:
        break;
      case Spec::kCsi:
      case Spec::kCsiImportance:
      case Spec::kCsiPairs:
        for (uint32_t bin = 0; bin < s.bins; ++bin) {
          const uint64_t count = h[bin];
          if (count == 0) continue;
          const int32_t cv = static_cast<int32_t>(bin % s.rc) - 1;
          const int32_t bv = static_cast<int32_t>(bin / s.rc % s.rb) - 1;
          const int32_t av = static_cast<int32_t>(bin / s.rc / s.rb) - 1;
          const int32_t recommend_min = s.recommend_min;
          if (s.kind == Spec::kCsiPairs) {
            if (av >= 0 && bv >= 0) AddPairs(qs.pairs, q.scale.min + av, recommend_min + bv, count);
            continue;
          }
          if (bv < 0) continue;  // no answer (importance and satisfaction come together)
          qs.answered += count;
          (void)qs.csi.satisfaction.Add(q.scale.min + bv, count);
          if (q.importance_binary) {
            (av == 1 ? qs.csi.important : qs.csi.not_important) += count;
          } else {
            (void)qs.csi.importance_rating.Add(q.importance.min + av, count);
          }
          if (s.kind == Spec::kCsi && cv >= 0) {
            AddPairs(qs.pairs, q.scale.min + bv, recommend_min + cv, count);
          }
        }
        break;
    }
  }
  for (std::size_t i = 0; i < choice_hist_.size(); ++i) {
    const std::size_t k = survey_.questions[i].choices.size();
    for (std::size_t c = 0; c < k; ++c) {
      out->questions[i].choices[c] += choice_hist_[i][uint64_t{group} * k + c];
    }
  }
}

// Counts the table in as many ranges of rows as the executor runs at once (one without it, or for
// a table too small to be worth it), merged into the first collector, finished.
Result<std::unique_ptr<Collector>> Collect(const ResponseTable& table, const ReportOptions& options,
                                           Executor* executor, bool with_customer_keys) {
  constexpr std::size_t kMinRowsPerPart = 2 * Collector::kBlock;
  const std::size_t rows = table.size();
  std::size_t parts = executor ? executor->Concurrency() : 1;
  parts = std::max<std::size_t>(1, std::min(parts, rows / kMinRowsPerPart));
  // Ranges on block boundaries, so that each part counts whole blocks as one collector would.
  const std::size_t blocks = (rows + Collector::kBlock - 1) / Collector::kBlock;
  std::vector<std::unique_ptr<Collector>> collectors;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t begin = std::min(rows, blocks * i / parts * Collector::kBlock);
    const std::size_t end = std::min(rows, blocks * (i + 1) / parts * Collector::kBlock);
    collectors.push_back(std::make_unique<Collector>(table, options, begin, end));
  }
  std::vector<Status> status(parts);
  auto count = [&](unsigned i) { status[i] = collectors[i]->Count(); };
  if (parts > 1) {
    executor->Run(static_cast<unsigned>(parts), count);
  } else {
    count(0);
  }
  for (const Status& s : status) {
    if (!s.ok()) return s;
  }
  for (std::size_t i = 1; i < parts; ++i) collectors[0]->Absorb(*collectors[i]);
  collectors[0]->Finish(with_customer_keys, executor);  // walks the others' visit lists too
  return std::move(collectors[0]);
}

}  // namespace

Result<CollectedStats> CollectStats(const ResponseTable& table, const ReportOptions& options,
                                    Executor* executor) {
  Result<std::unique_ptr<Collector>> collector =
      Collect(table, options, executor, /*with_customer_keys=*/true);
  if (!collector.ok()) return collector.status();
  return std::move((*collector)->stats);
}

//-----------------------------------------------------------------------------
// [SECTION] Report
//-----------------------------------------------------------------------------

namespace {

// Which question feeds which headline index: the first with each role.
struct Roles {
  int nps = -1, csat = -1, ces = -1, cli_recommend = -1, cli_repurchase = -1, cli_cross_buy = -1;
  int recommend = -1;  // the score CSI drivers are measured against
  std::vector<int> csi;
  std::vector<std::string> warnings;

  explicit Roles(const Survey& survey) {
    std::map<MetricRole, std::vector<std::string>> seen;
    for (std::size_t i = 0; i < survey.questions.size(); ++i) {
      const Question& q = survey.questions[i];
      const int index = static_cast<int>(i);
      seen[q.metric].push_back(q.id);
      auto first = [&](int* slot) {
        if (*slot < 0) *slot = index;
      };
      switch (q.metric) {
        case MetricRole::kNone:
          break;
        case MetricRole::kNps:
          first(&nps);
          break;
        case MetricRole::kCsat:
          first(&csat);
          break;
        case MetricRole::kCes:
          first(&ces);
          break;
        case MetricRole::kCliRecommend:
          first(&cli_recommend);
          break;
        case MetricRole::kCliRepurchase:
          first(&cli_repurchase);
          break;
        case MetricRole::kCliCrossBuy:
          first(&cli_cross_buy);
          break;
        case MetricRole::kCsi:
          csi.push_back(index);
          break;
      }
    }
    recommend = nps >= 0 ? nps : cli_recommend;
    for (const auto& [role, ids] : seen) {
      if (role == MetricRole::kNone || role == MetricRole::kCsi || ids.size() < 2) continue;
      std::string list;
      for (std::size_t i = 1; i < ids.size(); ++i) list += (i > 1 ? ", " : "") + ids[i];
      warnings.push_back(std::to_string(ids.size()) + " questions have the metric role " +
                         MetricRoleName(role) + ": the headline index uses \"" + ids[0] + "\"; " +
                         list + " are reported under questions");
    }
  }
};

// Offers that showed question `index`: every offer for a series; for rotate_one, the question's
// share of the offers. The rotation is balanced within one draw per round on every device, so
// each pooled question got offered/k of the offers (the first offered%k of the pool one more).
uint64_t QuestionOffered(const Survey& survey, int index, const metrics::OutcomeCounts& outcomes) {
  const uint64_t offered = outcomes.Offered();
  if (survey.mode == DeliveryMode::kSeries) return offered;
  const std::string& id = survey.questions[static_cast<std::size_t>(index)].id;
  auto it = std::find(survey.rotate_pool.begin(), survey.rotate_pool.end(), id);
  if (it == survey.rotate_pool.end()) return 0;
  const uint64_t k = survey.rotate_pool.size();
  const uint64_t position = static_cast<uint64_t>(it - survey.rotate_pool.begin());
  return offered / k + (position < offered % k ? 1 : 0);
}

// NPS of one 0..10 question with its own non-responders (offers that showed it, minus scores).
metrics::NpsResult NpsOf(const metrics::ScaleCounts& answers, uint64_t offered,
                         metrics::NonResponderTreatment treatment) {
  const metrics::NpsResult classic = *metrics::ComputeNps(answers);
  const uint64_t n = classic.promoters + classic.passives + classic.detractors;
  return metrics::NpsFromCounts(classic.promoters, classic.passives, classic.detractors,
                                offered > n ? offered - n : 0, treatment);
}

const metrics::ScaleCounts& AnswersOf(const GroupStats& g, int index) {
  return g.questions[static_cast<std::size_t>(index)].answers;
}

Indices ComputeIndices(const Survey& survey, const Roles& roles, const GroupStats& g,
                       const metrics::LoyaltyResult& loyalty, const ReportOptions& options) {
  Indices x;
  x.outcomes = g.outcomes;
  x.response_rate = metrics::ComputeResponseRate(g.outcomes, options.min_response_rate);
  auto id = [&](int index) { return survey.questions[static_cast<std::size_t>(index)].id; };
  if (roles.nps >= 0) {
    x.nps = NpsSummary{id(roles.nps), NpsOf(AnswersOf(g, roles.nps),
                                            QuestionOffered(survey, roles.nps, g.outcomes),
                                            options.nonresponders)};
  }
  if (roles.csat >= 0)
    x.csat = CsatSummary{id(roles.csat), *metrics::ComputeCsat(AnswersOf(g, roles.csat))};
  if (roles.ces >= 0) {
    CesSummary ces;
    ces.question = id(roles.ces);
    const metrics::ScaleCounts& answers = AnswersOf(g, roles.ces);
    if (answers.min_point() == 0 && answers.max_point() == 10) {
      ces.net = *metrics::ComputeCesNet(answers);
    } else {
      ces.agreement = *metrics::ComputeCes(answers);
    }
    x.ces = std::move(ces);
  }
  if (!roles.csi.empty()) {
    std::vector<std::pair<std::string, metrics::CsiAttributeStats>> attributes;
    for (int index : roles.csi) {
      attributes.emplace_back(id(index), g.questions[static_cast<std::size_t>(index)].csi);
    }
    CsiSummary csi;
    csi.result = *metrics::ComputeCsi(attributes);
    std::vector<metrics::DriverInput> drivers;
    std::vector<std::size_t> driver_of;
    for (std::size_t a = 0; a < roles.csi.size(); ++a) {
      const QuestionStats& qs = g.questions[static_cast<std::size_t>(roles.csi[a])];
      CsiAttributeSummary row;
      row.result = csi.result.attributes[a];
      row.mean = *metrics::Mean(qs.csi.satisfaction);
      csi.attributes.push_back(std::move(row));
      // Attributes with no pairs would enter the quadrant means as importance 0: leave them out.
      if (roles.recommend >= 0 && qs.pairs.n > 0) {
        const Question& q = survey.questions[static_cast<std::size_t>(roles.csi[a])];
        drivers.push_back({id(roles.csi[a]), qs.pairs, q.scale.min, q.scale.max});
        driver_of.push_back(a);
      }
    }
    if (roles.recommend >= 0) csi.drivers_vs = id(roles.recommend);
    if (!drivers.empty()) {
      Result<std::vector<metrics::DriverResult>> result = metrics::KeyDrivers(drivers);
      if (result.ok()) {
        for (std::size_t i = 0; i < result->size(); ++i) {
          csi.attributes[driver_of[i]].driver = (*result)[i];
        }
      }
    }
    x.csi = std::move(csi);
  }
  if (roles.cli_recommend >= 0 || roles.cli_repurchase >= 0 || roles.cli_cross_buy >= 0) {
    // The NPS question is the recommend item when the survey has no separate one.
    const int recommend = roles.cli_recommend >= 0 ? roles.cli_recommend : roles.nps;
    const metrics::ScaleCounts none;
    auto item = [&](int index) -> const metrics::ScaleCounts& {
      return index >= 0 ? AnswersOf(g, index) : none;
    };
    CliSummary cli;
    cli.result = *metrics::ComputeCli(item(recommend), item(roles.cli_repurchase),
                                      item(roles.cli_cross_buy));
    cli.recommend = recommend >= 0 ? id(recommend) : "";
    cli.repurchase = roles.cli_repurchase >= 0 ? id(roles.cli_repurchase) : "";
    cli.cross_buy = roles.cli_cross_buy >= 0 ? id(roles.cli_cross_buy) : "";
    x.cli = std::move(cli);
  }
  x.loyalty = loyalty;
  return x;
}

std::vector<QuestionSummary> SummariseQuestions(const Survey& survey, const GroupStats& g,
                                                const ReportOptions& options) {
  std::vector<QuestionSummary> out;
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    const Question& q = survey.questions[i];
    const QuestionStats& qs = g.questions[i];
    QuestionSummary s;
    s.id = q.id;
    s.kind = q.kind;
    s.metric = q.metric;
    s.offered = QuestionOffered(survey, static_cast<int>(i), g.outcomes);
    s.answered = qs.answered;
    if (IsScaleKind(q.kind)) {
      s.answers = qs.answers;
      s.mean = *metrics::Mean(qs.answers);
      switch (q.metric) {
        case MetricRole::kNps:
          s.net = NpsOf(qs.answers, s.offered, options.nonresponders);
          break;
        case MetricRole::kCliRecommend:
        case MetricRole::kCliRepurchase:
        case MetricRole::kCliCrossBuy:
          s.net = *metrics::ComputeNps(qs.answers);
          break;
        case MetricRole::kCsat:
          s.csat = *metrics::ComputeCsat(qs.answers);
          break;
        case MetricRole::kCes:
          if (q.scale.min == 0 && q.scale.max == 10) {
            s.net = *metrics::ComputeCesNet(qs.answers);
          } else {
            s.ces = *metrics::ComputeCes(qs.answers);
          }
          break;
        default:
          break;
      }
    }
    if (q.kind == QuestionKind::kCsiAttribute) {
      s.answers = qs.csi.satisfaction;
      s.mean = *metrics::Mean(qs.csi.satisfaction);
      s.csi = *metrics::ComputeCsiAttribute(q.id, qs.csi);
    }
    for (std::size_t c = 0; c < q.choices.size(); ++c) {
      s.choices.emplace_back(q.choices[c].id, qs.choices[c]);
    }
    s.other = qs.other;
    s.consent = qs.consent;
    out.push_back(std::move(s));
  }
  return out;
}

// `a` (statistics `ga`) against `b` (statistics `gb`): the changes a period group reports.
GroupChange Change(const Roles& roles, const Indices& a, const GroupStats& ga, const Indices& b,
                   const GroupStats& gb) {
  GroupChange change;
  if (a.nps && b.nps) change.nps = metrics::NpsDifference(a.nps->result, b.nps->result);
  change.response_rate = metrics::ShareDifference(a.outcomes.completed, a.outcomes.Offered(),
                                                  b.outcomes.completed, b.outcomes.Offered());
  if (roles.csat >= 0) {
    // The top-2 boxes, as ComputeCsat counts them.
    const metrics::ScaleCounts& sa = AnswersOf(ga, roles.csat);
    const metrics::ScaleCounts& sb = AnswersOf(gb, roles.csat);
    change.csat =
        metrics::ShareDifference(sa.CountBetween(sa.max_point() - 1, sa.max_point()), sa.Total(),
                                 sb.CountBetween(sb.max_point() - 1, sb.max_point()), sb.Total());
  }
  if (a.ces && b.ces) {
    if (a.ces->net) {
      change.ces = metrics::NpsDifference(*a.ces->net, *b.ces->net);
    } else {
      Result<metrics::Difference> d =
          metrics::MeanDifference(AnswersOf(ga, roles.ces), AnswersOf(gb, roles.ces));
      if (d.ok()) change.ces = *d;
    }
  }
  return change;
}

std::string RankIndexFor(const Roles& roles) {
  if (roles.nps >= 0) return "nps";
  if (roles.csat >= 0) return "csat";
  if (roles.ces >= 0) return "ces";
  if (!roles.csi.empty()) return "csi";
  if (roles.cli_recommend >= 0 || roles.cli_repurchase >= 0 || roles.cli_cross_buy >= 0) {
    return "cli";
  }
  return "response_rate";
}

std::string Percent(double v) { return FormatNumber(v, 1) + "%"; }

Result<Report> ComputeReportImpl(const Survey& survey, const CollectedStats& stats,
                                 const ReportOptions& options, const InputIssues* issues,
                                 const metrics::LoyaltyResult& all_loyalty,
                                 const std::map<GroupKey, metrics::LoyaltyResult>& group_loyalty) {
  if (stats.all.questions.size() != survey.questions.size()) {
    return Status::InvalidArgument("statistics do not belong to survey \"" + survey.id + "\"");
  }
  const Roles roles(survey);
  Report r;
  r.survey = survey.id;
  r.options = options;
  r.rows = stats.rows;
  r.selected = stats.selected;
  r.by = stats.by;
  r.all = ComputeIndices(survey, roles, stats.all, all_loyalty, options);
  r.questions = SummariseQuestions(survey, stats.all, options);

  int period_dim = -1;
  for (std::size_t d = 0; d < stats.by.size(); ++d) {
    if (stats.by[d].period && period_dim < 0) period_dim = static_cast<int>(d);
  }
  auto label_without_period = [&](const GroupKey& key) {
    std::string label;
    for (std::size_t d = 0; d < key.size(); ++d) {
      if (static_cast<int>(d) == period_dim) continue;
      label += (label.empty() ? "" : " / ") + (key[d].empty() ? std::string("(none)") : key[d]);
    }
    return label;
  };

  std::vector<const GroupStats*> group_stats;
  for (const auto& [key, g] : stats.groups) {
    GroupEntry e;
    e.key = key;
    auto it = group_loyalty.find(key);
    e.indices = ComputeIndices(
        survey, roles, g,
        it != group_loyalty.end() ? it->second : metrics::ComputeLoyalty(g.customers), options);
    r.groups.push_back(std::move(e));
    group_stats.push_back(&g);
  }

  // Rankings: all groups together, or within each period when grouping by period and more.
  const bool rank = !r.groups.empty() && !(period_dim >= 0 && stats.by.size() == 1);
  std::vector<std::string> too_few_names;
  if (rank) {
    r.ranked_by = RankIndexFor(roles);
    std::map<std::string, std::map<std::string, std::size_t>>
        partitions;  // within -> label -> entry
    for (std::size_t i = 0; i < r.groups.size(); ++i) {
      const std::string within = period_dim >= 0 ? r.groups[i].key[period_dim] : "";
      partitions[within][label_without_period(r.groups[i].key)] = i;
    }
    for (const auto& [within, members] : partitions) {
      std::map<std::string, Estimate> estimates;
      for (const auto& [label, index] : members) {
        estimates[label] = *IndexEstimate(r.groups[index].indices, r.ranked_by);
      }
      const metrics::Ranking ranking = metrics::Rank(estimates, options.min_n);
      for (const metrics::RankedGroup& g : ranking.ranked) {
        r.groups[members.at(g.group)].rank =
            GroupRank{r.ranked_by, within, g.rank, ranking.ranked.size(), false};
      }
      for (const metrics::RankedGroup& g : ranking.too_few) {
        r.groups[members.at(g.group)].rank =
            GroupRank{r.ranked_by, within, 0, ranking.ranked.size(), true};
        too_few_names.push_back(within.empty() ? g.group : g.group + " (" + within + ")");
      }
    }
  }

  // Changes: each period vs the previous period present in the same series (same other keys).
  if (period_dim >= 0) {
    std::map<std::string, std::vector<std::size_t>> series;
    for (std::size_t i = 0; i < r.groups.size(); ++i) {
      series[label_without_period(r.groups[i].key)].push_back(i);
    }
    for (auto& [label, members] : series) {
      std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
        return r.groups[a].key[period_dim] < r.groups[b].key[period_dim];
      });
      for (std::size_t m = 1; m < members.size(); ++m) {
        const std::size_t cur = members[m], prev = members[m - 1];
        GroupChange change = Change(roles, r.groups[cur].indices, *group_stats[cur],
                                    r.groups[prev].indices, *group_stats[prev]);
        change.vs = r.groups[prev].key[period_dim];
        r.groups[cur].change = std::move(change);
      }
    }
  }

  // Warnings, in words.
  std::vector<std::string>& w = r.warnings;
  if (issues) {
    if (issues->refused > 0) {
      std::string reasons;
      for (const auto& [reason, count] : issues->by_reason) {
        reasons += (reasons.empty() ? "" : ", ") + std::to_string(count) + " " + reason;
      }
      w.push_back(std::to_string(issues->refused) + " of " + std::to_string(issues->read) +
                  " lines were refused and left out (" + reasons + ")");
      for (const InputIssue& issue : issues->listed) {
        w.push_back("line " + std::to_string(issue.line) + ": " + issue.message);
      }
      if (issues->refused > issues->listed.size()) {
        w.push_back("... and " + std::to_string(issues->refused - issues->listed.size()) +
                    " more refused lines not listed");
      }
    }
    if (issues->other_survey > 0) {
      w.push_back(std::to_string(issues->other_survey) +
                  " lines belong to other surveys and were left out");
    }
  }
  for (const std::string& warning : roles.warnings) w.push_back(warning);
  if (r.selected == 0) {
    w.push_back("no offers match the filters: every index below is \"no data\"");
  } else if (r.all.response_rate.unrepresentative) {
    w.push_back("response rate " + Percent(r.all.response_rate.rate.value) + " is below " +
                Percent(options.min_response_rate) +
                ": the answers may not represent the customers");
  }
  if (r.all.nps && r.selected > 0) {
    const Estimate& classic = r.all.nps->result.classic;
    if (classic.n < options.min_n) {
      w.push_back("NPS rests on " + std::to_string(classic.n) + " answers (fewer than " +
                  std::to_string(options.min_n) + "): treat it as indicative");
    }
  }
  if (!too_few_names.empty()) {
    std::string names;
    for (std::size_t i = 0; i < too_few_names.size() && i < 10; ++i) {
      names += (i ? ", " : "") + too_few_names[i];
    }
    if (too_few_names.size() > 10) names += ", ...";
    w.push_back(std::to_string(too_few_names.size()) + " group" +
                (too_few_names.size() == 1 ? " has" : "s have") + " fewer than " +
                std::to_string(options.min_n) + " answers and " +
                (too_few_names.size() == 1 ? "is" : "are") + " not ranked: " + names);
  }
  if (survey.mode == DeliveryMode::kRotateOne) {
    w.push_back(
        "rotate_one: each question is asked of its share of the offers; every question's "
        "results pool only the customers who were asked it");
  }
  return r;
}

}  // namespace

std::optional<Estimate> IndexEstimate(const Indices& x, std::string_view index) {
  if (index == "nps" && x.nps) return x.nps->result.nps;
  if (index == "csat" && x.csat) return x.csat->result.top2;
  if (index == "ces" && x.ces) return x.ces->agreement ? x.ces->agreement->mean : x.ces->net->nps;
  if (index == "csi" && x.csi) return x.csi->result.index;
  if (index == "cli" && x.cli) return x.cli->result.index;
  if (index == "response_rate") return x.response_rate.rate;
  return std::nullopt;
}

Result<GroupChange> CompareStats(const Survey& survey, const GroupStats& current,
                                 const GroupStats& previous, const ReportOptions& options) {
  if (current.questions.size() != survey.questions.size() ||
      previous.questions.size() != survey.questions.size()) {
    return Status::InvalidArgument("statistics do not belong to survey \"" + survey.id + "\"");
  }
  const Roles roles(survey);
  const metrics::LoyaltyResult none;  // loyalty has no change: not computed
  return Change(roles, ComputeIndices(survey, roles, current, none, options), current,
                ComputeIndices(survey, roles, previous, none, options), previous);
}

Result<Report> ReportFromStats(const Survey& survey, const CollectedStats& stats,
                               const ReportOptions& options, const InputIssues* issues) {
  return ComputeReportImpl(survey, stats, options, issues,
                           metrics::ComputeLoyalty(stats.all.customers), {});
}

Result<Report> BuildReport(const ResponseTable& table, const ReportOptions& options,
                           Executor* executor) {
  Result<std::unique_ptr<Collector>> result =
      Collect(table, options, executor, /*with_customer_keys=*/false);
  if (!result.ok()) return result.status();
  const Collector& collector = **result;
  auto loyalty = [](const LoyaltyCounts& c) {
    return metrics::LoyaltyFromCounts(c.customers, c.returning, c.visits);
  };
  std::map<GroupKey, metrics::LoyaltyResult> groups;
  for (const auto& [key, counts] : collector.group_loyalty) groups[key] = loyalty(counts);
  return ComputeReportImpl(table.survey(), collector.stats, options, &table.issues(),
                           loyalty(collector.all_loyalty), groups);
}

Result<Report> BuildReport(const Survey& survey, const std::vector<ResponseRecord>& records,
                           const ReportOptions& options) {
  ResponseTable table(survey);
  table.Reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) (void)table.Add(records[i], i + 1);
  return BuildReport(table, options);
}

//-----------------------------------------------------------------------------
// [SECTION] Output
//-----------------------------------------------------------------------------

namespace {

void AddEstimate(Json& j, const Estimate& e) {
  j.Add("value", Json::Number(e.value));
  j.Add("n", Json::Count(e.n));
  j.Add("ci95", Json::Array().Push(Json::Number(e.lo)).Push(Json::Number(e.hi)));
}

Json EstimateJson(const Estimate& e) {
  Json j = Json::Object();
  AddEstimate(j, e);
  return j;
}

Json DifferenceJson(const std::optional<metrics::Difference>& d) {
  if (!d) return Json::Null();
  Json j = EstimateJson(d->difference);
  j.Add("significant", Json::Bool(d->significant));
  return j;
}

Json NpsJson(const metrics::NpsResult& r, const std::string& question) {
  Json j = Json::Object();
  if (!question.empty()) j.Add("question", Json::Str(question));
  AddEstimate(j, r.nps);
  j.Add("promoters", Json::Count(r.promoters));
  j.Add("passives", Json::Count(r.passives));
  j.Add("detractors", Json::Count(r.detractors));
  j.Add("silent", Json::Count(r.non_responders));
  j.Add("nonresponders", Json::Str(metrics::TreatmentName(r.treatment)));
  j.Add("classic", EstimateJson(r.classic));
  j.Add("bounds", Json::Array().Push(Json::Number(r.bound_lo)).Push(Json::Number(r.bound_hi)));
  return j;
}

Json NetJson(const metrics::NpsResult& r) {
  Json j = EstimateJson(r.classic);
  j.Add("promoters", Json::Count(r.promoters));
  j.Add("passives", Json::Count(r.passives));
  j.Add("detractors", Json::Count(r.detractors));
  return j;
}

Json OutcomesJson(const metrics::OutcomeCounts& o) {
  return Json::Object()
      .Add("completed", Json::Count(o.completed))
      .Add("partial", Json::Count(o.partial))
      .Add("declined", Json::Count(o.declined))
      .Add("ignored", Json::Count(o.ignored));
}

Json ResponseRateJson(const metrics::ResponseRateResult& r) {
  Json j = EstimateJson(r.rate);
  j.Add("completed", Json::Count(r.completed));
  j.Add("low", Json::Bool(r.unrepresentative));
  return j;
}

Json CsatJson(const std::optional<CsatSummary>& c) {
  if (!c) return Json::Null();
  return Json::Object()
      .Add("question", Json::Str(c->question))
      .Add("top2", EstimateJson(c->result.top2))
      .Add("mean", EstimateJson(c->result.mean));
}

Json CesJson(const std::optional<CesSummary>& c) {
  if (!c) return Json::Null();
  Json j = Json::Object();
  j.Add("question", Json::Str(c->question));
  if (c->agreement) {
    j.Add("mean", EstimateJson(c->agreement->mean));
    j.Add("agree", EstimateJson(c->agreement->agree));
    j.Add("agree_from", Json::Int(c->agreement->agree_from));
  } else {
    j.Add("net", NetJson(*c->net));
  }
  return j;
}

Json PercentOf(uint64_t part, uint64_t whole) {
  if (whole == 0) return Json::Null();
  return Json::Number(100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

Json CsiJson(const std::optional<CsiSummary>& c) {
  if (!c) return Json::Null();
  Json j = Json::Object();
  j.Add("index", EstimateJson(c->result.index));
  j.Add("score", EstimateJson(c->result.score));
  j.Add("drivers_vs", Json::StrOrNull(c->drivers_vs));
  Json attributes = Json::Array();
  for (const CsiAttributeSummary& a : c->attributes) {
    const metrics::CsiAttributeResult& r = a.result;
    const uint64_t n = r.promoters + r.neutrals + r.critics;
    Json row = Json::Object();
    row.Add("id", Json::Str(r.attribute));
    row.Add("importance", EstimateJson(r.importance));
    row.Add("promoters_pct", PercentOf(r.promoters, n));
    row.Add("neutrals_pct", PercentOf(r.neutrals, n));
    row.Add("critics_pct", PercentOf(r.critics, n));
    row.Add("index", EstimateJson(r.index));
    row.Add("mean", EstimateJson(a.mean));
    row.Add("satisfaction", EstimateJson(r.satisfaction));
    row.Add("correlation", a.driver ? EstimateJson(a.driver->correlation) : Json::Null());
    row.Add("quadrant",
            a.driver ? Json::Str(metrics::QuadrantName(a.driver->quadrant)) : Json::Null());
    attributes.Push(std::move(row));
  }
  j.Add("attributes", std::move(attributes));
  return j;
}

Json CliJson(const std::optional<CliSummary>& c) {
  if (!c) return Json::Null();
  auto item = [](const std::string& question, const metrics::CliItemResult& r) {
    if (question.empty()) return Json::Null();
    return Json::Object()
        .Add("question", Json::Str(question))
        .Add("mean", EstimateJson(r.mean))
        .Add("net", EstimateJson(r.net.classic));
  };
  return Json::Object()
      .Add("index", EstimateJson(c->result.index))
      .Add("recommend", item(c->recommend, c->result.recommend))
      .Add("repurchase", item(c->repurchase, c->result.repurchase))
      .Add("cross_buy", item(c->cross_buy, c->result.cross_buy));
}

Json LoyaltyJson(const metrics::LoyaltyResult& l) {
  return Json::Object()
      .Add("customers", Json::Count(l.customers))
      .Add("returning", Json::Count(l.returning_customers))
      .Add("visits", Json::Count(l.visits))
      .Add("loyalty_rate", EstimateJson(l.loyalty_rate))
      .Add("repeat_purchase_rate", EstimateJson(l.repeat_purchase_rate));
}

void AddIndices(Json& j, const Indices& x) {
  j.Add("offered", Json::Count(x.outcomes.Offered()));
  j.Add("outcomes", OutcomesJson(x.outcomes));
  j.Add("response_rate", ResponseRateJson(x.response_rate));
  j.Add("nps", x.nps ? NpsJson(x.nps->result, x.nps->question) : Json::Null());
  j.Add("csat", CsatJson(x.csat));
  j.Add("ces", CesJson(x.ces));
  j.Add("csi", CsiJson(x.csi));
  j.Add("cli", CliJson(x.cli));
  j.Add("loyalty", LoyaltyJson(x.loyalty));
}

Json QuestionJson(const QuestionSummary& q) {
  Json j = Json::Object();
  j.Add("id", Json::Str(q.id));
  j.Add("kind", Json::Str(QuestionKindName(q.kind)));
  j.Add("metric", Json::StrOrNull(MetricRoleName(q.metric)));
  j.Add("offered", Json::Count(q.offered));
  j.Add("answered", Json::Count(q.answered));
  if (q.answers.has_scale()) {
    j.Add("scale", Json::Array()
                       .Push(Json::Int(q.answers.min_point()))
                       .Push(Json::Int(q.answers.max_point())));
    Json counts = Json::Array();
    for (uint64_t c : q.answers.counts()) counts.Push(Json::Count(c));
    j.Add("counts", std::move(counts));
  }
  if (q.mean) j.Add("mean", EstimateJson(*q.mean));
  if (q.net) {
    j.Add("net", q.metric == MetricRole::kNps ? NpsJson(*q.net, "") : NetJson(*q.net));
  }
  if (q.csat) j.Add("top2", EstimateJson(q.csat->top2));
  if (q.ces) {
    j.Add("agree", EstimateJson(q.ces->agree));
    j.Add("agree_from", Json::Int(q.ces->agree_from));
  }
  if (q.csi) {
    j.Add("importance", EstimateJson(q.csi->importance));
    j.Add("promoters", Json::Count(q.csi->promoters));
    j.Add("neutrals", Json::Count(q.csi->neutrals));
    j.Add("critics", Json::Count(q.csi->critics));
    j.Add("index", EstimateJson(q.csi->index));
  }
  if (q.kind == QuestionKind::kSingleChoice || q.kind == QuestionKind::kMultiChoice) {
    Json choices = Json::Object();
    for (const auto& [id, count] : q.choices) choices.Add(id, Json::Count(count));
    j.Add("choices", std::move(choices));
    j.Add("other", Json::Count(q.other));
  }
  if (q.kind == QuestionKind::kContact) j.Add("consent", Json::Count(q.consent));
  return j;
}

Json GroupsJson(const Report& r) {
  Json by = Json::Array();
  for (const GroupBy& g : r.by) by.Push(Json::Str(g.Name()));
  Json entries = Json::Array();
  for (const GroupEntry& e : r.groups) {
    Json key = Json::Object();
    for (std::size_t d = 0; d < e.key.size() && d < r.by.size(); ++d) {
      key.Add(r.by[d].Name(), Json::StrOrNull(e.key[d]));
    }
    Json j = Json::Object();
    j.Add("key", std::move(key));
    AddIndices(j, e.indices);
    if (e.rank) {
      j.Add("rank",
            Json::Object()
                .Add("by", Json::Str(e.rank->index))
                .Add("within", Json::StrOrNull(e.rank->within))
                .Add("position", e.rank->too_few ? Json::Null() : Json::Int(e.rank->position))
                .Add("of", Json::Count(e.rank->of))
                .Add("too_few", Json::Bool(e.rank->too_few)));
    } else {
      j.Add("rank", Json::Null());
    }
    if (e.change) {
      j.Add("change", Json::Object()
                          .Add("vs", Json::Str(e.change->vs))
                          .Add("nps", DifferenceJson(e.change->nps))
                          .Add("response_rate", DifferenceJson(e.change->response_rate))
                          .Add("csat", DifferenceJson(e.change->csat))
                          .Add("ces", DifferenceJson(e.change->ces)));
    } else {
      j.Add("change", Json::Null());
    }
    entries.Push(std::move(j));
  }
  return Json::Object()
      .Add("by", std::move(by))
      .Add("ranked_by", Json::StrOrNull(r.ranked_by))
      .Add("min_n", Json::Count(r.options.min_n))
      .Add("entries", std::move(entries));
}

std::string TimeOrEmpty(const std::optional<int64_t>& ms) {
  return ms ? FormatIsoTime(*ms) : std::string();
}

}  // namespace

std::string ReportToJson(const Report& r) {
  Json where = Json::Array();
  for (const auto& [key, value] : r.options.where) where.Push(Json::Str(key + "=" + value));
  Json by = Json::Array();
  for (const GroupBy& g : r.by) by.Push(Json::Str(g.Name()));
  Json meta = Json::Object()
                  .Add("survey", Json::Str(r.survey))
                  .Add("rows", Json::Count(r.rows))
                  .Add("selected", Json::Count(r.selected))
                  .Add("from", Json::StrOrNull(TimeOrEmpty(r.options.from_ms)))
                  .Add("to", Json::StrOrNull(TimeOrEmpty(r.options.to_ms)))
                  .Add("where", std::move(where))
                  .Add("by", std::move(by))
                  .Add("nonresponders", Json::Str(metrics::TreatmentName(r.options.nonresponders)))
                  .Add("min_n", Json::Count(r.options.min_n))
                  .Add("min_response_rate", Json::Number(r.options.min_response_rate));
  Json root = Json::Object();
  root.Add("report", std::move(meta));
  AddIndices(root, r.all);
  Json questions = Json::Array();
  for (const QuestionSummary& q : r.questions) questions.Push(QuestionJson(q));
  root.Add("questions", std::move(questions));
  root.Add("groups", GroupsJson(r));
  Json warnings = Json::Array();
  for (const std::string& w : r.warnings) warnings.Push(Json::Str(w));
  root.Add("warnings", std::move(warnings));
  std::string out;
  root.WritePretty(&out, 0);
  return out + "\n";
}

namespace {

// Code points, which is what a terminal shows for the Latin and Cyrillic text of our surveys.
std::size_t Width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Columns padded to their widest cell; the first `left` columns left-aligned, the rest right
// but for a last column of notes (left-aligned too when `notes`).
std::string Columns(const std::vector<std::vector<std::string>>& rows, std::size_t left,
                    bool notes = false) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - Width(row[c]), ' ');
      if (c) line += "  ";
      line += c < left || (notes && c + 1 == width.size()) ? row[c] + pad : pad + row[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// Tables keep trailing zeros so that columns of numbers line up: 79.0, not 79.
std::string Fixed(double v, int decimals) {
  std::string s = FormatNumber(v, decimals);
  if (decimals == 0 || s == "null") return s;
  std::size_t dot = s.find('.');
  if (dot == std::string::npos) {
    s += ".";
    dot = s.size() - 1;
  }
  s.append(static_cast<std::size_t>(decimals) - (s.size() - dot - 1), '0');
  return s;
}
std::string Signed(double v, int decimals = 1) {
  std::string s = Fixed(v, decimals);
  return v > 0 && FormatNumber(v, decimals) != "0" ? "+" + s : s;
}
std::string Pct(double v) { return Fixed(v, 1) + "%"; }
std::string Interval(const Estimate& e, int decimals = 1) {
  return "[" + Fixed(e.lo, decimals) + ", " + Fixed(e.hi, decimals) + "]";
}
std::string Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : Pct(100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// One line per headline index: name, value, interval, n, details.
std::vector<std::vector<std::string>> IndexRows(const Indices& x) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"index", "value", "95% interval", "n", ""});
  const metrics::ResponseRateResult& rr = x.response_rate;
  rows.push_back({"Response rate", Pct(rr.rate.value), Interval(rr.rate), std::to_string(rr.rate.n),
                  std::to_string(rr.completed) + " completed of " + std::to_string(rr.offered) +
                      " offered" + (rr.unrepresentative ? " (low)" : "")});
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    const uint64_t total = n.promoters + n.passives + n.detractors;
    rows.push_back({"NPS (" + x.nps->question + ")", Signed(n.nps.value), Interval(n.nps),
                    std::to_string(n.nps.n),
                    "promoters " + Share(n.promoters, total) + ", passives " +
                        Share(n.passives, total) + ", detractors " + Share(n.detractors, total)});
    rows.push_back({"  silent customers", "", "", std::to_string(n.non_responders),
                    std::string("counted as: ") + metrics::TreatmentName(n.treatment) +
                        "; classic " + Signed(n.classic.value) + ", bounds " + Signed(n.bound_lo) +
                        " .. " + Signed(n.bound_hi)});
  }
  if (x.csat) {
    const metrics::CsatResult& c = x.csat->result;
    rows.push_back({"CSAT (" + x.csat->question + ")", Pct(c.top2.value), Interval(c.top2),
                    std::to_string(c.top2.n),
                    "top-2 boxes; mean " + Fixed(c.mean.value, 2) + " " + Interval(c.mean, 2)});
  }
  if (x.ces) {
    if (x.ces->agreement) {
      const metrics::CesResult& c = *x.ces->agreement;
      rows.push_back({"CES (" + x.ces->question + ")", Fixed(c.mean.value, 2), Interval(c.mean, 2),
                      std::to_string(c.mean.n),
                      "mean; agree (" + std::to_string(c.agree_from) + "+) " + Pct(c.agree.value) +
                          " " + Interval(c.agree)});
    } else {
      const metrics::NpsResult& c = *x.ces->net;
      rows.push_back({"CES (" + x.ces->question + ")", Signed(c.classic.value), Interval(c.classic),
                      std::to_string(c.classic.n), "net score, 0..10"});
    }
  }
  if (x.csi) {
    const metrics::CsiResult& c = x.csi->result;
    rows.push_back({"CSI index", Signed(c.index.value), Interval(c.index),
                    std::to_string(c.index.n), "importance-weighted attribute indices"});
    rows.push_back({"CSI 0-100", Fixed(c.score.value, 1), Interval(c.score),
                    std::to_string(c.score.n), "importance x satisfaction"});
  }
  if (x.cli) {
    const metrics::CliResult& c = x.cli->result;
    rows.push_back({"CLI", Fixed(c.index.value, 2), Interval(c.index, 2), std::to_string(c.index.n),
                    "mean of the item means, 0..10"});
  }
  const metrics::LoyaltyResult& l = x.loyalty;
  rows.push_back({"Loyalty rate", Pct(l.loyalty_rate.value), Interval(l.loyalty_rate),
                  std::to_string(l.customers),
                  std::to_string(l.returning_customers) + " of " + std::to_string(l.customers) +
                      " identified customers came back"});
  return rows;
}

}  // namespace

std::string ReportToTable(const Report& r) {
  std::string out = "Survey " + r.survey + ": " + std::to_string(r.selected) + " offers selected";
  if (r.selected != r.rows) out += " of " + std::to_string(r.rows);
  std::string filters;
  if (r.options.from_ms) filters += "from " + FormatIsoTime(*r.options.from_ms);
  if (r.options.to_ms)
    filters += (filters.empty() ? "" : ", ") + ("to " + FormatIsoTime(*r.options.to_ms));
  for (const auto& [key, value] : r.options.where) {
    filters += (filters.empty() ? "" : ", ") + key + "=" + value;
  }
  if (!filters.empty()) out += " (" + filters + ")";
  const metrics::OutcomeCounts& o = r.all.outcomes;
  out += "\nOutcomes: " + std::to_string(o.completed) + " completed, " + std::to_string(o.partial) +
         " partial, " + std::to_string(o.declined) + " declined, " + std::to_string(o.ignored) +
         " ignored\n\n";
  out += Columns(IndexRows(r.all), 1, /*notes=*/true);

  if (r.all.csi) {
    const CsiSummary& c = *r.all.csi;
    out += "\nCSI attributes" +
           (c.drivers_vs.empty() ? std::string()
                                 : " (drivers: correlation with " + c.drivers_vs + ")") +
           "\n";
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"attribute", "importance", "promoters", "neutrals", "critics", "index",
                    "95% interval", "n", "mean", "correlation", "quadrant"});
    for (const CsiAttributeSummary& a : c.attributes) {
      const metrics::CsiAttributeResult& x = a.result;
      const uint64_t n = x.promoters + x.neutrals + x.critics;
      rows.push_back({x.attribute, Pct(x.importance.value), Share(x.promoters, n),
                      Share(x.neutrals, n), Share(x.critics, n), Signed(x.index.value),
                      Interval(x.index), std::to_string(x.index.n), Fixed(a.mean.value, 2),
                      a.driver ? Fixed(a.driver->correlation.value, 2) : "-",
                      a.driver ? metrics::QuadrantName(a.driver->quadrant) : "-"});
    }
    out += Columns(rows, 1, /*notes=*/true);
  }

  if (!r.groups.empty()) {
    std::string by;
    for (const GroupBy& g : r.by) by += (by.empty() ? "" : " x ") + g.Name();
    out += "\nGroups by " + by;
    if (!r.ranked_by.empty()) {
      out += ", ranked by " + r.ranked_by + " (groups under " + std::to_string(r.options.min_n) +
             " answers are not ranked)";
    }
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head;
    for (const GroupBy& g : r.by) head.push_back(g.Name());
    const std::string index = r.ranked_by.empty() ? "nps" : r.ranked_by;
    for (const char* h : {"offered", "response", "index", "95% interval", "n", "rank", "change"}) {
      head.push_back(h);
    }
    head[r.by.size() + 2] = index;
    rows.push_back(head);
    for (const GroupEntry& e : r.groups) {
      std::vector<std::string> row;
      for (const std::string& k : e.key) row.push_back(k.empty() ? "(none)" : k);
      row.push_back(std::to_string(e.indices.outcomes.Offered()));
      row.push_back(Pct(e.indices.response_rate.rate.value));
      std::optional<Estimate> est = IndexEstimate(e.indices, index);
      const bool percent = index == "csat" || index == "response_rate";
      const bool mean =
          index == "cli" || (index == "ces" && e.indices.ces && e.indices.ces->agreement);
      if (est) {
        row.push_back(percent ? Pct(est->value) : mean ? Fixed(est->value, 2) : Signed(est->value));
        row.push_back(Interval(*est, mean ? 2 : 1));
        row.push_back(std::to_string(est->n));
      } else {
        row.insert(row.end(), {"-", "", "0"});
      }
      if (!e.rank) {
        row.push_back("");
      } else if (e.rank->too_few) {
        row.push_back("too few");
      } else {
        row.push_back(std::to_string(e.rank->position) + "/" + std::to_string(e.rank->of));
      }
      std::string change;
      if (e.change) {
        const std::optional<metrics::Difference>& d = index == "nps"    ? e.change->nps
                                                      : index == "csat" ? e.change->csat
                                                      : index == "ces"  ? e.change->ces
                                                                        : e.change->response_rate;
        if (d) {
          change = Signed(d->difference.value) + " vs " + e.change->vs +
                   (d->significant ? " (significant)" : " (not significant)");
        }
      }
      row.push_back(change);
      rows.push_back(std::move(row));
    }
    out += Columns(rows, r.by.size(), /*notes=*/true);
  }

  if (!r.warnings.empty()) {
    out += "\nWarnings\n";
    for (const std::string& w : r.warnings) out += "- " + w + "\n";
  }
  return out;
}

namespace {

void CsvEstimate(std::vector<std::string>& row, const std::optional<Estimate>& e) {
  if (!e) {
    row.insert(row.end(), {"", "", "", ""});
    return;
  }
  row.insert(row.end(), {FormatNumber(e->value), std::to_string(e->n), FormatNumber(e->lo),
                         FormatNumber(e->hi)});
}

std::vector<std::string> CsvRow(const Indices& x) {
  std::vector<std::string> row;
  const metrics::OutcomeCounts& o = x.outcomes;
  for (uint64_t v : {o.Offered(), o.completed, o.partial, o.declined, o.ignored}) {
    row.push_back(std::to_string(v));
  }
  CsvEstimate(row, x.response_rate.rate);
  CsvEstimate(row, x.nps ? std::optional<Estimate>(x.nps->result.nps) : std::nullopt);
  CsvEstimate(row, x.csat ? std::optional<Estimate>(x.csat->result.top2) : std::nullopt);
  std::optional<Estimate> ces;
  if (x.ces) ces = x.ces->agreement ? x.ces->agreement->mean : x.ces->net->classic;
  CsvEstimate(row, ces);
  CsvEstimate(row, x.csi ? std::optional<Estimate>(x.csi->result.index) : std::nullopt);
  CsvEstimate(row, x.cli ? std::optional<Estimate>(x.cli->result.index) : std::nullopt);
  CsvEstimate(row, x.loyalty.loyalty_rate);
  return row;
}

}  // namespace

std::string ReportToCsv(const Report& r) {
  std::vector<std::string> head;
  for (const GroupBy& g : r.by) head.push_back(g.Name());
  for (const char* h : {"offered", "completed", "partial", "declined", "ignored"})
    head.push_back(h);
  for (const char* index :
       {"response_rate", "nps", "csat_top2", "ces", "csi", "cli", "loyalty_rate"}) {
    for (const char* part : {"", "_n", "_lo", "_hi"}) head.push_back(std::string(index) + part);
  }
  head.insert(head.end(), {"rank", "change_vs", "change", "change_significant"});
  std::string out = "\xEF\xBB\xBF";  // BOM: spreadsheets then read the text as UTF-8
  auto emit = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvCell(row[i]);
    out += "\r\n";
  };
  emit(head);
  std::vector<std::string> all(r.by.size(), "(all)");
  for (std::string& cell : CsvRow(r.all)) all.push_back(std::move(cell));
  all.insert(all.end(), {"", "", "", ""});
  emit(all);
  for (const GroupEntry& e : r.groups) {
    std::vector<std::string> row = e.key;
    for (std::string& cell : CsvRow(e.indices)) row.push_back(std::move(cell));
    row.push_back(!e.rank ? "" : e.rank->too_few ? "too few" : std::to_string(e.rank->position));
    if (e.change) {
      const std::optional<metrics::Difference>& d = r.ranked_by == "csat"  ? e.change->csat
                                                    : r.ranked_by == "ces" ? e.change->ces
                                                    : e.change->nps        ? e.change->nps
                                                                    : e.change->response_rate;
      row.push_back(e.change->vs);
      row.push_back(d ? FormatNumber(d->difference.value) : "");
      row.push_back(d ? (d->significant ? "yes" : "no") : "");
    } else {
      row.insert(row.end(), {"", "", ""});
    }
    emit(row);
  }
  return out;
}

}  // namespace canvass
