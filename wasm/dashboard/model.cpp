#include "model.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "canvass/interchange.h"

namespace canvass::dashboard {
namespace {

constexpr int64_t kDayMs = 86400000;

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ReportOptions OptionsOf(const Filter& f, int64_t from_day, int64_t to_day) {
  ReportOptions o;
  o.from_ms = from_day * kDayMs;
  o.to_ms = (to_day + 1) * kDayMs;  // the report's `to` is exclusive
  for (int t = 0; t < kTagCount; ++t) {
    if (!f.tags[t].empty()) o.where.emplace_back(kCubeTags[t], f.tags[t]);
  }
  return o;
}

Result<Report> ReportOf(const StatsCube& cube, const ReportOptions& options) {
  Result<CollectedStats> stats = CollectFromCube(cube, options);
  if (!stats.ok()) return stats.status();
  return ReportFromStats(cube.survey(), *stats, options);
}

}  // namespace

std::string DayLabel(int64_t day) { return PeriodLabel(Period::kDay, day); }

std::string ReportQuery(const Filter& f) {
  std::string q = "survey=" + UrlEncode(f.survey) + "&from=" + DayLabel(f.from_day) +
                  "&to=" + DayLabel(f.to_day + 1);
  for (int t = 0; t < kTagCount; ++t) {
    if (!f.tags[t].empty()) q += "&where=" + UrlEncode(std::string(kCubeTags[t]) + "=" + f.tags[t]);
  }
  return q;
}

Result<const StatsCube*> Model::LoadCube(std::string_view bytes, double* decode_ms) {
  const double start = NowMs();
  Result<StatsCube> cube = DecodeStatsCube(bytes);
  if (decode_ms) *decode_ms = NowMs() - start;
  if (!cube.ok()) return cube.status();
  const std::string id = cube->survey().id;
  const bool first = cubes_.empty();
  auto [it, inserted] = cubes_.insert_or_assign(id, std::move(*cube));
  if (std::find(surveys_.begin(), surveys_.end(), id) == surveys_.end()) surveys_.push_back(id);
  if (filter_.survey.empty()) filter_.survey = id;
  // A new cube of the survey on show sets the period: the preset chosen last (at first the last
  // 30 days with data), counted back from this survey's last day.
  if (filter_.survey == id && (first || inserted)) SetPreset(preset_);
  dirty_ = true;
  return &it->second;
}

void Model::SetSurveys(std::vector<std::string> ids) {
  for (const auto& [id, cube] : cubes_) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  surveys_ = std::move(ids);
  if (filter_.survey.empty() && !surveys_.empty()) filter_.survey = surveys_.front();
  dirty_ = true;
}

const StatsCube* Model::cube() const {
  auto it = cubes_.find(filter_.survey);
  return it == cubes_.end() ? nullptr : &it->second;
}

void Model::SetFilter(const Filter& filter) {
  if (filter == filter_) return;
  filter_ = filter;
  if (filter_.to_day < filter_.from_day) std::swap(filter_.from_day, filter_.to_day);
  dirty_ = true;
}

void Model::SelectSurvey(const std::string& survey) {
  if (survey == filter_.survey) return;
  Filter f = filter_;
  f.survey = survey;
  f.tags = {};
  if (PresetDays() >= 0) preset_ = PresetDays();
  SetFilter(f);
  if (cube()) SetPreset(preset_);  // e.g. "the last 30 days" of that survey's data
}

void Model::SetTag(int tag, const std::string& value) {
  if (tag < 0 || tag >= kTagCount) return;
  Filter f = filter_;
  f.tags[tag] = value;
  SetFilter(f);
}

int64_t Model::FirstDay() const {
  const StatsCube* c = cube();
  return c && !c->cells().empty() ? c->cells().begin()->first.day : 0;
}

int64_t Model::LastDay() const {
  const StatsCube* c = cube();
  return c && !c->cells().empty() ? c->cells().rbegin()->first.day : -1;
}

void Model::SetPreset(int days) {
  preset_ = days;
  Filter f = filter_;
  const int64_t last = LastDay();
  if (last < FirstDay()) return;  // no data: nothing to anchor on
  f.to_day = last;
  f.from_day = days > 0 ? last - days + 1 : FirstDay();
  SetFilter(f);
}

int Model::PresetDays() const {
  if (filter_.to_day != LastDay()) return -1;
  for (int days : {7, 30, 90}) {
    if (filter_.from_day == filter_.to_day - days + 1) return days;
  }
  return filter_.from_day == FirstDay() ? 0 : -1;
}

void Model::ShiftFrom(int days) {
  Filter f = filter_;
  f.from_day = std::min(f.from_day + days, f.to_day);
  SetFilter(f);
}

void Model::ShiftTo(int days) {
  Filter f = filter_;
  f.to_day = std::max(f.to_day + days, f.from_day);
  SetFilter(f);
}

std::vector<std::string> Model::TagValues(int tag) const {
  std::set<std::string> values;
  const StatsCube* c = cube();
  if (!c || tag < 0 || tag >= kTagCount) return {};
  for (const auto& [key, stats] : c->cells()) {
    if (key.tags[tag].empty()) continue;
    bool keep = true;
    for (int t = 0; t < kTagCount && keep; ++t) {
      keep = t == tag || filter_.tags[t].empty() || key.tags[t] == filter_.tags[t];
    }
    if (keep) values.insert(key.tags[tag]);
  }
  return {values.begin(), values.end()};
}

const Figures& Model::figures() {
  if (dirty_) Recompute();
  return figures_;
}

void Model::Recompute() {
  dirty_ = false;
  const double start = NowMs();
  Figures f;
  const StatsCube* c = cube();
  if (!c) {
    f.error = filter_.survey.empty() ? "no survey" : "";  // "": its statistics are loading
    figures_ = std::move(f);
    return;
  }
  const int64_t days = filter_.to_day - filter_.from_day + 1;
  f.options = OptionsOf(filter_, filter_.from_day, filter_.to_day);
  f.previous_options = OptionsOf(filter_, filter_.from_day - days, filter_.from_day - 1);
  ReportOptions trend = f.options;
  trend.by = {GroupBy{"", filter_.trend}};
  ReportOptions groups = f.options;
  groups.by = {GroupBy{kCubeTags[std::clamp(filter_.group_by, 0, kTagCount - 1)], std::nullopt}};

  Result<CollectedStats> now = CollectFromCube(*c, f.options);
  Result<CollectedStats> before = CollectFromCube(*c, f.previous_options);
  Result<Report> current =
      now.ok() ? ReportFromStats(c->survey(), *now, f.options) : Result<Report>(now.status());
  Result<Report> previous = before.ok() ? ReportFromStats(c->survey(), *before, f.previous_options)
                                        : Result<Report>(before.status());
  Result<Report> by_period = ReportOf(*c, trend);
  Result<Report> by_tag = ReportOf(*c, groups);
  for (const Result<Report>* r : {&current, &previous, &by_period, &by_tag}) {
    if (!r->ok()) {
      f.error = r->status().message();
      figures_ = std::move(f);
      return;
    }
  }
  Result<GroupChange> change = CompareStats(c->survey(), now->all, before->all, f.options);
  if (change.ok()) f.change = std::move(*change);
  // The indices without a two-sample test of their own: from their intervals (MOVER).
  const Indices& a = current->all;
  const Indices& b = previous->all;
  if (a.csi && b.csi) {
    f.csi_index = metrics::IntervalDifference(a.csi->result.index, b.csi->result.index, 200);
    f.csi_score = metrics::IntervalDifference(a.csi->result.score, b.csi->result.score, 100);
  }
  if (a.cli && b.cli) {
    f.cli = metrics::IntervalDifference(a.cli->result.index, b.cli->result.index, 10);
  }
  f.loyalty = metrics::ShareDifference(a.loyalty.returning_customers, a.loyalty.customers,
                                       b.loyalty.returning_customers, b.loyalty.customers);
  // A change is shown only against a previous period that has data for that index: against an
  // empty one (the period "All", a new survey) the "change" would be the figure itself.
  const auto drop_unless = [](bool has_data, Change* c) {
    if (!has_data) c->reset();
  };
  drop_unless(b.outcomes.Offered() > 0, &f.change.response_rate);
  drop_unless(b.nps && b.nps->result.nps.n > 0, &f.change.nps);
  drop_unless(b.csat && b.csat->result.top2.n > 0, &f.change.csat);
  drop_unless(b.ces && ((b.ces->agreement && b.ces->agreement->mean.n > 0) ||
                        (b.ces->net && b.ces->net->classic.n > 0)),
              &f.change.ces);
  drop_unless(b.csi && b.csi->result.index.n > 0, &f.csi_index);
  drop_unless(b.csi && b.csi->result.index.n > 0, &f.csi_score);
  drop_unless(b.cli && b.cli->result.index.n > 0, &f.cli);
  drop_unless(b.loyalty.customers > 0, &f.loyalty);
  if (a.csi) {
    std::vector<metrics::DriverResult> drivers;
    for (const CsiAttributeSummary& s : a.csi->attributes) {
      if (s.driver) drivers.push_back(*s.driver);
    }
    f.split = metrics::QuadrantSplitOf(drivers);
  }
  f.current = std::move(*current);
  f.previous = std::move(*previous);
  f.trend = std::move(*by_period);
  f.groups = std::move(*by_tag);
  f.ready = true;
  f.compute_ms = NowMs() - start;
  figures_ = std::move(f);
}

}  // namespace canvass::dashboard
