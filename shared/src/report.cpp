#include "canvass/report.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace canvass {

using metrics::Estimate;

namespace {

bool IsScaleKind(QuestionKind kind) {
  return kind == QuestionKind::kNps || kind == QuestionKind::kRating;
}

}  // namespace

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
  Result<CountedStats> counted = CountStats(table, options, executor);
  if (!counted.ok()) return counted.status();
  auto loyalty = [](const LoyaltyCounts& c) {
    return metrics::LoyaltyFromCounts(c.customers, c.returning, c.visits);
  };
  std::map<GroupKey, metrics::LoyaltyResult> groups;
  for (const auto& [key, counts] : counted->groups) groups[key] = loyalty(counts);
  return ComputeReportImpl(table.survey(), counted->stats, options, &table.issues(),
                           loyalty(counted->all), groups);
}

Result<Report> BuildReport(const Survey& survey, const std::vector<ResponseRecord>& records,
                           const ReportOptions& options) {
  ResponseTable table(survey);
  table.Reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) (void)table.Add(records[i], i + 1);
  return BuildReport(table, options);
}

ReportOptions TrendOptions(const ReportOptions& options) {
  ReportOptions trend = options;
  trend.by.clear();
  GroupBy period{"", Period::kWeek};
  for (const GroupBy& g : options.by) {
    if (g.period) {
      period = g;
      break;
    }
  }
  trend.by.push_back(period);
  return trend;
}

bool IsTrendReport(const Report& report) {
  return report.by.size() == 1 && report.by[0].period.has_value();
}

}  // namespace canvass
