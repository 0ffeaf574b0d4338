// The widget module's embind API, called by wasm/js/widget.js. One module instance = one widget.
//
// Binary values travel as lower-case hex strings out of wasm (embind turns std::string results
// into JS strings) and as hex or Uint8Array into it. Nothing throws across this boundary: every
// function answers with a value, and errors are JSON {"ok": false, "error": "..."} or a non-empty
// error string, which the JS glue turns into a rejected promise or an `error` event.
#include <emscripten/bind.h>
#include <emscripten/html5.h>
#include <emscripten/val.h>

#include <rapidjson/document.h>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "canvass/response_log.h"
#include "canvass/sync_client.h"
#include "host.h"
#include "keyboard.h"
#include "ui.h"
#include "widget.h"

namespace canvass::widget {
namespace {

std::unique_ptr<Widget> g_widget;
emscripten::val g_sink = emscripten::val::undefined();
PublicKey g_org_sign{};
std::string g_font_ttf;  // the atlas points into it
UiFonts g_fonts;
UiFrame g_frame;      // the last frame's items and text fields
std::string g_focus;  // the item keyboard navigation is on ("" for none)
int g_pressing = 0;   // pointer transitions Key() queued: not the user's pointer

std::int64_t NowMs() { return static_cast<std::int64_t>(emscripten_date_now()); }

std::string Fail(const std::string& message) {
  return "{\"ok\":false,\"error\":" + JsonQuote(message) + "}";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> Hex(const std::string& hex, const char* what) {
  auto v = ArrayFromHex<N>(hex);
  if (!v.ok()) return v.status().WithContext(what);
  return v;
}

// Member access without comparing rapidjson iterators: under C++20, `it != MemberEnd()` is an
// ambiguous rewritten comparison that clang warns about (-Wambiguous-reversed-operator).
const rapidjson::Value* Member(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject() || !object.HasMember(key)) return nullptr;
  return &object[key];
}
template <typename Fn>
void ForEachMember(const rapidjson::Value& object, Fn fn) {
  if (!object.IsObject()) return;
  for (rapidjson::SizeType i = 0; i < object.MemberCount(); ++i) {
    const auto& m = *(object.MemberBegin() + i);
    fn(std::string(m.name.GetString(), m.name.GetStringLength()), m.value);
  }
}

void FlushEvents() {
  if (!g_widget || g_sink.isUndefined()) return;
  for (const Event& e : g_widget->TakeEvents()) g_sink(e.json);
}

// [SECTION] Keys and the device log step ------------------------------------------------------

sync::Client g_sync[2];  // see [SECTION] Sync

std::string Init() {
  // Each lane's back-off jitter from its own seed.
  g_sync[0] = sync::Client(static_cast<std::uint64_t>(NowMs()));
  g_sync[1] = sync::Client(static_cast<std::uint64_t>(NowMs()) ^ 0x9E3779B97F4A7C15ull);
  Status s = InitCrypto();
  return s.ok() ? "" : s.ToString();
}

std::string NewDeviceSeed() {
  Seed seed{};
  RandomBytes(seed.data(), static_cast<std::uint32_t>(seed.size()));
  std::string hex = ToHex(seed);
  SecureWipe(seed.data(), static_cast<std::uint32_t>(seed.size()));
  return hex;
}

std::string PublicKeyOf(const std::string& seed_hex) {
  auto seed = Hex<32>(seed_hex, "seed");
  if (!seed.ok()) return "";
  return ToHex(SigningKey::FromSeed(*seed).public_key());
}

std::string SignPending(double head_seq, const std::string& head_hash_hex) {
  if (!g_widget) return Fail("widget not started");
  auto hash = Hex<32>(head_hash_hex, "head hash");
  if (!hash.ok()) return Fail(hash.status().message());
  ChainHead head{static_cast<std::uint64_t>(head_seq), *hash};
  Result<LogEntry> entry = g_widget->SignPending(head);
  if (!entry.ok()) return Fail(entry.status().ToString());
  return "{\"ok\":true,\"seq\":" + std::to_string(entry->seq) + ",\"hash\":\"" +
         ToHex(entry->hash) + "\",\"envelope\":\"" + ToHex(entry->envelope) + "\"}";
}

// [SECTION] Sync: the core's state machine (canvass/sync_client.h); widget.js moves its requests
// over fetch. Two clients (g_sync): lane 0 pushes the log, lane 1 refreshes the surveys.

// A request to send: {method, path, content_type, body (hex)}.
// Appended to `out` piece by piece: one growing string, not a temporary per `+`.
void AppendRequestJson(const sync::Request& r, std::string& out) {
  out += "{\"method\":\"";
  out += r.method;
  out += "\",\"path\":";
  out += JsonQuote(r.path);
  out += ",\"content_type\":\"";
  out += r.content_type;
  out += "\",\"body\":\"";
  out += ToHex(r.body);
  out += '"';
}

// The enrollment request for a new device key: "enroll" with a one-time code, "web" for the
// public web channel; "web_surveys" is the web channel's surveys before enrolling.
std::string SyncRequest(const std::string& kind, const std::string& code,
                        const std::string& public_key_hex) {
  auto key = Hex<32>(public_key_hex, "public key");
  std::string out;
  AppendRequestJson(kind == "web_surveys"
                        ? sync::WebSurveysRequest()
                        : sync::EnrollRequest(code, kind == "web", key.ok() ? *key : PublicKey{}),
                    out);
  return out + "}";
}

// Checks an enrollment answer (status, body): "" when the certificate is the organisation's for
// our key and the answer's device id, else why not.
std::string CheckEnrollment(double status, const std::string& body,
                            const std::string& public_key_hex) {
  if (status != 200) {
    return "enrollment refused: " + sync::DescribeError(static_cast<int>(status), body);
  }
  auto key = Hex<32>(public_key_hex, "public key");
  Result<sync::Enrollment> e =
      key.ok() ? sync::ReadEnrollment(body, *key, nullptr) : Result<sync::Enrollment>(key.status());
  return e.ok() ? "" : "enrollment answer refused: " + e.status().message();
}

// Starts a run on `lane`: "push" (every unsynced record) or "surveys".
void SyncBegin(int lane, const std::string& what) {
  sync::Plan plan;
  plan.push = what == "push";
  plan.surveys = what == "surveys";
  g_sync[lane & 1].Begin(plan);
}

// The next step of `lane` after the answer (status, body bytes) to its last request; status -1
// when there was none. `entries` is the log's unsynced records as "seq hash envelope" triples
// (hex, separated by spaces), read when there was no answer: the client picks the next batch.
// Bundles to keep are the answer's "bundles", which the glue hands to loadBundle one by one.
std::string SyncNext(int lane, double status, const std::string& body, const std::string& entries) {
  sync::DeviceView view;
  if (g_widget) view.device_id = g_widget->device_id();
  view.org_sign_key = g_org_sign;
  std::string_view rest = entries;
  auto word = [&rest] {
    const std::size_t end = std::min(rest.find(' '), rest.size());
    std::string_view w = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    return w;
  };
  while (!rest.empty()) {
    LogEntry e;
    e.seq = std::strtoull(std::string(word()).c_str(), nullptr, 10);
    auto hash = ArrayFromHex<32>(word());
    auto envelope = FromHex(word());
    if (!hash.ok() || !envelope.ok()) break;
    e.hash = *hash;
    e.envelope = std::move(*envelope);
    view.unsynced.push_back(std::move(e));
  }
  const sync::Action a = g_sync[lane & 1].Next(
      view, status < 0 ? sync::Answer::None() : sync::Answer{static_cast<int>(status), body});
  std::string out;
  if (a.step == sync::Step::kSend) {
    AppendRequestJson(a.request, out);
    out += ',';
  } else {
    out += '{';
  }
  out += "\"step\":\"";
  out += sync::StepName(a.step);
  out += "\",\"delay_ms\":";
  out += std::to_string(a.delay_ms);
  out += ",\"message\":";
  out += JsonQuote(a.message);
  out += ",\"last_seq\":";
  out += std::to_string(a.receipt.last_seq);
  out += ",\"head_hash\":\"";
  out += ToHex(a.receipt.head_hash);
  out += "\"}";
  return out;
}

// [SECTION] The widget ------------------------------------------------------------------------

std::string Start(const std::string& config_json, const std::string& font_ttf) {
  if (g_widget) return "already started";
  rapidjson::Document c;
  c.Parse(config_json.c_str(), config_json.size());
  if (c.HasParseError() || !c.IsObject()) return "config is not a JSON object";
  auto str = [&](const char* k, const char* def) -> std::string {
    const rapidjson::Value* v = Member(c, k);
    return v && v->IsString() ? v->GetString() : def;
  };
  auto num = [&](const char* k, double def) {
    const rapidjson::Value* v = Member(c, k);
    return v && v->IsNumber() ? v->GetDouble() : def;
  };
  Widget::Options o;
  o.mode = str("mode", "kiosk") == "embed" ? Mode::kEmbed : Mode::kKiosk;
  if (const rapidjson::Value* langs = Member(c, "languages"); langs && langs->IsArray()) {
    for (const auto& v : langs->GetArray()) {
      if (v.IsString()) o.preferred_languages.push_back(v.GetString());
    }
  }
  if (const rapidjson::Value* tags = Member(c, "tags")) {
    ForEachMember(*tags, [&](const std::string& name, const rapidjson::Value& v) {
      if (v.IsString()) o.tags[name] = v.GetString();
    });
  }
  o.idle_ms = static_cast<std::int64_t>(num("idle_seconds", 60) * 1000);
  o.thanks_ms = static_cast<std::int64_t>(num("thanks_seconds", 5) * 1000);
  o.pin = str("pin", "1234");
  if (const rapidjson::Value* force = Member(c, "force"); force && force->IsBool()) {
    o.force = force->GetBool();
  }
  try {
    o.seed = std::stoull(str("seed", "0"));
    o.rotation_draws = std::stoull(str("rotation_draws", "0"));
    o.sampler_visits = std::stoull(str("sampler_visits", "0"));
    if (const std::string last = str("last_response_ms", ""); !last.empty()) {
      o.last_response_ms = std::stoll(last);
    }
  } catch (...) {
    return "seed, rotation_draws, sampler_visits and last_response_ms must be decimal strings";
  }
  if (const rapidjson::Value* hc = Member(c, "high_contrast"); hc && hc->IsBool()) {
    UseHighContrast(hc->GetBool());
  }
  g_widget = std::make_unique<Widget>(std::move(o));
  g_font_ttf = font_ttf;
  host::App app;
  app.build_fonts = [](float dpr) {
    g_fonts.body = host::AddFont(g_font_ttf, 20, dpr);
    g_fonts.large = host::AddFont(g_font_ttf, 28, dpr);
    g_fonts.huge = host::AddFont(g_font_ttf, 40, dpr);
  };
  app.draw = [](std::int64_t now_ms) {
    const Screen before = g_widget->screen();
    DrawWidget(*g_widget, g_fonts, host::Dpr(), now_ms, &g_frame);
    DrawFocusRing(g_frame, g_focus, host::Dpr());
    return g_widget->screen() != before;
  };
  app.on_press = [] {
    g_widget->Touch(NowMs());
    // A press of the user's own pointer ends keyboard navigation (no ring for mouse and touch).
    if (g_pressing > 0) {
      --g_pressing;
    } else {
      g_focus.clear();
    }
  };
  app.after_frame = FlushEvents;
  if (!host::Start(std::move(app), static_cast<float>(num("width", 400)),
                   static_cast<float>(num("height", 300)), static_cast<float>(num("dpr", 1)))) {
    g_widget.reset();
    return "cannot create a WebGL2 context on this canvas";
  }
  return "";
}

void Stop() {
  host::Stop();
  g_widget.reset();
  g_frame = UiFrame{};
  g_focus.clear();
  g_pressing = 0;
  g_sink = emscripten::val::undefined();
}

void SetEventSink(emscripten::val fn) { g_sink = fn; }
void DrawNow() { host::DrawNow(); }
void Resize(double w, double h, double dpr) {
  host::Resize(static_cast<float>(w), static_cast<float>(h), static_cast<float>(dpr));
}
void Pointer(int kind, double x, double y, bool touch) {
  host::Pointer(static_cast<host::PointerKind>(kind), static_cast<float>(x), static_cast<float>(y),
                touch);
}

// A key pressed while the widget's canvas has the focus (DOM KeyboardEvent.key). True if the
// widget used it (the glue then stops the browser's default); false leaves it to the page, e.g.
// Tab past the last item. Pressing an item is a click at its centre, so keys and pointers take
// one path through the UI.
// Presses the item `id` of the last frame as a click at its centre, through the host's pointer
// queue: keys, the DOM mirror and pointers take one path through the UI. False if it is not there.
bool Press(const std::string& id) {
  for (const UiItem& it : g_frame.items) {
    if (it.id != id) continue;
    const float dpr = host::Dpr();
    const float x = (it.rect.x + it.rect.w / 2) / dpr, y = (it.rect.y + it.rect.h / 2) / dpr;
    g_pressing += 2;  // the down and the up below
    host::Pointer(host::PointerKind::kDown, x, y, false);
    host::Pointer(host::PointerKind::kUp, x, y, false);
    host::Pointer(host::PointerKind::kLeave, x, y, false);  // no hover left behind
    return true;
  }
  return false;
}

bool KeyDown(const std::string& key, bool shift) {
  if (!g_widget) return false;
  int digit = 0;
  const KeyResult r = ApplyKey(g_frame.items, g_focus, KeyOf(key, shift, &digit), digit);
  g_focus = r.focus;
  if (!r.handled) return false;
  g_widget->Touch(NowMs());
  host::Invalidate();
  if (!r.press.empty()) Press(r.press);
  return true;
}

// A DOM mirror element was activated (a screen reader, Enter or Space on it, element.click()).
bool Activate(const std::string& id) {
  if (!g_widget) return false;
  g_widget->Touch(NowMs());
  host::Invalidate();
  return Press(id);
}

// A DOM mirror element took the focus: the ring follows it, so the focus stays visible on the
// canvas ("" when the mirror lost it).
void FocusItem(const std::string& id) {
  g_focus = id;
  host::Invalidate();
}

// prefers-contrast: more changed: the high-contrast palette (theme.h) or the standard one.
void SetHighContrast(bool on) {
  UseHighContrast(on);
  host::Invalidate();
}

// The semantics tree of the last frame (host/semantics.h) and its version: the page reads the
// tree only when the version changed.
double SemanticsVersion() { return g_frame.semantics.version(); }
std::string SemanticsTree() { return g_frame.semantics.json(); }

std::string SetDevice(const std::string& seed_hex, const std::string& device_id,
                      const std::string& org_sign_hex, const std::string& org_box_hex,
                      const std::string& location, const std::string& channel) {
  host::Invalidate();
  if (!g_widget) return "widget not started";
  auto seed = Hex<32>(seed_hex, "device seed");
  auto sign = Hex<32>(org_sign_hex, "org_sign_key");
  auto box = Hex<32>(org_box_hex, "org_box_key");
  if (!seed.ok()) return seed.status().message();
  if (!sign.ok()) return sign.status().message();
  if (!box.ok()) return box.status().message();
  g_org_sign = *sign;
  Status s = g_widget->SetDevice(*seed, device_id, *sign, *box, location, channel);
  SecureWipe(seed->data(), static_cast<std::uint32_t>(seed->size()));
  return s.ok() ? "" : s.message();
}

// The organisation's keys and the web channel's location from /v1/web/surveys, before enrolling.
std::string SetOrganisation(const std::string& org_sign_hex, const std::string& org_box_hex,
                            const std::string& location, const std::string& channel) {
  if (!g_widget) return "widget not started";
  auto sign = Hex<32>(org_sign_hex, "org_sign_key");
  auto box = Hex<32>(org_box_hex, "org_box_key");
  if (!sign.ok()) return sign.status().message();
  if (!box.ok()) return box.status().message();
  g_org_sign = *sign;
  g_widget->SetOrganisation(*sign, *box, location, channel);
  return "";
}

std::string LoadBundle(const std::string& bundle_hex) {
  host::Invalidate();
  if (!g_widget) return Fail("widget not started");
  auto bytes = FromHex(bundle_hex);
  if (!bytes.ok()) return Fail("survey bundle: " + bytes.status().message());
  Result<std::string> id = g_widget->LoadBundle(*bytes);
  if (!id.ok()) return Fail(id.status().message());
  return "{\"ok\":true,\"survey_id\":" + JsonQuote(*id) + "}";
}

std::string SelectSurvey(const std::string& id) {
  host::Invalidate();
  if (!g_widget) return "widget not started";
  Status s = g_widget->SelectSurvey(id);
  return s.ok() ? "" : s.message();
}

// Embed: offers the survey unless sampling or the frequency cap say no; true if offered.
bool Begin() {
  host::Invalidate();
  return g_widget && g_widget->OfferToVisitor(NowMs());
}
bool Resume(const std::string& line, const std::string& question, bool abandon) {
  host::Invalidate();
  return g_widget && g_widget->Resume(line, question, abandon, NowMs());
}
void Close() {
  host::Invalidate();
  if (g_widget) g_widget->Close(NowMs());
}
void SetError(const std::string& message) {
  host::Invalidate();
  if (g_widget) g_widget->SetFatal(message);
}
void SetScreenMessage(const std::string& message) {
  host::Invalidate();
  if (g_widget) g_widget->status().message = message;
}

void SetText(const std::string& key, const std::string& value) {
  host::Invalidate();
  if (!g_widget) return;
  g_widget->SetText(key, value);
  g_widget->Touch(NowMs());
}

void SetStatus(double pending, double last_sync_ms, bool online, bool persistent) {
  host::Invalidate();
  if (!g_widget) return;
  DeviceStatus& st = g_widget->status();
  st.pending = static_cast<std::uint64_t>(pending);
  st.last_sync_ms = static_cast<std::int64_t>(last_sync_ms);
  st.online = online;
  st.persistent_storage = persistent;
}

void RecordSaved(bool ok, const std::string& message) {
  host::Invalidate();
  if (g_widget) g_widget->RecordSaved(ok, message, NowMs());
  FlushEvents();
}

std::string State() {
  if (!g_widget) return "{}";
  const Widget& w = *g_widget;
  std::string out = "{\"screen\":\"" + std::string(ScreenName(w.screen())) + "\"";
  out += ",\"question\":" + (w.current() ? JsonQuote(w.current()->id) : "null");
  out += ",\"outcome\":" + (w.last_outcome() ? JsonQuote(OutcomeName(*w.last_outcome())) : "null");
  out += ",\"language\":" + JsonQuote(w.language());
  out += ",\"survey\":" + (w.survey() ? JsonQuote(w.survey()->id) : "null");
  out += ",\"device_id\":" + JsonQuote(w.device_id());
  out += ",\"error\":" + JsonQuote(w.error());
  out += ",\"not_offered\":" + JsonQuote(w.not_offered());
  out += ",\"focus\":" + JsonQuote(g_focus);
  out += std::string(",\"theme\":\"") + (HighContrast() ? "high-contrast" : "standard") + "\"";
  out += ",\"rotation_draws\":\"" + std::to_string(w.rotation_draws()) + "\"}";
  return out;
}

// `{"<name>":"<value>","x":..,"y":..,"w":..,"h":..` (no closing brace), the rectangle in CSS pixels
// relative to the canvas, appended to `out`: one growing string, not a temporary per `+`.
void AppendRect(std::string& out, const char* name, const std::string& value, const ui::Rect& r,
                float dpr) {
  out += "{\"";
  out += name;
  out += "\":";
  out += JsonQuote(value);
  out += ",\"x\":";
  out += Num(r.x / dpr);
  out += ",\"y\":";
  out += Num(r.y / dpr);
  out += ",\"w\":";
  out += Num(r.w / dpr);
  out += ",\"h\":";
  out += Num(r.h / dpr);
}

std::string Items() {
  const float dpr = host::Dpr();
  std::string out = "[";
  for (const UiItem& it : g_frame.items) {
    if (out.size() > 1) out += ",";
    AppendRect(out, "id", it.id, it.rect, dpr);
    out += "}";
  }
  return out + "]";
}

std::string TextFields() {
  const float dpr = host::Dpr();
  std::string out = "[";
  for (const UiTextField& f : g_frame.text_fields) {
    if (out.size() > 1) out += ",";
    AppendRect(out, "key", f.key, f.rect, dpr);
    out += ",\"multiline\":";
    out += f.multiline ? "true" : "false";
    out += ",\"font_px\":";
    out += Num(f.font_px / dpr);
    out += ",\"placeholder\":";
    out += JsonQuote(f.placeholder);
    out += ",\"value\":";
    out += JsonQuote(g_widget ? g_widget->TextValue(f.key) : "");
    out += "}";
  }
  return out + "]";
}

}  // namespace
}  // namespace canvass::widget

EMSCRIPTEN_BINDINGS(canvass_widget) {
  using namespace canvass::widget;
  emscripten::function("init", &Init);
  emscripten::function("newDeviceSeed", &NewDeviceSeed);
  emscripten::function("publicKeyOf", &PublicKeyOf);
  emscripten::function("signPending", &SignPending);
  emscripten::function("syncRequest", &SyncRequest);
  emscripten::function("checkEnrollment", &CheckEnrollment);
  emscripten::function("syncBegin", &SyncBegin);
  emscripten::function("syncNext", &SyncNext);
  emscripten::constant("syncBatch", canvass::sync::kBatchRecords);
  emscripten::function("start", &Start);
  emscripten::function("stop", &Stop);
  emscripten::function("setEventSink", &SetEventSink);
  emscripten::function("resize", &Resize);
  emscripten::function("drawNow", &DrawNow);
  emscripten::function("pointer", &Pointer);
  emscripten::function("key", &KeyDown);
  emscripten::function("activate", &Activate);
  emscripten::function("focusItem", &FocusItem);
  emscripten::function("setHighContrast", &SetHighContrast);
  emscripten::function("semanticsVersion", &SemanticsVersion);
  emscripten::function("semantics", &SemanticsTree);
  emscripten::function("setDevice", &SetDevice);
  emscripten::function("setOrganisation", &SetOrganisation);
  emscripten::function("loadBundle", &LoadBundle);
  emscripten::function("selectSurvey", &SelectSurvey);
  emscripten::function("begin", &Begin);
  emscripten::function("resume", &Resume);
  emscripten::function("close", &Close);
  emscripten::function("setError", &SetError);
  emscripten::function("setScreenMessage", &SetScreenMessage);
  emscripten::function("setText", &SetText);
  emscripten::function("setStatus", &SetStatus);
  emscripten::function("recordSaved", &RecordSaved);
  emscripten::function("state", &State);
  emscripten::function("items", &Items);
  emscripten::function("textFields", &TextFields);
}
