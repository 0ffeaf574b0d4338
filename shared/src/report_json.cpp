// ReportToJson (report_format.h): the stable JSON of docs/report.md through the one JSON writer.
#include "canvass/interchange.h"  // FormatIsoTime
#include "canvass/json.h"
#include "canvass/report_format.h"

namespace canvass {

using metrics::Estimate;

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

}  // namespace canvass
