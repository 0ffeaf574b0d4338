// The dashboard module's embind API, called by wasm/js/dashboard.js. One module instance = one
// dashboard. The glue fetches (surveys, cubes, cases) and hands the answers in; everything
// computed and drawn happens here, and what the user asks of the server (open a case, the next
// state, a note, an assignment) goes out as an event for the glue to send. Nothing throws across
// this boundary: answers are JSON, errors are
// {"ok": false, "error": "..."} or a non-empty error string.
//
// figures() and cases() are the test hook: the figures the dashboard shows for the current filter,
// with the numbers printed as the report's JSON prints them (FormatNumber), so a browser test can
// compare them with GET /v1/admin/report for the same filter (report_query) digit for digit.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <rapidjson/document.h>

#include <cstdio>
#include <memory>

#include "canvass/json.h"
#include "follow_up.h"
#include "host.h"
#include "model.h"
#include "ui.h"

namespace canvass::dashboard {
namespace {

struct App {
  Model model;
  CaseList cases;  // wiped (contact details) when the App goes: stop() on logout
  UiState state;
  UiFonts fonts;
  UiFrame frame;
  std::string font_ttf;  // the atlas points into it
  emscripten::val sink = emscripten::val::undefined();
  std::string requested;  // the survey whose cube was last asked for
  std::string language;   // the UI language last told to the page
  double decode_ms = 0;
  uint64_t cube_bytes = 0;
};
std::unique_ptr<App> g;

std::string Fail(const std::string& message) {
  return Json::Object().Add("ok", Json::Bool(false)).Add("error", Json::Str(message)).Compact();
}

// A CSS pixel value, one decimal.
Json Css(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return Json::Raw(buf);
}

// Adds "value", "lo", "hi", "n" to object `j`.
Json& AddEstimate(Json& j, const metrics::Estimate& e) {
  return j.Add("value", Json::Number(e.value))
      .Add("lo", Json::Number(e.lo))
      .Add("hi", Json::Number(e.hi))
      .Add("n", Json::Count(e.n));
}

// {"value", "lo", "hi", "n"}; callers add members after these.
Json EstimateJson(const metrics::Estimate& e) {
  Json j = Json::Object();
  AddEstimate(j, e);
  return j;
}

Json ChangeJson(const Change& d) {
  if (!d) return Json::Null();
  return EstimateJson(d->difference).Add("significant", Json::Bool(d->significant));
}

Json OrNull(const std::string& s) { return Json::StrOrNull(s); }
Json Event(const char* type) { return Json::Object().Add("type", Json::Str(type)); }

void Emit(const std::string& json) {
  if (g && !g->sink.isUndefined()) g->sink(json);
}

std::string RequestJson(const CaseRequest& r) {
  switch (r.kind) {
    case CaseRequest::Kind::kList:
      return Event("need_cases").Compact();
    case CaseRequest::Kind::kOpen:
      return Event("open_case").Add("id", Json::Str(r.id)).Compact();
    case CaseRequest::Kind::kState:
      return Event("case_state")
          .Add("id", Json::Str(r.id))
          .Add("state", Json::Str(r.state))
          .Add("category", OrNull(r.category))
          .Add("note", OrNull(r.note))
          .Compact();
    case CaseRequest::Kind::kNote:
      return Event("case_note").Add("id", Json::Str(r.id)).Add("text", Json::Str(r.note)).Compact();
    case CaseRequest::Kind::kAssign:
      return Event("case_assign")
          .Add("id", Json::Str(r.id))
          .Add("assignee", r.assignee ? Json::Str(*r.assignee) : Json::Null())
          .Compact();
    case CaseRequest::Kind::kNone:
      break;
  }
  return "";
}

// After every frame: ask the page for a cube the filter needs, send what the user asked of the
// follow-up cases, and pass on a logout.
void AfterFrame() {
  for (CaseRequest r = g->cases.TakeRequest(); r.kind != CaseRequest::Kind::kNone;
       r = g->cases.TakeRequest()) {
    Emit(RequestJson(r));
  }
  const std::string& survey = g->model.filter().survey;
  if (!survey.empty() && !g->model.HasCube(survey) && g->requested != survey) {
    g->requested = survey;
    Emit(Event("need_cube").Add("survey", Json::Str(survey)).Compact());
  }
  if (g->state.logout) {
    g->state.logout = false;
    Emit(Event("logout").Compact());
  }
  // The page keeps the language the user picked, so that a reload shows the same one.
  if (g->state.language != g->language) {
    g->language = g->state.language;
    Emit(Event("language").Add("language", Json::Str(g->language)).Compact());
  }
}

std::string Start(const std::string& config_json, const std::string& font_ttf) {
  if (g) return "already started";
  rapidjson::Document c;
  c.Parse(config_json.c_str(), config_json.size());
  if (c.HasParseError() || !c.IsObject()) return "config is not a JSON object";
  auto num = [&](const char* k, double def) {
    return c.HasMember(k) && c[k].IsNumber() ? c[k].GetDouble() : def;
  };
  g = std::make_unique<App>();
  std::vector<std::string> languages;
  if (c.HasMember("languages") && c["languages"].IsArray()) {
    for (const auto& v : c["languages"].GetArray()) {
      if (v.IsString()) languages.push_back(v.GetString());
    }
  }
  g->state.language = PickUiLanguage(languages);
  g->font_ttf = font_ttf;
  host::App app;
  app.build_fonts = [](float dpr) {
    g->fonts.small = host::AddFont(g->font_ttf, 12.5f, dpr);
    g->fonts.body = host::AddFont(g->font_ttf, 14, dpr);
    g->fonts.large = host::AddFont(g->font_ttf, 19, dpr);
    g->fonts.huge = host::AddFont(g->font_ttf, 30, dpr);
  };
  app.draw = [](std::int64_t) {
    return DrawDashboard(g->model, g->cases, g->state, g->fonts, host::Dpr(), &g->frame);
  };
  app.after_frame = AfterFrame;
  app.clear_rgb = {246 / 255.0f, 247 / 255.0f, 249 / 255.0f};
  if (!host::Start(std::move(app), static_cast<float>(num("width", 1024)),
                   static_cast<float>(num("height", 720)), static_cast<float>(num("dpr", 1)))) {
    g.reset();
    return "cannot create a WebGL2 context on this canvas";
  }
  return "";
}

void Stop() {
  host::Stop();
  g.reset();
}

void SetEventSink(emscripten::val fn) {
  if (g) g->sink = fn;
}
void Resize(double w, double h, double dpr) {
  host::Resize(static_cast<float>(w), static_cast<float>(h), static_cast<float>(dpr));
}
void Pointer(int kind, double x, double y, bool touch) {
  host::Pointer(static_cast<host::PointerKind>(kind), static_cast<float>(x), static_cast<float>(y),
                touch);
}
void Wheel(double dx, double dy) { host::Wheel(static_cast<float>(dx), static_cast<float>(dy)); }

// `ids_json`: ["restaurant", ...] from GET /v1/admin/surveys (each id once).
void SetSurveys(const std::string& ids_json) {
  if (!g) return;
  rapidjson::Document doc;
  doc.Parse(ids_json.c_str(), ids_json.size());
  if (doc.HasParseError() || !doc.IsArray()) return;
  std::vector<std::string> ids;
  for (const auto& v : doc.GetArray()) {
    if (v.IsString()) ids.push_back(v.GetString());
  }
  g->model.SetSurveys(std::move(ids));
  host::Invalidate();
}

std::string LoadCube(const std::string& bytes) {
  if (!g) return Fail("dashboard not started");
  double decode_ms = 0;
  Result<const StatsCube*> cube = g->model.LoadCube(bytes, &decode_ms);
  host::Invalidate();
  if (!cube.ok()) return Fail(cube.status().message());
  g->decode_ms = decode_ms;
  g->cube_bytes = bytes.size();
  return Json::Object()
      .Add("ok", Json::Bool(true))
      .Add("survey", Json::Str((*cube)->survey().id))
      .Add("bytes", Json::Count(bytes.size()))
      .Add("decode_ms", Json::Number(decode_ms))
      .Add("cells", Json::Count((*cube)->cells().size()))
      .Add("offers", Json::Count((*cube)->offers()))
      .Compact();
}

// The follow-up cases: the server's answers, as the glue got them. "" or the error.
std::string SetMe(const std::string& json) {
  if (!g) return "dashboard not started";
  host::Invalidate();
  Status st = g->cases.SetMe(json);
  return st.ok() ? "" : st.message();
}
std::string SetCategories(const std::string& json) {
  if (!g) return "dashboard not started";
  host::Invalidate();
  Status st = g->cases.SetCategories(json);
  return st.ok() ? "" : st.message();
}
std::string SetCases(const std::string& json, int utc_offset_min) {
  if (!g) return "dashboard not started";
  host::Invalidate();
  Status st = g->cases.SetList(json, utc_offset_min);
  if (!st.ok()) g->cases.ListFailed(st.message());
  return st.ok() ? "" : st.message();
}
void CasesFailed(const std::string& message) {
  if (!g) return;
  g->cases.ListFailed(message);
  host::Invalidate();
}
// The answer of GET of one case: the JS string it came in is dropped by the glue at once, so the
// contact details are kept only here (and wiped when the case is closed).
std::string SetCase(const std::string& json) {
  if (!g) return "dashboard not started";
  host::Invalidate();
  Status st = g->cases.SetCase(json);
  return st.ok() ? "" : st.message();
}
// The end of the last case request (open, state, note, assign): ok, or the server's message.
void CaseDone(bool ok, const std::string& error) {
  if (!g) return;
  g->cases.Done(ok, error);
  host::Invalidate();
}
// The <input> mirrors (canvas.js, mirrorTextFields).
void SetText(const std::string& key, const std::string& value) {
  if (!g || key != "note") return;
  g->cases.SetNoteDraft(value);
  host::Invalidate();
}
std::string TextFields() {
  if (!g) return "[]";
  const float dpr = host::Dpr();
  Json out = Json::Array();
  for (const UiTextField& f : g->frame.text_fields) {
    out.Push(Json::Object()
                 .Add("key", Json::Str(f.key))
                 .Add("x", Css(f.rect.x / dpr))
                 .Add("y", Css(f.rect.y / dpr))
                 .Add("w", Css(f.rect.w / dpr))
                 .Add("h", Css(f.rect.h / dpr))
                 .Add("multiline", Json::Bool(false))
                 .Add("font_px", Css(f.font_px / dpr))
                 .Add("placeholder", Json::Str(f.placeholder))
                 .Add("value", Json::Str(f.key == "note" ? g->cases.note_draft() : "")));
  }
  return out.Compact();
}

// A case object; callers may add members after these.
Json CaseJson(const CaseSummary& c) {
  return Json::Object()
      .Add("id", Json::Str(c.id))
      .Add("location", Json::Str(c.location))
      .Add("survey", Json::Str(c.survey))
      .Add("state", Json::Str(c.state))
      .Add("metric", Json::Str(c.metric))
      .Add("score", Json::Int(c.score))
      .Add("category", OrNull(c.category))
      .Add("assignee", OrNull(c.assignee))
      .Add("opened_ms", Json::Int(c.opened_ms))
      .Add("due_ms", Json::Int(c.due_ms))
      .Add("overdue", Json::Bool(c.overdue))
      .Add("escalated", Json::Bool(c.escalated_ms.has_value()))
      .Add("call_back_today", Json::Bool(c.call_back_today))
      .Add("revision", Json::Int(c.revision));
}

// The test hook's view of the follow-up cases: the list as shown (the location filter applied,
// in the order drawn) and the case open on screen, with its contact details as shown.
std::string CasesJson() {
  if (!g) return Json::Object().Add("loaded", Json::Bool(false)).Compact();
  const CaseList& cl = g->cases;
  Json out = Json::Object()
                 .Add("loaded", Json::Bool(cl.loaded()))
                 .Add("me", OrNull(cl.me()))
                 .Add("role", OrNull(cl.role()))
                 .Add("busy", Json::Bool(cl.busy()))
                 .Add("error", OrNull(cl.error()));
  Json categories = Json::Array();
  for (const std::string& c : cl.categories()) categories.Push(Json::Str(c));
  out.Add("categories", std::move(categories));
  Json list = Json::Array();
  for (const CaseSummary* c : cl.Shown(g->model.filter().tags[0])) list.Push(CaseJson(*c));
  out.Add("list", std::move(list));
  const std::optional<CaseDetail>& open = cl.open_case();
  if (!open) return out.Add("selected", OrNull(cl.selected())).Add("open", Json::Null()).Compact();
  out.Add("selected", Json::Str(cl.selected()));
  Json notes = Json::Array();
  for (const CaseNoteView& n : open->notes) {
    notes.Push(Json::Object()
                   .Add("author", Json::Str(n.author))
                   .Add("time_ms", Json::Int(n.time_ms))
                   .Add("text", Json::Str(n.text)));
  }
  Json assignees = Json::Array();
  for (const std::string& a : open->assignees) assignees.Push(Json::Str(a));
  out.Add("open", CaseJson(open->summary)
                      .Add("next_state", OrNull(open->next_state))
                      .Add("contact", open->contact ? Json::Str(*open->contact) : Json::Null())
                      .Add("can_advance", Json::Bool(cl.CanAdvance()))
                      .Add("chosen_category", OrNull(cl.chosen_category()))
                      .Add("note_draft", Json::Str(cl.note_draft()))
                      .Add("notes", std::move(notes))
                      .Add("assignees", std::move(assignees)));
  return out.Compact();
}

void SetLanguage(const std::string& language) {
  if (!g) return;
  g->state.language = PickUiLanguage({language});
  host::Invalidate();
}

std::string FiguresJson() {
  if (!g) return Json::Object().Add("ready", Json::Bool(false)).Compact();
  Model& m = g->model;
  const Figures& f = m.figures();
  const Filter& filter = m.filter();
  Json out = Json::Object()
                 .Add("ready", Json::Bool(f.ready))
                 .Add("error", OrNull(f.error))
                 .Add("survey", OrNull(filter.survey))
                 .Add("language", Json::Str(g->state.language))
                 .Add("tab", Json::Str(g->state.tab == Tab::kOverview ? "overview"
                                       : g->state.tab == Tab::kCharts ? "charts"
                                                                      : "cases"));
  Json shown = Json::Object()
                   .Add("from", Json::Str(DayLabel(filter.from_day)))
                   .Add("to", Json::Str(DayLabel(filter.to_day)))
                   .Add("days", Json::Int(filter.to_day - filter.from_day + 1))
                   .Add("preset", Json::Int(m.PresetDays()));
  for (int t = 0; t < kTagCount; ++t) shown.Add(kCubeTags[t], OrNull(filter.tags[t]));
  shown.Add("trend", Json::Str(PeriodName(filter.trend)))
      .Add("group_by", Json::Str(kCubeTags[filter.group_by]));
  out.Add("filter", std::move(shown))
      .Add("report_query", Json::Str(ReportQuery(filter)))
      .Add("cube_bytes", Json::Count(g->cube_bytes))
      .Add("decode_ms", Json::Number(g->decode_ms))
      .Add("compute_ms", Json::Number(f.compute_ms));
  if (!f.ready) return out.Compact();
  const Indices& x = f.current.all;
  out.Add("offered", Json::Count(x.outcomes.Offered()))
      .Add("selected", Json::Count(f.current.selected));
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    out.Add("nps", EstimateJson(n.nps)
                       .Add("classic", Json::Number(n.classic.value))
                       .Add("bound_lo", Json::Number(n.bound_lo))
                       .Add("bound_hi", Json::Number(n.bound_hi))
                       .Add("silent", Json::Count(n.non_responders))
                       .Add("promoters", Json::Count(n.promoters))
                       .Add("passives", Json::Count(n.passives))
                       .Add("detractors", Json::Count(n.detractors))
                       .Add("change", ChangeJson(f.change.nps)));
  } else {
    out.Add("nps", Json::Null());
  }
  out.Add("response_rate", EstimateJson(x.response_rate.rate)
                               .Add("completed", Json::Count(x.response_rate.completed))
                               .Add("change", ChangeJson(f.change.response_rate)));
  out.Add("csat", x.csat
                      ? EstimateJson(x.csat->result.top2).Add("change", ChangeJson(f.change.csat))
                      : Json::Null());
  if (x.ces) {
    const metrics::Estimate& e = x.ces->agreement ? x.ces->agreement->mean : x.ces->net->classic;
    out.Add("ces", EstimateJson(e).Add("change", ChangeJson(f.change.ces)));
  } else {
    out.Add("ces", Json::Null());
  }
  out.Add("csi", x.csi ? EstimateJson(x.csi->result.index)
                             .Add("score", EstimateJson(x.csi->result.score))
                             .Add("change", ChangeJson(f.csi_index))
                             .Add("score_change", ChangeJson(f.csi_score))
                       : Json::Null());
  out.Add("cli", x.cli ? EstimateJson(x.cli->result.index).Add("change", ChangeJson(f.cli))
                       : Json::Null());
  out.Add("loyalty", EstimateJson(x.loyalty.loyalty_rate).Add("change", ChangeJson(f.loyalty)));
  Json trend = Json::Array();
  for (const GroupEntry& e : f.trend.groups) {
    if (!e.indices.nps) continue;
    Json point = Json::Object().Add("period", Json::Str(e.key[0]));
    trend.Push(std::move(AddEstimate(point, e.indices.nps->result.nps)));
  }
  out.Add("trend", std::move(trend));
  const std::string index =
      f.groups.ranked_by.empty() ? (x.nps ? "nps" : "response_rate") : f.groups.ranked_by;
  Json entries = Json::Array();
  for (const GroupEntry& e : f.groups.groups) {
    std::optional<metrics::Estimate> est = IndexEstimate(e.indices, index);
    if (!est) continue;
    Json entry = Json::Object().Add("key", Json::Str(e.key[0]));
    AddEstimate(entry, *est)
        .Add("rank", Json::Int(e.rank ? e.rank->position : 0))
        .Add("too_few", Json::Bool(e.rank && e.rank->too_few));
    entries.Push(std::move(entry));
  }
  out.Add("groups", Json::Object()
                        .Add("by", Json::Str(kCubeTags[filter.group_by]))
                        .Add("index", Json::Str(index))
                        .Add("min_n", Json::Count(f.groups.options.min_n))
                        .Add("entries", std::move(entries)));
  Json drivers = Json::Array();
  if (x.csi) {
    for (const CsiAttributeSummary& a : x.csi->attributes) {
      if (!a.driver) continue;
      const metrics::DriverResult& d = *a.driver;
      drivers.Push(Json::Object()
                       .Add("attribute", Json::Str(d.attribute))
                       .Add("r", EstimateJson(d.correlation))
                       .Add("performance", Json::Number(d.performance.value))
                       .Add("quadrant", Json::Str(metrics::QuadrantName(d.quadrant))));
    }
  }
  out.Add("drivers", std::move(drivers));
  out.Add("split", Json::Object()
                       .Add("importance", Json::Number(f.split.importance))
                       .Add("performance", Json::Number(f.split.performance)));
  return out.Compact();
}

// A DOM mirror element was activated (semantics.js): the item is pressed as a click at its
// centre through the host's pointer queue, the path a pointer takes. False if it is not there.
bool Activate(const std::string& id) {
  if (!g) return false;
  for (const UiItem& it : g->frame.items) {
    if (it.id != id) continue;
    const float dpr = host::Dpr();
    const float x = (it.rect.x + it.rect.w / 2) / dpr, y = (it.rect.y + it.rect.h / 2) / dpr;
    host::Pointer(host::PointerKind::kDown, x, y, false);
    host::Pointer(host::PointerKind::kUp, x, y, false);
    host::Pointer(host::PointerKind::kLeave, x, y, false);  // no hover left behind
    return true;
  }
  return false;
}
// The dashboard draws no focus ring: the mirror's own focus is what there is.
void FocusItem(const std::string&) {}
double SemanticsVersion() { return g ? g->frame.semantics.version() : 0; }
std::string SemanticsTree() { return g ? g->frame.semantics.json() : "{}"; }

// The last frame's items in CSS pixels relative to the canvas.
std::string Items() {
  if (!g) return "[]";
  const float dpr = host::Dpr();
  Json out = Json::Array();
  for (const UiItem& it : g->frame.items) {
    out.Push(Json::Object()
                 .Add("id", Json::Str(it.id))
                 .Add("x", Css(it.rect.x / dpr))
                 .Add("y", Css(it.rect.y / dpr))
                 .Add("w", Css(it.rect.w / dpr))
                 .Add("h", Css(it.rect.h / dpr)));
  }
  return out.Compact();
}

}  // namespace
}  // namespace canvass::dashboard

EMSCRIPTEN_BINDINGS(canvass_dashboard) {
  using namespace canvass::dashboard;
  emscripten::function("start", &Start);
  emscripten::function("stop", &Stop);
  emscripten::function("setEventSink", &SetEventSink);
  emscripten::function("resize", &Resize);
  emscripten::function("pointer", &Pointer);
  emscripten::function("wheel", &Wheel);
  emscripten::function("setSurveys", &SetSurveys);
  emscripten::function("loadCube", &LoadCube);
  emscripten::function("setLanguage", &SetLanguage);
  emscripten::function("figures", &FiguresJson);
  emscripten::function("items", &Items);
  emscripten::function("activate", &Activate);
  emscripten::function("focusItem", &FocusItem);
  emscripten::function("semanticsVersion", &SemanticsVersion);
  emscripten::function("semantics", &SemanticsTree);
  emscripten::function("setMe", &SetMe);
  emscripten::function("setCategories", &SetCategories);
  emscripten::function("setCases", &SetCases);
  emscripten::function("casesFailed", &CasesFailed);
  emscripten::function("setCase", &SetCase);
  emscripten::function("caseDone", &CaseDone);
  emscripten::function("setText", &SetText);
  emscripten::function("textFields", &TextFields);
  emscripten::function("cases", &CasesJson);
}
