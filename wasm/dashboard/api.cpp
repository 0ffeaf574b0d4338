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

#include "canvass/interchange.h"
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
  return "{\"ok\":false,\"error\":" + JsonQuote(message) + "}";
}

std::string Css(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Num(double v) { return FormatNumber(v, 4); }

// {"value", "lo", "hi", "n"}, then `extra` members.
std::string EstimateJson(const metrics::Estimate& e, const std::string& extra = "") {
  return "{\"value\":" + Num(e.value) + ",\"lo\":" + Num(e.lo) + ",\"hi\":" + Num(e.hi) +
         ",\"n\":" + std::to_string(e.n) + extra + "}";
}

std::string ChangeJson(const Change& d) {
  if (!d) return "null";
  return "{\"value\":" + Num(d->difference.value) + ",\"lo\":" + Num(d->difference.lo) +
         ",\"hi\":" + Num(d->difference.hi) + ",\"n\":" + std::to_string(d->difference.n) +
         ",\"significant\":" + (d->significant ? "true" : "false") + "}";
}

std::string OrNull(const std::string& s) { return s.empty() ? "null" : JsonQuote(s); }

void Emit(const std::string& json) {
  if (g && !g->sink.isUndefined()) g->sink(json);
}

std::string RequestJson(const CaseRequest& r) {
  switch (r.kind) {
    case CaseRequest::Kind::kList:
      return "{\"type\":\"need_cases\"}";
    case CaseRequest::Kind::kOpen:
      return "{\"type\":\"open_case\",\"id\":" + JsonQuote(r.id) + "}";
    case CaseRequest::Kind::kState:
      return "{\"type\":\"case_state\",\"id\":" + JsonQuote(r.id) +
             ",\"state\":" + JsonQuote(r.state) + ",\"category\":" + OrNull(r.category) +
             ",\"note\":" + OrNull(r.note) + "}";
    case CaseRequest::Kind::kNote:
      return "{\"type\":\"case_note\",\"id\":" + JsonQuote(r.id) +
             ",\"text\":" + JsonQuote(r.note) + "}";
    case CaseRequest::Kind::kAssign:
      return "{\"type\":\"case_assign\",\"id\":" + JsonQuote(r.id) +
             ",\"assignee\":" + (r.assignee ? JsonQuote(*r.assignee) : "null") + "}";
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
    Emit("{\"type\":\"need_cube\",\"survey\":" + JsonQuote(survey) + "}");
  }
  if (g->state.logout) {
    g->state.logout = false;
    Emit("{\"type\":\"logout\"}");
  }
  // The page keeps the language the user picked, so that a reload shows the same one.
  if (g->state.language != g->language) {
    g->language = g->state.language;
    Emit("{\"type\":\"language\",\"language\":" + JsonQuote(g->language) + "}");
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
  return "{\"ok\":true,\"survey\":" + JsonQuote((*cube)->survey().id) +
         ",\"bytes\":" + std::to_string(bytes.size()) + ",\"decode_ms\":" + Num(decode_ms) +
         ",\"cells\":" + std::to_string((*cube)->cells().size()) +
         ",\"offers\":" + std::to_string((*cube)->offers()) + "}";
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
  std::string out = "[";
  for (const UiTextField& f : g->frame.text_fields) {
    if (out.size() > 1) out += ",";
    out += "{\"key\":" + JsonQuote(f.key) + ",\"x\":" + Css(f.rect.x / dpr) +
           ",\"y\":" + Css(f.rect.y / dpr) + ",\"w\":" + Css(f.rect.w / dpr) +
           ",\"h\":" + Css(f.rect.h / dpr) +
           ",\"multiline\":false,\"font_px\":" + Css(f.font_px / dpr) +
           ",\"placeholder\":" + JsonQuote(f.placeholder) +
           ",\"value\":" + JsonQuote(f.key == "note" ? g->cases.note_draft() : "") + "}";
  }
  return out + "]";
}

// The members of a case object, without the braces.
std::string CaseFields(const CaseSummary& c) {
  return "\"id\":" + JsonQuote(c.id) + ",\"location\":" + JsonQuote(c.location) +
         ",\"survey\":" + JsonQuote(c.survey) + ",\"state\":" + JsonQuote(c.state) +
         ",\"metric\":" + JsonQuote(c.metric) + ",\"score\":" + std::to_string(c.score) +
         ",\"category\":" + OrNull(c.category) + ",\"assignee\":" + OrNull(c.assignee) +
         ",\"opened_ms\":" + std::to_string(c.opened_ms) +
         ",\"due_ms\":" + std::to_string(c.due_ms) +
         ",\"overdue\":" + (c.overdue ? "true" : "false") +
         ",\"escalated\":" + (c.escalated_ms ? "true" : "false") +
         ",\"call_back_today\":" + (c.call_back_today ? "true" : "false") +
         ",\"revision\":" + std::to_string(c.revision);
}

// The test hook's view of the follow-up cases: the list as shown (the location filter applied,
// in the order drawn) and the case open on screen, with its contact details as shown.
std::string CasesJson() {
  if (!g) return "{\"loaded\":false}";
  const CaseList& cl = g->cases;
  std::string out = "{\"loaded\":" + std::string(cl.loaded() ? "true" : "false") +
                    ",\"me\":" + OrNull(cl.me()) + ",\"role\":" + OrNull(cl.role()) +
                    ",\"busy\":" + (cl.busy() ? "true" : "false") +
                    ",\"error\":" + OrNull(cl.error()) + ",\"categories\":[";
  for (std::size_t i = 0; i < cl.categories().size(); ++i) {
    out += (i ? "," : "") + JsonQuote(cl.categories()[i]);
  }
  out += "],\"list\":[";
  bool first = true;
  for (const CaseSummary* c : cl.Shown(g->model.filter().tags[0])) {
    out += std::string(first ? "{" : ",{") + CaseFields(*c) + "}";
    first = false;
  }
  out += "],\"selected\":";
  const std::optional<CaseDetail>& open = cl.open_case();
  if (!open) return out + OrNull(cl.selected()) + ",\"open\":null}";
  out += JsonQuote(cl.selected()) + ",\"open\":{" + CaseFields(open->summary);
  out += ",\"next_state\":" + OrNull(open->next_state) +
         ",\"contact\":" + (open->contact ? JsonQuote(*open->contact) : "null") +
         ",\"can_advance\":" + (cl.CanAdvance() ? "true" : "false") +
         ",\"chosen_category\":" + OrNull(cl.chosen_category()) +
         ",\"note_draft\":" + JsonQuote(cl.note_draft()) + ",\"notes\":[";
  for (std::size_t i = 0; i < open->notes.size(); ++i) {
    const CaseNoteView& n = open->notes[i];
    out += std::string(i ? "," : "") + "{\"author\":" + JsonQuote(n.author) +
           ",\"time_ms\":" + std::to_string(n.time_ms) + ",\"text\":" + JsonQuote(n.text) + "}";
  }
  out += "],\"assignees\":[";
  for (std::size_t i = 0; i < open->assignees.size(); ++i) {
    out += (i ? "," : "") + JsonQuote(open->assignees[i]);
  }
  return out + "]}}";
}

void SetLanguage(const std::string& language) {
  if (!g) return;
  g->state.language = PickUiLanguage({language});
  host::Invalidate();
}

std::string FiguresJson() {
  if (!g) return "{\"ready\":false}";
  Model& m = g->model;
  const Figures& f = m.figures();
  const Filter& filter = m.filter();
  std::string out = "{\"ready\":" + std::string(f.ready ? "true" : "false");
  out += ",\"error\":" + OrNull(f.error);
  out += ",\"survey\":" + OrNull(filter.survey);
  out += ",\"language\":" + JsonQuote(g->state.language);
  out += ",\"tab\":\"" +
         std::string(g->state.tab == Tab::kOverview ? "overview"
                     : g->state.tab == Tab::kCharts ? "charts"
                                                    : "cases") +
         "\"";
  out += ",\"filter\":{\"from\":" + JsonQuote(DayLabel(filter.from_day)) +
         ",\"to\":" + JsonQuote(DayLabel(filter.to_day)) +
         ",\"days\":" + std::to_string(filter.to_day - filter.from_day + 1) +
         ",\"preset\":" + std::to_string(m.PresetDays());
  for (int t = 0; t < kTagCount; ++t) {
    out += ",\"" + std::string(kCubeTags[t]) + "\":" + OrNull(filter.tags[t]);
  }
  out += ",\"trend\":\"" + std::string(PeriodName(filter.trend)) + "\",\"group_by\":\"" +
         kCubeTags[filter.group_by] + "\"}";
  out += ",\"report_query\":" + JsonQuote(ReportQuery(filter));
  out += ",\"cube_bytes\":" + std::to_string(g->cube_bytes) +
         ",\"decode_ms\":" + Num(g->decode_ms) + ",\"compute_ms\":" + Num(f.compute_ms);
  if (!f.ready) return out + "}";
  const Indices& x = f.current.all;
  out += ",\"offered\":" + std::to_string(x.outcomes.Offered());
  out += ",\"selected\":" + std::to_string(f.current.selected);
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    out += ",\"nps\":" + EstimateJson(n.nps, ",\"classic\":" + Num(n.classic.value) +
                                                 ",\"bound_lo\":" + Num(n.bound_lo) +
                                                 ",\"bound_hi\":" + Num(n.bound_hi) +
                                                 ",\"silent\":" + std::to_string(n.non_responders) +
                                                 ",\"promoters\":" + std::to_string(n.promoters) +
                                                 ",\"passives\":" + std::to_string(n.passives) +
                                                 ",\"detractors\":" + std::to_string(n.detractors) +
                                                 ",\"change\":" + ChangeJson(f.change.nps));
  } else {
    out += ",\"nps\":null";
  }
  out += ",\"response_rate\":" +
         EstimateJson(x.response_rate.rate,
                      ",\"completed\":" + std::to_string(x.response_rate.completed) +
                          ",\"change\":" + ChangeJson(f.change.response_rate));
  out += ",\"csat\":" +
         (x.csat ? EstimateJson(x.csat->result.top2, ",\"change\":" + ChangeJson(f.change.csat))
                 : std::string("null"));
  if (x.ces) {
    const metrics::Estimate& e = x.ces->agreement ? x.ces->agreement->mean : x.ces->net->classic;
    out += ",\"ces\":" + EstimateJson(e, ",\"change\":" + ChangeJson(f.change.ces));
  } else {
    out += ",\"ces\":null";
  }
  out += ",\"csi\":" + (x.csi ? EstimateJson(x.csi->result.index,
                                             ",\"score\":" + EstimateJson(x.csi->result.score) +
                                                 ",\"change\":" + ChangeJson(f.csi_index) +
                                                 ",\"score_change\":" + ChangeJson(f.csi_score))
                              : std::string("null"));
  out +=
      ",\"cli\":" + (x.cli ? EstimateJson(x.cli->result.index, ",\"change\":" + ChangeJson(f.cli))
                           : std::string("null"));
  out += ",\"loyalty\":" +
         EstimateJson(x.loyalty.loyalty_rate, ",\"change\":" + ChangeJson(f.loyalty));
  out += ",\"trend\":[";
  bool first = true;
  for (const GroupEntry& e : f.trend.groups) {
    if (!e.indices.nps) continue;
    out += std::string(first ? "" : ",") + "{\"period\":" + JsonQuote(e.key[0]) + "," +
           EstimateJson(e.indices.nps->result.nps).substr(1);
    first = false;
  }
  const std::string index =
      f.groups.ranked_by.empty() ? (x.nps ? "nps" : "response_rate") : f.groups.ranked_by;
  out += "],\"groups\":{\"by\":\"" + std::string(kCubeTags[filter.group_by]) + "\",\"index\":\"" +
         index + "\",\"min_n\":" + std::to_string(f.groups.options.min_n) + ",\"entries\":[";
  first = true;
  for (const GroupEntry& e : f.groups.groups) {
    std::optional<metrics::Estimate> est = IndexEstimate(e.indices, index);
    if (!est) continue;
    const bool too_few = e.rank && e.rank->too_few;
    out += std::string(first ? "" : ",") + "{\"key\":" + JsonQuote(e.key[0]) + "," +
           EstimateJson(*est, ",\"rank\":" + std::to_string(e.rank ? e.rank->position : 0) +
                                  ",\"too_few\":" + (too_few ? "true" : "false"))
               .substr(1);
    first = false;
  }
  out += "]},\"drivers\":[";
  first = true;
  if (x.csi) {
    for (const CsiAttributeSummary& a : x.csi->attributes) {
      if (!a.driver) continue;
      const metrics::DriverResult& d = *a.driver;
      out += std::string(first ? "" : ",") + "{\"attribute\":" + JsonQuote(d.attribute) +
             ",\"r\":" + EstimateJson(d.correlation) +
             ",\"performance\":" + Num(d.performance.value) +
             ",\"quadrant\":" + JsonQuote(metrics::QuadrantName(d.quadrant)) + "}";
      first = false;
    }
  }
  out += "],\"split\":{\"importance\":" + Num(f.split.importance) +
         ",\"performance\":" + Num(f.split.performance) + "}}";
  return out;
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
  std::string out = "[";
  for (const UiItem& it : g->frame.items) {
    if (out.size() > 1) out += ",";
    out += "{\"id\":" + JsonQuote(it.id) + ",\"x\":" + Css(it.rect.x / dpr) +
           ",\"y\":" + Css(it.rect.y / dpr) + ",\"w\":" + Css(it.rect.w / dpr) +
           ",\"h\":" + Css(it.rect.h / dpr) + "}";
  }
  return out + "]";
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
