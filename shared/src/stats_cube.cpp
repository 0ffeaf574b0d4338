#include "canvass/stats_cube.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include "canvass/interchange.h"
#include "wire.h"

namespace canvass {

namespace {

constexpr int64_t kDayMs = 86400000;

bool IsScaleKind(QuestionKind kind) {
  return kind == QuestionKind::kNps || kind == QuestionKind::kRating;
}
bool IsChoiceKind(QuestionKind kind) {
  return kind == QuestionKind::kSingleChoice || kind == QuestionKind::kMultiChoice;
}

int TagIndex(std::string_view key) {
  for (std::size_t i = 0; i < kCubeTags.size(); ++i) {
    if (key == kCubeTags[i]) return static_cast<int>(i);
  }
  return -1;
}

std::string CubeTagList() {
  std::string list;
  for (std::size_t i = 0; i < kCubeTags.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == kCubeTags.size() ? " and " : ", ") + std::string(kCubeTags[i]);
  }
  return list;
}

// "2026-11-22" (a period:day label) back to its day number.
std::optional<int64_t> DayOfLabel(const std::string& label) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(label.c_str(), "%d-%u-%u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  return DaysFromCivil(y, m, d);
}

// The statistics a cell can hold, whoever made them: counts add up to what was offered, every
// answer is one of the question's kind, every sum fits its scales. Decoded bytes and cells handed
// in by a store are held to the same rules, so nothing downstream trips over impossible counts.
Status CheckCell(const Survey& survey, const GroupStats& g) {
  const uint64_t offered = g.outcomes.Offered();
  const metrics::OutcomeCounts& o = g.outcomes;
  for (uint64_t v : {o.completed, o.partial, o.declined, o.ignored}) {
    if (v > kMaxCubeOffers) return Status::InvalidArgument("an outcome count is over 2^40");
  }
  if (offered == 0) return Status::InvalidArgument("a cell holds no offer");
  if (g.questions.size() != survey.questions.size()) {
    return Status::InvalidArgument("statistics of " + std::to_string(g.questions.size()) +
                                   " questions for a survey of " +
                                   std::to_string(survey.questions.size()));
  }
  const GroupStats empty = EmptyStats(survey);
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    const Question& q = survey.questions[i];
    const QuestionStats& s = g.questions[i];
    const QuestionStats& e = empty.questions[i];
    const std::string where = "question " + q.id + ": ";
    // The shape: the survey's scales and choices exactly.
    if (s.answers.has_scale() != e.answers.has_scale() || !s.answers.MergesWith(e.answers) ||
        s.csi.satisfaction.has_scale() != e.csi.satisfaction.has_scale() ||
        !s.csi.satisfaction.MergesWith(e.csi.satisfaction) ||
        s.csi.importance_rating.has_scale() != e.csi.importance_rating.has_scale() ||
        !s.csi.importance_rating.MergesWith(e.csi.importance_rating) ||
        s.choices.size() != e.choices.size()) {
      return Status::InvalidArgument(where + "statistics shaped for another definition");
    }
    if (s.answered > offered) return Status::InvalidArgument(where + "more answers than offers");
    const bool csi = q.kind == QuestionKind::kCsiAttribute;
    bool ok = s.answers.Total() == (IsScaleKind(q.kind) ? s.answered : 0);
    if (csi) {
      ok = ok && s.csi.satisfaction.Total() == s.answered;
      ok = ok && (q.importance_binary ? s.csi.important + s.csi.not_important == s.answered
                                      : s.csi.importance_rating.Total() == s.answered &&
                                            s.csi.important == 0 && s.csi.not_important == 0);
      const metrics::PairedStats& p = s.pairs;
      auto within = [&](int64_t v, uint64_t per) {
        const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        return magnitude <= p.n * per;
      };
      ok = ok && p.n <= s.answered && within(p.sum_x, 1000) && within(p.sum_y, 1000) &&
           p.sum_xx <= p.n * 1000000 && p.sum_yy <= p.n * 1000000 && within(p.sum_xy, 1000000);
    } else {
      ok = ok && s.csi == e.csi && s.pairs == metrics::PairedStats{};
    }
    for (uint64_t c : s.choices) ok = ok && c <= s.answered;
    ok = ok && s.other <= (IsChoiceKind(q.kind) ? s.answered : 0);
    ok = ok && s.consent <= (q.kind == QuestionKind::kContact ? s.answered : 0);
    if (!ok) return Status::InvalidArgument(where + "counts that do not add up");
  }
  if (g.customers.Visits() > offered) {
    return Status::InvalidArgument("more customer visits than offers");
  }
  return Status::Ok();
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Cells
//-----------------------------------------------------------------------------

bool CubeCellKey::operator<(const CubeCellKey& other) const {
  return std::tie(day, tags) < std::tie(other.day, other.tags);
}

int64_t CubeDayOf(int64_t time_ms) { return time_ms / kDayMs - (time_ms % kDayMs < 0 ? 1 : 0); }

//-----------------------------------------------------------------------------
// [SECTION] The cube
//-----------------------------------------------------------------------------

Result<StatsCube> StatsCube::ForDefinition(std::string definition_json) {
  Result<Survey> survey = ParseSurvey(definition_json);
  if (!survey.ok()) return survey.status();
  StatsCube cube;
  cube.definition_ = std::make_shared<const std::string>(std::move(definition_json));
  cube.survey_ = std::make_shared<const Survey>(std::move(*survey));
  return cube;
}

Status StatsCube::Add(const ResponseRecord& record) {
  InputIssues issues;
  if (Status s = AddRecords({record}, &issues); !s.ok()) return s;
  if (issues.other_survey > 0) {
    return Status::NotFound("record of survey \"" + record.survey_id + "\", not \"" + survey_->id +
                            "\"");
  }
  if (!issues.listed.empty()) return Status::InvalidArgument(issues.listed.front().message);
  return Status::Ok();
}

Status StatsCube::AddRecords(const std::vector<ResponseRecord>& records, InputIssues* issues) {
  // The report's own reader takes the records (what an answer means, what is refused), and its
  // own counting makes the cells: a cube cell is a report group by day and the four tags.
  if (offers_ + records.size() > kMaxCubeOffers) {
    return Status::Unavailable("a statistics cube holds at most 2^40 offers");
  }
  InputIssues found;
  std::vector<std::pair<CubeCellKey, std::size_t>> rows;  // cell key, record index
  rows.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const ResponseRecord& r = records[i];
    if (r.survey_id != survey_->id) {
      ++found.read;  // as ResponseTable::Add counts it: not an error, not ours
      ++found.other_survey;
      continue;
    }
    const int64_t day = CubeDayOf(r.device_time_ms);
    if (day < kMinCubeDay || day > kMaxCubeDay) {
      // Out of range for any calendar a report prints: one bad device clock must not stop the
      // whole cube (the period map of CollectStats spans the table's days).
      ++found.read;
      ++found.refused;
      ++found.by_reason[RefusalName(Refusal::kInvalid)];
      found.listed.push_back({i + 1, "time: device time " + std::to_string(r.device_time_ms) +
                                         " ms is not in the years 0000 to 9999"});
      continue;
    }
    CubeCellKey key;
    key.day = day;
    for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
      auto it = r.tags.find(kCubeTags[t]);
      if (it != r.tags.end()) key.tags[t] = it->second;
    }
    rows.emplace_back(std::move(key), i);
  }
  // CollectStats keeps a dense histogram per group, which suits reports (few groups, many rows)
  // but not thousands of cells of a few offers each. So the records go in by cell order, in
  // passes of at most kCellsPerPass cells, one table each.
  constexpr std::size_t kCellsPerPass = 64;
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Selection by_cell;
  by_cell.by.push_back(GroupBy{"", Period::kDay});
  for (const char* tag : kCubeTags) by_cell.by.push_back(GroupBy{tag, std::nullopt});
  for (std::size_t begin = 0; begin < rows.size();) {
    std::size_t end = begin, cells = 0;
    for (; end < rows.size(); ++end) {
      if (end == begin || rows[end - 1].first < rows[end].first) {
        if (cells == kCellsPerPass) break;
        ++cells;
      }
    }
    ResponseTable table(*survey_);
    table.Reserve(end - begin);
    for (std::size_t j = begin; j < end; ++j) {
      (void)table.Add(records[rows[j].second], rows[j].second + 1);  // refusals are counted
    }
    begin = end;
    const InputIssues& t = table.issues();
    found.read += t.read;
    found.refused += t.refused;
    for (const auto& [reason, count] : t.by_reason) found.by_reason[reason] += count;
    found.listed.insert(found.listed.end(), t.listed.begin(), t.listed.end());
    if (table.size() == 0) continue;
    Result<CollectedStats> stats = CollectStats(table, by_cell);
    if (!stats.ok()) return stats.status();
    for (auto& [key, group] : stats->groups) {
      std::optional<int64_t> day = DayOfLabel(key[0]);
      if (!day) return Status::Corruption("day label \"" + key[0] + "\" does not read back");
      CubeCellKey cell;
      cell.day = *day;
      for (std::size_t t = 0; t < kCubeTags.size(); ++t) cell.tags[t] = key[t + 1];
      // Shaped by EmptyStats like every cell: CollectStats made it, so it cannot be refused.
      offers_ += group.outcomes.Offered();
      if (Status s = cells_[cell].Merge(group); !s.ok()) return s;
    }
  }
  if (issues) {
    issues->read += found.read;
    issues->refused += found.refused;
    issues->other_survey += found.other_survey;
    for (const auto& [reason, count] : found.by_reason) issues->by_reason[reason] += count;
    issues->listed.insert(issues->listed.end(), found.listed.begin(), found.listed.end());
    std::stable_sort(issues->listed.begin(), issues->listed.end(),
                     [](const InputIssue& a, const InputIssue& b) { return a.line < b.line; });
    if (issues->listed.size() > kMaxListedIssues) issues->listed.resize(kMaxListedIssues);
  }
  return Status::Ok();
}

Status StatsCube::AddCell(const CubeCellKey& key, const GroupStats& stats) {
  if (key.day < kMinCubeDay || key.day > kMaxCubeDay) {
    return Status::InvalidArgument("cell day " + std::to_string(key.day) +
                                   " is not in the years 0000 to 9999");
  }
  if (Status s = CheckCell(*survey_, stats); !s.ok()) return s;
  const uint64_t offered = stats.outcomes.Offered();
  if (offers_ + offered > kMaxCubeOffers) {
    return Status::Unavailable("a statistics cube holds at most 2^40 offers");
  }
  auto it = cells_.find(key);
  if (it != cells_.end()) {
    GroupStats merged = it->second;
    if (Status s = merged.Merge(stats); !s.ok()) return s;
    if (Status s = CheckCell(*survey_, merged); !s.ok()) return s;
    it->second = std::move(merged);
  } else {
    cells_.emplace(key, stats);
  }
  offers_ += offered;
  return Status::Ok();
}

Status StatsCube::Merge(const StatsCube& other) {
  if (*definition_ != *other.definition_) {
    return Status::InvalidArgument(
        "statistics cubes of different survey definitions (\"" + survey_->id + "\" revision " +
        std::to_string(survey_->revision) + " and \"" + other.survey_->id + "\" revision " +
        std::to_string(other.survey_->revision) + ") do not merge");
  }
  if (offers_ + other.offers_ > kMaxCubeOffers) {
    return Status::Unavailable("a statistics cube holds at most 2^40 offers");
  }
  for (const auto& [key, stats] : other.cells_) {
    // Same definition, so same shape: merging cannot fail.
    if (Status s = cells_[key].Merge(stats); !s.ok()) return s;
  }
  offers_ += other.offers_;
  return Status::Ok();
}

bool StatsCube::operator==(const StatsCube& other) const {
  return *definition_ == *other.definition_ && cells_ == other.cells_;
}

//-----------------------------------------------------------------------------
// [SECTION] Encoding
//-----------------------------------------------------------------------------

namespace {

// The parts of one question's statistics its kind can hold, in a fixed order. Reading and
// writing walk the same list, so the two cannot disagree about the layout.
template <typename Io, typename Stats>
void WalkQuestion(const Question& q, Stats& s, Io& io) {
  io.Count(s.answered);
  if (IsScaleKind(q.kind)) io.Scale(s.answers);
  if (q.kind == QuestionKind::kCsiAttribute) {
    if (q.importance_binary) {
      io.Count(s.csi.important);
      io.Count(s.csi.not_important);
    } else {
      io.Scale(s.csi.importance_rating);
    }
    io.Scale(s.csi.satisfaction);
    io.Count(s.pairs.n);
    io.Signed(s.pairs.sum_x);
    io.Signed(s.pairs.sum_y);
    io.Count(s.pairs.sum_xx);
    io.Count(s.pairs.sum_yy);
    io.Signed(s.pairs.sum_xy);
  }
  for (auto& c : s.choices) io.Count(c);
  if (IsChoiceKind(q.kind)) io.Count(s.other);
  if (q.kind == QuestionKind::kContact) io.Count(s.consent);
}

struct WriteIo {
  wire::Writer& w;
  void Count(uint64_t v) { w.Var(v); }
  void Signed(int64_t v) { w.SignedVar(v); }
  void Scale(const metrics::ScaleCounts& s) {
    for (uint64_t c : s.counts()) w.Var(c);
  }
};

struct ReadIo {
  wire::Reader& r;
  void Count(uint64_t& v) {
    v = r.Var("a count");
    if (v > kMaxCubeOffers) throw wire::DecodeError("a count is over 2^40");
  }
  void Signed(int64_t& v) { v = r.SignedVar("a sum"); }
  void Scale(metrics::ScaleCounts& s) {
    for (int32_t i = 0; i < s.Points(); ++i) {
      uint64_t c = 0;
      Count(c);
      if (c > 0) (void)s.Add(s.min_point() + i, c);
    }
  }
};

// Sorted, unique, non-empty strings; id 0 is "", id i the (i-1)th string.
struct SortedStrings {
  std::vector<std::string> values;
  uint64_t Id(const std::string& v) const {
    if (v.empty()) return 0;
    return static_cast<uint64_t>(std::lower_bound(values.begin(), values.end(), v) -
                                 values.begin()) +
           1;
  }
};

void WriteDictionary(wire::Writer& w, const std::set<std::string>& values) {
  w.U32(static_cast<uint32_t>(values.size()));
  for (const std::string& v : values) w.Str(v);
}

SortedStrings ReadDictionary(wire::Reader& r, const char* what) {
  SortedStrings d;
  const uint32_t n = r.Count(what, 5);  // a length and at least one byte
  d.values.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string v = r.Str(what, kMaxTextLength);
    if (v.empty()) throw wire::DecodeError(std::string(what) + ": an empty entry");
    if (!d.values.empty() && !(d.values.back() < v)) {
      throw wire::DecodeError(std::string(what) + ": entries are not sorted and unique");
    }
    d.values.push_back(std::move(v));
  }
  return d;
}

// A cell's outcomes and question statistics (not its customers): four counts, then per question
// a presence flag and, if present, what WalkQuestion lists.
void WriteCellStats(wire::Writer& w, const Survey& survey, const GroupStats& empty,
                    const GroupStats& stats) {
  WriteIo io{w};
  const metrics::OutcomeCounts& o = stats.outcomes;
  for (uint64_t v : {o.completed, o.partial, o.declined, o.ignored}) w.Var(v);
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    const bool present = !(stats.questions[i] == empty.questions[i]);
    w.U8(present ? 1 : 0);
    if (present) WalkQuestion(survey.questions[i], stats.questions[i], io);
  }
}

GroupStats ReadCellStats(wire::Reader& r, const Survey& survey, const GroupStats& empty,
                         const std::string& where) {
  ReadIo io{r};
  GroupStats g = empty;
  uint64_t* outcomes[] = {&g.outcomes.completed, &g.outcomes.partial, &g.outcomes.declined,
                          &g.outcomes.ignored};
  for (uint64_t* v : outcomes) io.Count(*v);
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    if (!r.Bool("question flag")) continue;
    WalkQuestion(survey.questions[i], g.questions[i], io);
    if (g.questions[i] == empty.questions[i]) {
      throw wire::DecodeError(where + "question " + survey.questions[i].id +
                              " is marked as answered but holds nothing");
    }
  }
  return g;
}

}  // namespace

std::string EncodeStatsCube(const StatsCube& cube) {
  const Survey& survey = cube.survey();
  std::array<std::set<std::string>, 4> tag_values;
  std::set<std::string> customers;
  for (const auto& [key, stats] : cube.cells()) {
    for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
      if (!key.tags[t].empty()) tag_values[t].insert(key.tags[t]);
    }
    for (const auto& [customer, visits] : stats.customers.visits()) customers.insert(customer);
  }
  std::array<SortedStrings, 4> tag_ids;
  for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
    tag_ids[t].values.assign(tag_values[t].begin(), tag_values[t].end());
  }
  SortedStrings customer_ids;
  customer_ids.values.assign(customers.begin(), customers.end());

  wire::Writer w;
  w.U8(kStatsCubeVersion);
  w.Str(cube.definition());
  for (const auto& values : tag_values) WriteDictionary(w, values);
  WriteDictionary(w, customers);
  w.U32(static_cast<uint32_t>(cube.cells().size()));
  const GroupStats empty = EmptyStats(survey);
  bool first = true;
  int64_t previous_day = 0;
  for (const auto& [key, stats] : cube.cells()) {
    if (first) {
      w.SignedVar(key.day);
    } else {
      w.Var(static_cast<uint64_t>(key.day - previous_day));
    }
    first = false;
    previous_day = key.day;
    for (std::size_t t = 0; t < kCubeTags.size(); ++t) w.Var(tag_ids[t].Id(key.tags[t]));
    WriteCellStats(w, survey, empty, stats);
    const auto& visits = stats.customers.visits();
    w.Var(visits.size());
    uint64_t previous_id = 0;
    for (const auto& [customer, count] : visits) {
      const uint64_t id = customer_ids.Id(customer);
      w.Var(id - previous_id - 1);  // ids rise by at least one
      w.Var(count);
      previous_id = id;
    }
  }
  return w.Finish();
}

Result<StatsCube> DecodeStatsCube(std::string_view bytes) {
  Result<StatsCube> cube = Status::Corruption("statistics cube: not decoded");
  Result<bool> decoded = wire::DecodeWith<bool>("statistics cube", bytes, [&](wire::Reader& r) {
    const uint8_t version = r.U8();
    if (version != kStatsCubeVersion) {
      throw wire::DecodeError("version " + std::to_string(version) +
                              " is not one this build reads (1)");
    }
    Result<StatsCube> made = StatsCube::ForDefinition(r.Str("survey definition"));
    if (!made.ok()) throw wire::DecodeError("survey definition: " + made.status().message());
    StatsCube& c = *made;
    const Survey& survey = c.survey();
    std::array<SortedStrings, 4> tags;
    std::array<std::vector<bool>, 4> tag_used;
    for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
      tags[t] = ReadDictionary(r, kCubeTags[t]);
      tag_used[t].assign(tags[t].values.size(), false);
    }
    const SortedStrings customers = ReadDictionary(r, "customer keys");
    std::vector<bool> customer_used(customers.values.size(), false);
    // A cell takes at least: day, four tag ids, four outcomes, one flag per question, visits.
    const uint32_t cells = r.Count("cells", 10 + static_cast<uint32_t>(survey.questions.size()));
    if (cells > kMaxCubeCells) throw wire::DecodeError("more cells than a cube may hold");
    const GroupStats empty = EmptyStats(survey);
    ReadIo io{r};
    std::optional<CubeCellKey> previous;
    for (uint32_t n = 0; n < cells; ++n) {
      const std::string where = "cell " + std::to_string(n + 1) + ": ";
      CubeCellKey key;
      if (!previous) {
        key.day = r.SignedVar("day");
      } else {
        const uint64_t step = r.Var("day");
        if (step > static_cast<uint64_t>(kMaxCubeDay - kMinCubeDay)) {
          throw wire::DecodeError(where + "day out of range");
        }
        key.day = previous->day + static_cast<int64_t>(step);
      }
      for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
        const uint64_t id = r.Var("tag id");
        if (id > tags[t].values.size()) {
          throw wire::DecodeError(where + kCubeTags[t] + " id is not in the dictionary");
        }
        if (id > 0) {
          key.tags[t] = tags[t].values[id - 1];
          tag_used[t][id - 1] = true;
        }
      }
      if (previous && !(*previous < key)) {
        throw wire::DecodeError(where + "cells are not in key order, or repeat");
      }
      GroupStats g = ReadCellStats(r, survey, empty, where);
      const uint64_t visits = r.Var("customer count");
      if (visits > customers.values.size()) {
        throw wire::DecodeError(where + "more customers than the dictionary holds");
      }
      uint64_t id = 0;
      for (uint64_t v = 0; v < visits; ++v) {
        const uint64_t step = r.Var("customer id");
        if (step >= customers.values.size() - id) {
          throw wire::DecodeError(where + "customer id is not in the dictionary");
        }
        id += step + 1;
        uint64_t count = 0;
        io.Count(count);
        if (count == 0) throw wire::DecodeError(where + "a customer with no visit");
        (void)g.customers.Add(customers.values[id - 1], count);
        customer_used[id - 1] = true;
      }
      if (Status s = c.AddCell(key, g); !s.ok()) throw wire::DecodeError(where + s.message());
      previous = std::move(key);
    }
    for (std::size_t t = 0; t < kCubeTags.size(); ++t) {
      if (std::find(tag_used[t].begin(), tag_used[t].end(), false) != tag_used[t].end()) {
        throw wire::DecodeError(std::string(kCubeTags[t]) + " dictionary has an unused entry");
      }
    }
    if (std::find(customer_used.begin(), customer_used.end(), false) != customer_used.end()) {
      throw wire::DecodeError("customer key dictionary has an unused entry");
    }
    cube = std::move(c);
    return true;
  });
  if (!decoded.ok()) return decoded.status();
  return cube;
}

std::string EncodeCubeCell(const Survey& survey, const CubeCellKey& key, const GroupStats& stats) {
  wire::Writer w;
  w.U8(kCubeCellVersion);
  w.SignedVar(key.day);
  for (const std::string& tag : key.tags) w.Str(tag);
  WriteCellStats(w, survey, EmptyStats(survey), stats);
  const auto& visits = stats.customers.visits();
  w.Var(visits.size());
  for (const auto& [customer, count] : visits) {
    w.Str(customer);
    w.Var(count);
  }
  return w.Finish();
}

Result<std::pair<CubeCellKey, GroupStats>> DecodeCubeCell(const Survey& survey,
                                                          std::string_view bytes) {
  using Cell = std::pair<CubeCellKey, GroupStats>;
  return wire::DecodeWith<Cell>("statistics cell", bytes, [&](wire::Reader& r) {
    const uint8_t version = r.U8();
    if (version != kCubeCellVersion) {
      throw wire::DecodeError("version " + std::to_string(version) +
                              " is not one this build reads (1)");
    }
    Cell cell;
    cell.first.day = r.SignedVar("day");
    for (std::string& tag : cell.first.tags) tag = r.Str("tag value", kMaxTextLength);
    cell.second = ReadCellStats(r, survey, EmptyStats(survey), "");
    const uint64_t visits = r.Var("customer count");
    std::string previous;
    for (uint64_t v = 0; v < visits; ++v) {
      std::string customer = r.Str("customer key", kMaxTextLength);
      if (customer.empty() || (v > 0 && !(previous < customer))) {
        throw wire::DecodeError("customer keys are empty, unsorted or repeated");
      }
      uint64_t count = r.Var("visits");
      if (count == 0 || count > kMaxCubeOffers) throw wire::DecodeError("a customer's visits");
      (void)cell.second.customers.Add(customer, count);
      previous = std::move(customer);
    }
    if (cell.first.day < kMinCubeDay || cell.first.day > kMaxCubeDay) {
      throw wire::DecodeError("day out of range");
    }
    if (Status s = CheckCell(survey, cell.second); !s.ok()) throw wire::DecodeError(s.message());
    return cell;
  });
}

//-----------------------------------------------------------------------------
// [SECTION] Reports from a cube
//-----------------------------------------------------------------------------

Result<CollectedStats> CollectFromCube(const StatsCube& cube, const Selection& options) {
  auto whole_day = [](const std::optional<int64_t>& ms, const char* what) -> Status {
    if (ms && *ms % kDayMs != 0) {
      return Status::InvalidArgument(std::string(what) + ": " + FormatIsoTime(*ms) +
                                     " is not midnight UTC; the statistics cube holds whole days");
    }
    return Status::Ok();
  };
  if (Status s = whole_day(options.from_ms, "from"); !s.ok()) return s;
  if (Status s = whole_day(options.to_ms, "to"); !s.ok()) return s;
  const int64_t from_day =
      options.from_ms ? CubeDayOf(*options.from_ms) : std::numeric_limits<int64_t>::min();
  const int64_t to_day =
      options.to_ms ? CubeDayOf(*options.to_ms) : std::numeric_limits<int64_t>::max();
  auto unknown = [](const std::string& what, const std::string& tag) {
    return Status::InvalidArgument(what + " " + tag + ": the statistics cube keeps the tags " +
                                   CubeTagList() + " only; use the report for other tags");
  };
  std::vector<std::pair<int, std::string>> where;
  bool nothing = false;
  for (const auto& [key, value] : options.where) {
    const int t = TagIndex(key);
    if (t < 0) return unknown("where", key);
    if (value.empty()) nothing = true;  // as in CollectStats: "" is no tag value anybody has
    where.emplace_back(t, value);
  }
  std::vector<int> dims;  // tag index, or -1 for a period
  for (const GroupBy& g : options.by) {
    const int t = g.period ? -1 : TagIndex(g.tag);
    if (!g.period && t < 0) return unknown("by", g.tag);
    dims.push_back(t);
  }

  CollectedStats out;
  out.by = options.by;
  out.all = EmptyStats(cube.survey());
  out.rows = cube.offers();
  if (nothing) return out;
  // Cells are in day order, so the period labels of one day are made once.
  int64_t labelled_day = std::numeric_limits<int64_t>::min();
  std::vector<std::string> labels(options.by.size());
  GroupKey key(options.by.size());
  for (const auto& [cell, stats] : cube.cells()) {
    if (cell.day < from_day || cell.day >= to_day) continue;
    bool keep = true;
    for (const auto& [t, value] : where) keep = keep && cell.tags[t] == value;
    if (!keep) continue;
    out.selected += stats.outcomes.Offered();
    if (Status s = out.all.Merge(stats); !s.ok()) return s;
    if (dims.empty()) continue;
    if (cell.day != labelled_day) {
      labelled_day = cell.day;
      for (std::size_t d = 0; d < dims.size(); ++d) {
        if (dims[d] < 0) labels[d] = PeriodLabel(*options.by[d].period, cell.day);
      }
    }
    for (std::size_t d = 0; d < dims.size(); ++d) {
      key[d] = dims[d] < 0 ? labels[d] : cell.tags[dims[d]];
    }
    if (Status s = out.groups[key].Merge(stats); !s.ok()) return s;
  }
  return out;
}

}  // namespace canvass
