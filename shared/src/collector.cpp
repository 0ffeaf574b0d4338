// The fused-histogram collector behind CollectStats() and CountStats() (stats.h).
#include <algorithm>
#include <limits>
#include <memory>
#include <unordered_map>

#include "canvass/byte_counts.h"
#include "canvass/executor.h"
#include "canvass/stats.h"

namespace canvass {
namespace {

constexpr int64_t kDayMs = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool IsScaleKind(QuestionKind kind) {
  return kind == QuestionKind::kNps || kind == QuestionKind::kRating;
}

}  // namespace

namespace {

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

  Collector(const ResponseTable& table, const Selection& options, std::size_t begin,
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
  const Selection& options_;
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
Result<std::unique_ptr<Collector>> Collect(const ResponseTable& table, const Selection& options,
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

Result<CollectedStats> CollectStats(const ResponseTable& table, const Selection& options,
                                    Executor* executor) {
  Result<std::unique_ptr<Collector>> collector =
      Collect(table, options, executor, /*with_customer_keys=*/true);
  if (!collector.ok()) return collector.status();
  return std::move((*collector)->stats);
}

Result<CountedStats> CountStats(const ResponseTable& table, const Selection& selection,
                                Executor* executor) {
  Result<std::unique_ptr<Collector>> collector =
      Collect(table, selection, executor, /*with_customer_keys=*/false);
  if (!collector.ok()) return collector.status();
  Collector& c = **collector;
  CountedStats counted;
  counted.stats = std::move(c.stats);
  counted.all = c.all_loyalty;
  counted.groups = std::move(c.group_loyalty);
  return counted;
}

}  // namespace canvass
