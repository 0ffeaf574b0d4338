#include "api.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "canvass/survey.h"
#include "canvass/surveyjs.h"
#include "projector.h"
#include "static_files.h"
#include "stats_projection.h"

namespace canvass::server {
namespace {

using Json = JsonWriter;

constexpr double kLatencyBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
constexpr std::int64_t kSessionMs = 12LL * 3600 * 1000;

void Str(Json& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string StringField(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::string();
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string RandomHex(std::uint32_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(reinterpret_cast<std::uint8_t*>(raw.data()), bytes);
  return ToHex(raw);
}

// Enrollment codes: 16 characters of Crockford's base32 (80 bits), in groups of four.
std::string NewEnrollCode() {
  static const char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::uint8_t raw[16];
  RandomBytes(raw, sizeof raw);
  std::string code;
  for (int i = 0; i < 16; ++i) {
    if (i && i % 4 == 0) code += '-';
    code += kAlphabet[raw[i] & 31];
  }
  return code;
}

// Upper case, without separators: what a person types is what the code means.
std::string NormalizeCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  }
  return out;
}

// One export row: the fixed columns, then `tag_keys` and `columns` in order (empty where the
// record has none).
std::string CsvRow(const ResponseRecord& rec, const std::set<std::string>& tag_keys,
                   const std::set<std::string>& columns) {
  std::map<std::string, std::string> cells;
  for (const auto& [id, value] : rec.answers) {
    std::visit(
        [&, &id = id](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ScaleAnswer>) {
            cells[id] = std::to_string(a.value);
          } else if constexpr (std::is_same_v<T, TextAnswer>) {
            cells[id] = a.text;
          } else if constexpr (std::is_same_v<T, ChoiceAnswer>) {
            std::string joined;
            for (const auto& c : a.ids) joined += (joined.empty() ? "" : ";") + c;
            if (!a.other.empty()) joined += (joined.empty() ? "" : ";") + ("other: " + a.other);
            cells[id] = joined;
          } else if constexpr (std::is_same_v<T, CsiAnswer>) {
            cells[id + ".importance"] = std::to_string(a.importance);
            cells[id + ".satisfaction"] = std::to_string(a.satisfaction);
          } else {
            cells[id] = a.consent ? "consent" : "no consent";
          }
        },
        value);
  }
  std::string csv = CsvCell(rec.survey_id) + "," + ToHex(rec.survey_version) + "," +
                    CsvCell(rec.device_id) + "," + std::to_string(rec.seq) + "," +
                    FormatIsoTime(rec.device_time_ms) + "," + OutcomeName(rec.outcome) + "," +
                    CsvCell(rec.customer_key);
  for (const auto& k : tag_keys) {
    auto it = rec.tags.find(k);
    csv += "," + (it == rec.tags.end() ? std::string() : CsvCell(it->second));
  }
  for (const auto& c : columns) {
    auto it = cells.find(c);
    csv += "," + (it == cells.end() ? std::string() : CsvCell(it->second));
  }
  csv += "\r\n";
  return csv;
}

}  // namespace

HttpResponse JsonResponse(int status, const std::function<void(Json&)>& fill) {
  rapidjson::StringBuffer buf;
  Json w(buf);
  fill(w);
  HttpResponse r;
  r.status = status;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

Result<rapidjson::Document> ParseJsonBody(const std::string& body) {
  rapidjson::Document doc;
  // Iterative: the recursive parser overflows the stack on deeply nested input, and a 1 MiB
  // body of "[" to the unauthenticated /v1/enroll took the whole server down.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  return doc;
}

constexpr std::int64_t kFirstExportableMs = -62167219200000;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kLastExportableMs = 253402300799999;   // 9999-12-31T23:59:59.999Z

Result<std::uint32_t> ListLimit(const HttpRequest& r, std::uint32_t fallback, std::uint32_t max) {
  auto it = r.query.find("limit");
  if (it == r.query.end() || it->second.empty()) return fallback;
  std::uint32_t n = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > max) {
    return Status::InvalidArgument("limit: 1 to " + std::to_string(max));
  }
  return n;
}

HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message) {
  return JsonResponse(status, [&](Json& w) {
    w.StartObject();
    w.Key("error");
    Str(w, code);
    w.Key("message");
    Str(w, message);
    w.EndObject();
  });
}

// Maps a Status from the store or core to an HTTP answer.
std::string ErrorCodeOf(const std::string& body) {
  if (body.empty() || body.front() != '{' || body.size() > 64 * 1024) return std::string();
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string();
  auto it = doc.FindMember("error");
  return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

HttpResponse StatusResponse(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return HttpResponse{};
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "invalid_argument", s.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", s.message());
    case StatusCode::kCorruption:
      return ErrorResponse(400, "corruption", s.message());
    case StatusCode::kUnauthenticated:
      return ErrorResponse(401, "unauthenticated", s.message());
    case StatusCode::kConflict:
      return ErrorResponse(409, "conflict", s.message());
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable", s.message());
    case StatusCode::kIoError:
      return ErrorResponse(500, "internal", s.message());
  }
  return ErrorResponse(500, "internal", s.message());
}

bool RateLimiter::Allow(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= max_keys_) MakeRoom(now_ms);
    it = windows_.emplace(key, std::pair<std::int64_t, std::uint32_t>(now_ms, 0)).first;
  }
  auto& [start, count] = it->second;
  if (now_ms - start >= window_ms_) {
    start = now_ms;
    count = 0;
  }
  return ++count <= limit_;
}

bool RateLimiter::Exhausted(const std::string& key, std::int64_t now_ms, std::int64_t* wait_ms) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end() || now_ms - it->second.first >= window_ms_) return false;
  if (it->second.second < limit_) return false;
  if (wait_ms != nullptr) *wait_ms = window_ms_ - (now_ms - it->second.first);
  return true;
}

void RateLimiter::MakeRoom(std::int64_t now_ms) {
  if (now_ms - last_sweep_ms_ >= window_ms_) {
    last_sweep_ms_ = now_ms;  // at most one sweep of expired windows per window
    std::erase_if(windows_, [&](const auto& w) { return now_ms - w.second.first >= window_ms_; });
    if (windows_.size() < max_keys_) return;
  }
  // Still full: drop the tenth with the fewest events in their windows (the oldest of equals).
  // Forgetting everything (as a clear() once did) would hand whoever floods distinct keys a fresh
  // budget for the key they are after; refusing new keys (as a later fix did) locked out every
  // honest newcomer. One O(n) pass makes room for n/10 newcomers.
  using Entry = std::pair<std::uint32_t, std::int64_t>;  // count, start
  std::vector<Entry> order;
  order.reserve(windows_.size());
  for (const auto& [key, w] : windows_) order.emplace_back(w.second, w.first);
  const std::size_t drop = std::max<std::size_t>(1, windows_.size() / 10);
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   order.end());
  const Entry cut = order[drop - 1];
  std::size_t dropped = 0;
  for (auto it = windows_.begin(); it != windows_.end() && dropped < drop;) {
    if (Entry{it->second.second, it->second.first} <= cut) {
      it = windows_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
}

std::size_t RateLimiter::Size() {
  std::lock_guard lock(mu_);
  return windows_.size();
}

void RateLimiter::Reset(const std::string& key) {
  std::lock_guard lock(mu_);
  windows_.erase(key);
}

Api::Api(ServerStore* store, OrgKeys keys, ApiOptions options, std::function<std::int64_t()> now_ms)
    : store_(store),
      keys_(std::move(keys)),
      options_(std::move(options)),
      now_ms_(std::move(now_ms)),
      latency_buckets_(std::size(kLatencyBounds), 0) {
  if (!options_.static_dir.empty()) {
    static_files_ = std::make_unique<StaticFiles>(options_.static_dir);
  }
}

Api::~Api() = default;

// CORS for the device endpoints that an embedded widget calls from another site: only origins on
// the web-channel allow-list (--web-origin) get the headers, and the preflight of a binary push.
// (Added for the widget, docs/widget.md.)
static bool AddWidgetCors(const HttpRequest& r, const std::vector<std::string>& allowed,
                          HttpResponse* out) {
  auto it = r.headers.find("origin");
  if (it == r.headers.end() ||
      std::find(allowed.begin(), allowed.end(), it->second) == allowed.end()) {
    return false;
  }
  out->headers.emplace_back("Access-Control-Allow-Origin", it->second);
  out->headers.emplace_back("Vary", "Origin");
  return true;
}

HttpResponse Api::Handle(const HttpRequest& r) {
  if (r.method == "HEAD") {  // wherever GET is (uptime monitors); the HTTP layer sends no body
    HttpRequest get = r;
    get.method = "GET";
    return Handle(get);
  }
  HttpResponse response;
  std::string actor;
  const std::string& p = r.path;
  if ((p == "/v1/surveys" || p == "/v1/records") && r.method == "OPTIONS") {
    response.status = 204;
    response.content_type.clear();
    if (AddWidgetCors(r, options_.web_origins, &response)) {
      response.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST");
      response.headers.emplace_back("Access-Control-Allow-Headers", "Content-Type");
    }
    return response;
  }
  if (p == "/healthz") {
    response = Health();
  } else if (p == "/metrics") {
    response = Metrics();
  } else if (p == "/v1/enroll" && r.method == "POST") {
    response = Enroll(r, false);
  } else if (p == "/v1/web/enroll" && (r.method == "POST" || r.method == "OPTIONS")) {
    response = Enroll(r, true);
  } else if (p == "/v1/web/surveys" && (r.method == "POST" || r.method == "OPTIONS")) {
    response = WebSurveys(r);
  } else if (p == "/v1/surveys" && r.method == "GET") {
    response = Surveys(r);
  } else if (p == "/v1/records" && r.method == "POST") {
    response = PushRecords(r, &actor);
  } else if (p == "/v1/channels/sms" && r.method == "POST") {
    response = SmsInbound(r);
  } else if (p == "/v1/revocations" && r.method == "GET") {
    response = Revocations(r);
  } else if (p.rfind("/v1/admin/", 0) == 0) {
    response = Admin(r, &actor);
    response.headers.emplace_back("Cache-Control", "no-store");
  } else if (p.rfind("/v1/", 0) == 0) {
    response = ErrorResponse(404, "not_found",
                             "no endpoint " + r.method + " " + p + " (see docs/protocol.md)");
  } else {
    response = Static(r);
  }
  if (p == "/v1/surveys" || p == "/v1/records") AddWidgetCors(r, options_.web_origins, &response);
  // The widget's public files (loader, module, wasm, font) are loaded cross-origin by the sites
  // that embed it: module scripts and fetch() need CORS even for static files.
  if (p == "/canvass.js" || p.rfind("/canvass/", 0) == 0) {
    response.headers.emplace_back("Access-Control-Allow-Origin", "*");
  }
  response.actor = std::move(actor);
  return response;
}

Result<std::string> Api::CreateInitialAdminToken() {
  std::string token = RandomHex(32);
  Status s = store_->PutSetting("admin_token_hash", ToHex(Blake2b256(token)));
  if (!s.ok()) return s;
  return token;
}

Result<SurveyRow> Api::Publish(const std::string& definition,
                               const std::vector<std::string>& locations) {
  Result<Survey> survey = ParseSurvey(definition);
  if (!survey.ok()) return survey.status();
  SurveyRow row;
  row.survey_id = survey->id;
  row.version = SurveyVersion(definition);
  row.revision = survey->revision;
  row.definition = definition;
  row.locations = locations;
  row.published_ms = now_ms_();
  SurveyBundle bundle{row.survey_id, definition, row.published_ms, locations};
  row.bundle = EncodeSignedMessage(SignMessage(kSurveyDomain, EncodeBundle(bundle), keys_.sign));
  Status s = store_->PublishSurvey(row);
  if (!s.ok()) return s;
  // The statistics projection counts new records with the latest definition from now on. (If
  // the store cannot say it now, GET /v1/admin/stats tells it before it reads the cells.)
  if (options_.definitions) (void)options_.definitions->Refresh(store_);
  return row;
}

HttpResponse Api::Health() {
  Status s = store_->Ping();
  if (!s.ok()) return ErrorResponse(503, "unavailable", "store unreachable: " + s.message());
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("status");
    w.String("ok");
    w.Key("store");
    Str(w, store_->Kind());
    w.EndObject();
  });
}

namespace {

// The latest published version of each survey that applies to `location`, by survey id.
Result<std::map<std::string, SurveyRow>> LatestBundles(ServerStore* store,
                                                       const std::string& location) {
  Result<std::vector<SurveyRow>> all = store->ListSurveys();
  if (!all.ok()) return all.status();
  std::map<std::string, SurveyRow> latest;
  for (SurveyRow& s : *all) {
    bool here = s.locations.empty() ||
                std::find(s.locations.begin(), s.locations.end(), location) != s.locations.end();
    if (here) latest[s.survey_id] = std::move(s);
  }
  return latest;
}

// "bundles": [{"survey_id", "version", "bundle" (hex of the SignedMessage)}], as /v1/surveys and
// the enrollment answers give them.
void WriteBundles(Json& w, const std::map<std::string, SurveyRow>& latest) {
  w.Key("bundles");
  w.StartArray();
  for (const auto& [id, s] : latest) {
    w.StartObject();
    w.Key("survey_id");
    Str(w, id);
    w.Key("version");
    Str(w, ToHex(s.version));
    w.Key("bundle");
    Str(w, ToHex(s.bundle));
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::optional<HttpResponse> Api::WebChannelGate(const HttpRequest& r, std::string* origin_out) {
  auto it = r.headers.find("origin");
  const std::string origin = it == r.headers.end() ? "" : it->second;
  *origin_out = origin;
  if (std::find(options_.web_origins.begin(), options_.web_origins.end(), origin) ==
      options_.web_origins.end()) {
    CountRefused("origin");
    return ErrorResponse(403, "forbidden",
                         "origin '" + origin +
                             "' is not allowed to use the web channel; an admin adds it with "
                             "canvass-server --web-origin");
  }
  if (r.method == "OPTIONS") {  // CORS preflight
    HttpResponse ok;
    ok.status = 204;
    ok.headers = {{"Access-Control-Allow-Origin", origin},
                  {"Access-Control-Allow-Methods", "POST"},
                  {"Access-Control-Allow-Headers", "Content-Type"},
                  {"Vary", "Origin"}};
    return ok;
  }
  return std::nullopt;
}

HttpResponse Api::Enroll(const HttpRequest& r, bool web) {
  const std::int64_t now = now_ms_();
  std::string origin;
  if (web) {
    if (std::optional<HttpResponse> gate = WebChannelGate(r, &origin)) return std::move(*gate);
    if (!web_enroll_limit_.Allow(r.remote_address, now)) {
      CountRefused("rate_limit");
      return ErrorResponse(429, "rate_limited",
                           "too many web enrollments from this address; retry in a minute");
    }
  }
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  auto protocol = doc->FindMember("protocol");
  if (protocol != doc->MemberEnd() &&
      (!protocol->value.IsUint() || protocol->value.GetUint() != kProtocolVersion)) {
    return ErrorResponse(400, "invalid_argument",
                         "wrong protocol version (this server speaks protocol " +
                             std::to_string(kProtocolVersion) + ")");
  }
  Result<PublicKey> key = ArrayFromHex<32>(StringField(*doc, "public_key"));
  if (!key.ok()) {
    return ErrorResponse(400, "invalid_argument", "public_key: " + key.status().message());
  }
  auto make_device = [&](const std::string& location, const std::string& channel) {
    DeviceRow d;
    d.device_id = "dev-" + RandomHex(6);
    d.location = location;
    d.channel = channel;
    d.public_key = *key;
    d.web = web;
    d.enrolled_ms = now;
    DeviceCertificate cert{
        d.device_id, location, channel, *key, now, now + options_.certificate_days * 86400000, web};
    d.certificate =
        EncodeSignedMessage(SignMessage(kDeviceDomain, EncodeCertificate(cert), keys_.sign));
    return d;
  };
  Result<DeviceRow> device = Status::InvalidArgument("unset");
  if (web) {
    DeviceRow d = make_device(options_.web_location, "web");
    Status s = store_->AddDevice(d);
    device = s.ok() ? Result<DeviceRow>(d) : Result<DeviceRow>(s);
  } else {
    std::string code = NormalizeCode(StringField(*doc, "code"));
    if (code.empty())
      return ErrorResponse(400, "invalid_argument", "code: the enrollment code is missing");
    device = store_->Enroll(Blake2b256(code), now, [&](const EnrollCodeRow& c) {
      return make_device(c.location, c.channel);
    });
  }
  if (!device.ok()) {
    CountRefused("enroll");
    return StatusResponse(device.status());
  }
  // The survey bundles for the device's location come with the certificate (DESIGN §4), which
  // saves a new device a round trip before its first question.
  Result<std::map<std::string, SurveyRow>> bundles = LatestBundles(store_, device->location);
  if (!bundles.ok()) return StatusResponse(bundles.status());
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("device_id");
    Str(w, device->device_id);
    w.Key("location");
    Str(w, device->location);
    w.Key("channel");
    Str(w, device->channel);
    w.Key("certificate");
    Str(w, ToHex(device->certificate));
    w.Key("org_sign_key");
    Str(w, ToHex(keys_.sign.public_key()));
    w.Key("org_box_key");
    Str(w, ToHex(keys_.box.public_key()));
    WriteBundles(w, *bundles);
    w.EndObject();
  });
  if (web) out.headers = {{"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}};
  return out;
}

// The web channel's survey bundles and the organisation keys, before (and without) enrolling: a
// website's widget shows its first question from them while its enrollment completes behind it
// (docs/widget.md, Taking out the waiting). The same allow-list of origins as web enrollment;
// nothing is written, so no rate limit. POST, so that the browser always sends Origin.
HttpResponse Api::WebSurveys(const HttpRequest& r) {
  std::string origin;
  if (std::optional<HttpResponse> gate = WebChannelGate(r, &origin)) return std::move(*gate);
  Result<std::map<std::string, SurveyRow>> bundles = LatestBundles(store_, options_.web_location);
  if (!bundles.ok()) return StatusResponse(bundles.status());
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("location");
    Str(w, options_.web_location);
    w.Key("channel");
    Str(w, "web");
    w.Key("org_sign_key");
    Str(w, ToHex(keys_.sign.public_key()));
    w.Key("org_box_key");
    Str(w, ToHex(keys_.box.public_key()));
    WriteBundles(w, *bundles);
    w.EndObject();
  });
  out.headers = {
      {"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}, {"Cache-Control", "no-store"}};
  return out;
}

HttpResponse Api::Surveys(const HttpRequest& r) {
  auto it = r.query.find("device");
  if (it == r.query.end())
    return ErrorResponse(400, "invalid_argument", "device: query parameter missing");
  Result<std::optional<DeviceRow>> device = store_->FindDevice(it->second);
  if (!device.ok()) return StatusResponse(device.status());
  if (!*device)
    return ErrorResponse(401, "unauthenticated",
                         "unknown device '" + it->second + "'; enroll it first");
  if ((*device)->revoked_ms)
    return ErrorResponse(403, "forbidden", "device '" + it->second + "' is revoked");
  Result<std::map<std::string, SurveyRow>> latest = LatestBundles(store_, (*device)->location);
  if (!latest.ok()) return StatusResponse(latest.status());
  std::string versions;
  for (const auto& [id, s] : *latest) versions += id + ToHex(s.version);
  std::string etag = "\"" + ToHex(Blake2b256(versions)).substr(0, 32) + "\"";
  auto inm = r.headers.find("if-none-match");
  if (inm != r.headers.end() && inm->second == etag) {
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.headers = {{"ETag", etag}};
    return not_modified;
  }
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    WriteBundles(w, *latest);
    w.EndObject();
  });
  out.headers = {{"ETag", etag}};
  return out;
}

HttpResponse Api::PushRecords(const HttpRequest& r, std::string* actor) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t now = now_ms_();
  // Until the device is known and the batch's first signature verifies, the push is anonymous:
  // its refusals are charged to the sender's address, never to the device it names (anyone can
  // name a device: ids show in case ids, webhook events and /v1/revocations).
  const auto refuse = [&](int status, const std::string& code, const std::string& message) {
    (void)push_failures_.Allow(r.remote_address, now);
    return ErrorResponse(status, code, message);
  };
  if (std::int64_t wait_ms = 0; push_failures_.Exhausted(r.remote_address, now, &wait_ms)) {
    CountRefused("rate_limit");
    return ErrorResponse(429, "rate_limited",
                         "too many refused pushes from this address; retry in " +
                             std::to_string((wait_ms + 999) / 1000) + " s");
  }
  if (r.body.size() > kMaxBatchBytes) {
    CountRefused("too_large");
    return refuse(413, "too_large",
                  "batch body is " + std::to_string(r.body.size()) + " bytes, over the limit of " +
                      std::to_string(kMaxBatchBytes) + "; send smaller batches");
  }
  if (std::optional<std::uint32_t> n = PeekBatchCount(r.body); n && *n > kMaxBatchRecords) {
    CountRefused("too_large");
    return refuse(413, "too_large",
                  "batch holds " + std::to_string(*n) + " records, over the limit of " +
                      std::to_string(kMaxBatchRecords) + "; send smaller batches");
  }
  Result<RecordBatch> batch = DecodeBatch(r.body);
  if (!batch.ok()) {
    CountRefused(batch.status().message().find("protocol") != std::string::npos ? "protocol"
                                                                                : "malformed");
    return refuse(
        400, batch.status().code() == StatusCode::kCorruption ? "corruption" : "invalid_argument",
        batch.status().message());
  }
  *actor = batch->device_id;
  Result<std::optional<DeviceRow>> device = store_->FindDevice(batch->device_id);
  if (!device.ok()) return StatusResponse(device.status());
  if (!*device) {
    CountRefused("unknown_device");
    return refuse(401, "unauthenticated",
                  "unknown device '" + batch->device_id + "'; enroll it with a code from an admin");
  }
  if ((*device)->revoked_ms) {
    CountRefused("revoked");
    return refuse(403, "forbidden", "device '" + batch->device_id + "' is revoked; nothing stored");
  }
  // The stored certificate must be this organisation's word about this key, and still valid:
  // a device row copied in from elsewhere (or altered on disk) is not trusted.
  {
    Result<SignedMessage> cert_message = DecodeSignedMessage((*device)->certificate);
    Status cert_ok = cert_message.ok()
                         ? VerifyMessage(kDeviceDomain, *cert_message, keys_.sign.public_key())
                         : cert_message.status();
    Result<DeviceCertificate> cert =
        cert_ok.ok() ? DecodeCertificate(cert_message->body) : Result<DeviceCertificate>(cert_ok);
    if (!cert.ok() || cert->device_id != batch->device_id ||
        cert->device_key != (*device)->public_key) {
      CountRefused("certificate");
      return refuse(403, "forbidden",
                    "device '" + batch->device_id +
                        "' has no certificate signed by this organisation; enroll it "
                        "again with a code from an admin; nothing stored");
    }
    if (cert->valid_until_ms < now) {
      CountRefused("certificate");
      return refuse(403, "forbidden",
                    "device '" + batch->device_id +
                        "': its certificate has expired; enroll it again; nothing stored");
    }
  }
  // Verify every record before storing any.
  std::vector<VerifiedRecord> records;
  records.reserve(batch->envelopes.size());
  for (std::size_t i = 0; i < batch->envelopes.size(); ++i) {
    const std::string where = "record " + std::to_string(i + 1) + " of the batch";
    Result<SignedRecord> signed_record = DecodeSignedRecord(batch->envelopes[i]);
    if (!signed_record.ok()) {
      CountRefused("malformed");
      if (i == 0) (void)push_failures_.Allow(r.remote_address, now);
      return ErrorResponse(400, "corruption",
                           where + ": " + signed_record.status().message() + "; nothing stored");
    }
    const Hash256 hash = RecordHash(signed_record->record_bytes);
    if (!VerifyDomainHash(kRecordDomain, hash, signed_record->signature, (*device)->public_key)) {
      CountRefused("signature");
      if (i == 0) (void)push_failures_.Allow(r.remote_address, now);
      return ErrorResponse(400, "unauthenticated",
                           where +
                               ": signature does not verify with the device's key (altered in "
                               "transit or forged); nothing stored");
    }
    // The device is known and signed this batch: from here on the push counts against its own
    // budget.
    if (i == 0 && !push_limit_.Allow(batch->device_id, now)) {
      CountRefused("rate_limit");
      return ErrorResponse(429, "rate_limited",
                           "too many batches from this device; retry in a minute");
    }
    Result<ResponseRecord> record = DecodeRecord(signed_record->record_bytes);
    if (!record.ok()) {
      CountRefused("malformed");
      return ErrorResponse(400, "corruption",
                           where + ": " + record.status().message() + "; nothing stored");
    }
    if (record->device_id != batch->device_id) {
      CountRefused("malformed");
      return ErrorResponse(
          400, "invalid_argument",
          where + " belongs to device '" + record->device_id + "'; nothing stored");
    }
    // Times the interchange format can write (years 0000-9999): any real clock, however wrong,
    // is inside; outside, the export would write a time that `canvass report` cannot read.
    if (record->device_time_ms < kFirstExportableMs || record->device_time_ms > kLastExportableMs) {
      CountRefused("malformed");
      return ErrorResponse(400, "invalid_argument",
                           where + " has a device time outside the years 0000-9999 (" +
                               std::to_string(record->device_time_ms) +
                               " ms since 1970); check the device's clock; nothing stored");
    }
    // Where a record comes from is its device's certificate (DESIGN §5): a record that claims
    // another location, or answers a survey not published for the device's, is refused.
    if (Status here = CheckRecordLocation(*record, (*device)->location); !here.ok()) {
      CountRefused("location");
      return ErrorResponse(403, "forbidden", where + ": " + here.message() + "; nothing stored");
    }
    if (Status here = SurveyApplies(record->survey_id, (*device)->location); !here.ok()) {
      CountRefused("location");
      return ErrorResponse(
          here.code() == StatusCode::kInvalidArgument ? 403 : 503,
          here.code() == StatusCode::kInvalidArgument ? "forbidden" : "unavailable",
          where + ": " + here.message() + "; nothing stored");
    }
    if (record->seq == 0) {
      CountRefused("malformed");
      return ErrorResponse(400, "invalid_argument",
                           where + " has seq 0; seqs start at 1; nothing stored");
    }
    if (i > 0 && record->seq != records.back().seq + 1) {
      CountRefused("malformed");
      return ErrorResponse(400, "invalid_argument",
                           where + " has seq " + std::to_string(record->seq) + " after seq " +
                               std::to_string(records.back().seq) +
                               ": records must be consecutive; nothing stored");
    }
    if (i > 0 && record->prev_hash != records.back().hash) {
      CountRefused("chain");
      return ErrorResponse(400, "invalid_argument",
                           where +
                               ": prev_hash does not match the record before it in the batch; "
                               "nothing stored");
    }
    records.push_back({record->seq, hash, record->prev_hash, std::move(batch->envelopes[i])});
  }
  Result<AppendResult> appended = store_->AppendRecords(batch->device_id, records, now);
  if (!appended.ok()) {
    CountRefused("store");
    LogStoreFailure(appended.status(), now);
    return StatusResponse(appended.status().WithContext("nothing stored"));
  }
  if (appended->verdict == AppendResult::Verdict::kFork) {
    CountRefused("fork");
    if (!KeepInQuarantine(batch->device_id, records, appended->message, now)) {
      return ErrorResponse(
          409, "conflict",
          appended->message +
              "; the quarantine is full for this device, so this batch was not "
              "kept: an admin should look at the device (canvass admin quarantine) "
              "and revoke it if it was cloned");
    }
    return ErrorResponse(409, "conflict", appended->message);
  }
  if (appended->verdict == AppendResult::Verdict::kGap) {
    CountRefused("gap");
    return ErrorResponse(422, "invalid_argument", appended->message);
  }
  accepted_ += appended->stored;
  duplicates_ += appended->duplicates;
  if (appended->stored > 0 && options_.projector) options_.projector->Notify();
  const VerifiedRecord& last = records.back();
  Result<std::int64_t> stored_at = store_->StoredTime(batch->device_id, last.seq);
  if (!stored_at.ok()) return StatusResponse(stored_at.status());
  SyncReceipt receipt{batch->device_id, last.seq, last.hash, *stored_at};
  HttpResponse out;
  out.content_type = "application/octet-stream";
  out.body = EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(receipt), keys_.sign));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard lock(metrics_mu_);
  for (std::size_t i = 0; i < std::size(kLatencyBounds); ++i) {
    if (seconds <= kLatencyBounds[i]) ++latency_buckets_[i];
  }
  latency_sum_ += seconds;
  ++latency_count_;
  return out;
}

Status Api::SurveyApplies(const std::string& survey_id, const std::string& location) {
  const auto here = [&](const std::set<std::string>& where) {
    return where.count("") > 0 || where.count(location) > 0;
  };
  {
    std::lock_guard lock(applies_mu_);
    if (auto it = applies_.find(survey_id); it != applies_.end() && here(it->second)) {
      return Status::Ok();
    }
  }
  // Not known to apply: ask the store (another server may have published since).
  Result<std::vector<SurveyRow>> all = store_->ListSurveys();
  if (!all.ok()) return all.status();
  std::map<std::string, std::set<std::string>> fresh;
  for (const SurveyRow& s : *all) {
    std::set<std::string>& where = fresh[s.survey_id];
    if (s.locations.empty()) where.insert("");
    where.insert(s.locations.begin(), s.locations.end());
  }
  std::lock_guard lock(applies_mu_);
  applies_ = std::move(fresh);
  auto it = applies_.find(survey_id);
  if (it == applies_.end() || here(it->second)) return Status::Ok();
  return Status::InvalidArgument("survey '" + survey_id + "' is not published for location '" +
                                 location +
                                 "', where this device is enrolled; publish it there (canvass "
                                 "admin publish --location) or enroll the device where it is");
}

bool Api::KeepInQuarantine(const std::string& device_id, const std::vector<VerifiedRecord>& records,
                           const std::string& reason, std::int64_t now_ms) {
  std::uint64_t bytes = 0;
  for (const VerifiedRecord& rec : records) bytes += rec.envelope.size();
  Result<std::pair<std::uint64_t, std::uint64_t>> used = store_->QuarantineBytes(device_id);
  const bool fits = used.ok() && used->first + bytes <= options_.quarantine_device_bytes &&
                    used->second + bytes <= options_.quarantine_total_bytes;
  if (!fits) {
    CountRefused("quarantine_full");
    std::int64_t last = quarantine_full_logged_ms_.load();
    if (now_ms - last >= 60000 &&
        quarantine_full_logged_ms_.compare_exchange_strong(last, now_ms)) {
      std::cerr << "canvass-server: quarantine full: a forked batch of device '" << device_id
                << "' (" << bytes << " bytes) was refused without being kept"
                << (used.ok() ? "" : " (" + used.status().message() + ")")
                << "; see canvass admin quarantine (logged at most once a minute)" << std::endl;
    }
    return false;
  }
  for (const VerifiedRecord& rec : records) {
    (void)store_->Quarantine({device_id, rec.seq, reason, rec.envelope, now_ms});
  }
  return true;
}

// Device lists come in pages of device ids: `after` (exclusive) and `limit`; an answer that may
// have more says where to go on ("next").
constexpr std::uint32_t kDevicePage = 1000;
constexpr std::uint32_t kMaxDevicePage = 10000;

struct DevicePage {
  std::vector<DeviceRow> rows;
  bool full = false;  // as many as asked for: there may be more
};

Result<DevicePage> ReadDevicePage(ServerStore* store, const HttpRequest& r, bool revoked_only) {
  Result<std::uint32_t> limit = ListLimit(r, kDevicePage, kMaxDevicePage);
  if (!limit.ok()) return limit.status();
  auto after = r.query.find("after");
  Result<std::vector<DeviceRow>> rows =
      store->ListDevices(after == r.query.end() ? "" : after->second, *limit, revoked_only);
  if (!rows.ok()) return rows.status();
  const bool full = rows->size() == *limit;
  return DevicePage{std::move(*rows), full};
}

// "next": where the following page starts, on a full page only.
void WriteNext(Json& w, const DevicePage& page) {
  if (!page.full) return;
  w.Key("next");
  Str(w, page.rows.back().device_id);
}

HttpResponse Api::Revocations(const HttpRequest& r) {
  Result<DevicePage> devices = ReadDevicePage(store_, r, /*revoked_only=*/true);
  if (!devices.ok()) return StatusResponse(devices.status());
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("revoked");
    w.StartArray();
    for (const DeviceRow& d : devices->rows) {
      w.StartObject();
      w.Key("device_id");
      Str(w, d.device_id);
      w.Key("revoked_ms");
      w.Int64(*d.revoked_ms);
      w.EndObject();
    }
    w.EndArray();
    WriteNext(w, *devices);
    w.EndObject();
  });
}

namespace {

std::string BearerToken(const HttpRequest& r) {
  auto it = r.headers.find("authorization");
  if (it == r.headers.end() || it->second.rfind("Bearer ", 0) != 0) return std::string();
  return it->second.substr(7);
}

}  // namespace

Result<Principal> Api::Authenticate(const HttpRequest& r) {
  const Status refused = Status::Unauthenticated(
      "admin calls need 'Authorization: Bearer <token>' (the initial token from "
      "DATA/initial-admin-token, or one from POST /v1/admin/login)");
  const std::string token = BearerToken(r);
  if (token.empty() || token.size() > 256) return refused;
  const Principal admin{std::string(kAdminName), Role::kOwner, {}, true};
  const std::string hash = ToHex(Blake2b256(token));
  Result<std::optional<std::string>> initial = store_->GetSetting("admin_token_hash");
  if (!initial.ok()) return initial.status();
  if (*initial && ConstantTimeEqual(hash, **initial)) return admin;
  Result<std::optional<std::string>> session = store_->FindSession(Blake2b256(token), now_ms_());
  if (!session.ok()) return session.status();
  if (!*session) return refused;
  if ((*session)->empty()) return admin;  // a session of the admin password
  Result<std::optional<UserRow>> user = store_->FindUser(**session);
  if (!user.ok()) return user.status();
  std::optional<Role> role = *user ? ParseRole((*user)->role) : std::nullopt;
  if (!role) return Status::Unauthenticated("this session's user no longer exists; log in again");
  return Principal{(*user)->name, *role, (*user)->locations, false};
}

HttpResponse Api::Admin(const HttpRequest& r, std::string* actor) {
  const std::string& p = r.path;
  const std::int64_t now = now_ms_();
  if (p == "/v1/admin/login" && r.method == "POST") {
    if (!login_failures_.Allow(r.remote_address + "#check", now)) {
      return ErrorResponse(429, "rate_limited",
                           "too many failed logins from this address; wait a minute");
    }
    Result<rapidjson::Document> doc = ParseJsonBody(r.body);
    if (!doc.ok()) return StatusResponse(doc.status());
    std::string password = StringField(*doc, "password");
    // With "user": that user's password; without: the admin password (the owner "admin").
    const std::string user = StringField(*doc, "user");
    // Locked before the password is checked, so that a locked account tells nothing about a
    // guess. Unknown names lock as well: a lock says nothing about which names exist.
    const std::string account = user.empty() ? std::string("admin:") : "user:" + user;
    *actor = user.empty() ? std::string(kAdminName) : user;
    if (std::int64_t wait_ms = 0; account_failures_.Exhausted(account, now, &wait_ms)) {
      SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
      const std::int64_t minutes = (wait_ms + 59999) / 60000;
      return ErrorResponse(
          429, "locked",
          "this account is locked for " + std::to_string(minutes) +
              " more minute(s) after 10 failed logins; sessions already open keep working, "
              "and restarting the server lifts the lock");
    }
    Result<std::optional<std::string>> stored = std::optional<std::string>();
    if (user.empty()) {
      stored = store_->GetSetting("admin_password_hash");
    } else if (Result<std::optional<UserRow>> found = store_->FindUser(user); !found.ok()) {
      stored = found.status();
    } else if (*found) {
      stored = std::optional<std::string>((*found)->password_hash);
    }
    if (!stored.ok()) {
      SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
      return StatusResponse(stored.status());
    }
    const bool ok = VerifyPassword(*stored, password);
    SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
    if (!ok) {
      (void)account_failures_.Allow(account, now);
      return ErrorResponse(401, "unauthenticated",
                           !user.empty() ? "wrong user name or password"
                           : *stored     ? "wrong password"
                                         : "no admin password is set yet; use the initial "
                                           "admin token to set one");
    }
    login_failures_.Reset(r.remote_address + "#check");
    account_failures_.Reset(account);
    std::string token = RandomHex(32);
    Status s = store_->AddSession(Blake2b256(token), now + kSessionMs, user);
    if (!s.ok()) return StatusResponse(s);
    return JsonResponse(200, [&](Json& w) {
      w.StartObject();
      w.Key("token");
      Str(w, token);
      w.EndObject();
    });
  }
  Result<Principal> who = Authenticate(r);
  if (!who.ok()) return StatusResponse(who.status());
  *actor = who->name;
  const Hash256 caller_token = Blake2b256(BearerToken(r));
  if (p == "/v1/admin/logout" && r.method == "POST") {
    // Ends this session on the server (a copied token stops working too). The initial token is
    // no session: it ends when a password is set.
    if (Status s = store_->EndSession(caller_token); !s.ok()) return StatusResponse(s);
    HttpResponse done;
    done.status = 204;
    return done;
  }
  if (p == "/v1/admin/password" && r.method == "POST") {
    // The password of whoever is logged in: the admin password, or the user's own. It takes the
    // current one (but for the admin's first), and ends every other session of that account.
    Result<rapidjson::Document> doc = ParseJsonBody(r.body);
    if (!doc.ok()) return StatusResponse(doc.status());
    std::string password = StringField(*doc, "password");
    std::string current = StringField(*doc, "current_password");
    const auto wipe = [&] {
      SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
      SecureWipe(current.data(), static_cast<std::uint32_t>(current.size()));
    };
    Result<std::optional<UserRow>> user = std::optional<UserRow>();
    Result<std::optional<std::string>> stored = std::optional<std::string>();
    if (who->admin) {
      stored = store_->GetSetting("admin_password_hash");
    } else {
      user = store_->FindUser(who->name);
      if (user.ok() && !*user) user = Status::NotFound("no user '" + who->name + "'");
      if (user.ok()) stored = std::optional<std::string>((*user)->password_hash);
    }
    if (!user.ok() || !stored.ok()) {
      wipe();
      return StatusResponse(!user.ok() ? user.status() : stored.status());
    }
    if (*stored && !(*stored)->empty()) {
      const std::string account = who->admin ? std::string("admin:") : "user:" + who->name;
      if (account_failures_.Exhausted(account, now)) {
        wipe();
        return ErrorResponse(429, "locked",
                             "this account is locked after 10 failed password checks; wait 15 "
                             "minutes");
      }
      if (current.empty() || !VerifyPassword(*stored, current)) {
        wipe();
        (void)account_failures_.Allow(account, now);
        return ErrorResponse(401, "unauthenticated",
                             current.empty()
                                 ? "current_password: give the current password to change it"
                                 : "current_password is wrong; the password is unchanged");
      }
    }
    SecureWipe(current.data(), static_cast<std::uint32_t>(current.size()));
    Result<std::string> hash = HashPassword(&password);  // wipes it on every path
    if (!hash.ok()) return StatusResponse(hash.status());
    Status s;
    if (who->admin) {
      s = store_->PutSetting("admin_password_hash", *hash);
      if (s.ok()) s = store_->PutSetting("admin_token_hash", "");  // the initial token stops
      if (s.ok() && options_.on_password_set) options_.on_password_set();
    } else {
      (*user)->password_hash = *hash;
      s = store_->UpdateUser(**user, /*end_sessions=*/false);
    }
    // Whoever else holds a session of this account (a stolen token, another browser) is out.
    if (s.ok()) s = store_->EndSessionsBut(who->admin ? "" : who->name, caller_token);
    if (!s.ok()) return StatusResponse(s);
    HttpResponse done;
    done.status = 204;
    return done;
  }
  if (std::optional<HttpResponse> out = ClosedLoop(r, *who)) return std::move(*out);
  if (p == "/v1/admin/surveys" && r.method == "GET") {
    // Every role: managers and staff see the surveys published for one of their locations (or
    // for every location), which is what their dashboard can show.
    Result<std::vector<SurveyRow>> all = store_->ListSurveys();
    if (!all.ok()) return StatusResponse(all.status());
    return JsonResponse(200, [&](Json& w) {
      w.StartObject();
      w.Key("surveys");
      w.StartArray();
      for (const SurveyRow& s : *all) {
        if (!CanAccessAny(*who, s.locations)) continue;
        w.StartObject();
        w.Key("survey_id");
        Str(w, s.survey_id);
        w.Key("version");
        Str(w, ToHex(s.version));
        w.Key("revision");
        w.Uint(s.revision);
        w.Key("published_ms");
        w.Int64(s.published_ms);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
  }
  // Every role: a manager's or staff member's cube holds the cells of their locations only.
  if (p == "/v1/admin/stats" && r.method == "GET") return Stats(r, *who);
  // Managers: the report and the export of their locations (staff get neither).
  if ((p == "/v1/admin/report" || p == "/v1/admin/export") && r.method == "GET" &&
      who->role == Role::kManager) {
    if (std::optional<HttpResponse> refused = ForeignLocation(r, *who)) return std::move(*refused);
    return p == "/v1/admin/report" ? Report(r, &*who) : Export(r, &*who);
  }
  if (who->role != Role::kOwner) {
    return ErrorResponse(403, "forbidden",
                         r.method + " " + p + " needs the owner role; " + who->name + " is " +
                             RoleName(who->role) +
                             " (open to every role: /v1/admin/me, /v1/admin/cases..., GET "
                             "/v1/admin/case-categories, GET /v1/admin/surveys, GET "
                             "/v1/admin/stats, /v1/admin/password; to managers also GET "
                             "/v1/admin/report and /v1/admin/export of their locations)");
  }
  if (p == "/v1/admin/surveys" && r.method == "POST") {
    std::vector<std::string> locations;
    if (auto it = r.query.find("locations"); it != r.query.end() && !it->second.empty()) {
      std::stringstream ss(it->second);
      std::string l;
      while (std::getline(ss, l, ',')) {
        if (!l.empty()) locations.push_back(l);
      }
    }
    std::string definition = r.body;
    std::vector<SurveyJsIssue> unmapped;
    if (auto f = r.query.find("format"); f != r.query.end() && f->second == "surveyjs") {
      auto id = r.query.find("id");
      Result<SurveyJsImport> imported =
          ImportSurveyJs(r.body, id == r.query.end() ? std::string() : id->second);
      if (!imported.ok()) return StatusResponse(imported.status());
      definition = imported->definition;
      unmapped = imported->unmapped;
    }
    Result<SurveyRow> row = Publish(definition, locations);
    if (!row.ok()) return StatusResponse(row.status());
    return JsonResponse(201, [&](Json& w) {
      w.StartObject();
      w.Key("survey_id");
      Str(w, row->survey_id);
      w.Key("version");
      Str(w, ToHex(row->version));
      w.Key("revision");
      w.Uint(row->revision);
      w.Key("unmapped");  // SurveyJS elements left out, by name, with the reason
      w.StartArray();
      for (const SurveyJsIssue& issue : unmapped) {
        w.StartObject();
        w.Key("element");
        Str(w, issue.element);
        w.Key("reason");
        Str(w, issue.reason);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
  }
  if (p == "/v1/admin/enroll-codes" && r.method == "POST") {
    Result<rapidjson::Document> doc = ParseJsonBody(r.body);
    if (!doc.ok()) return StatusResponse(doc.status());
    std::string location = StringField(*doc, "location");
    std::string channel = StringField(*doc, "channel");
    if (channel.empty()) channel = "kiosk";
    if (location.empty() || location.size() > kMaxIdLength) {
      return ErrorResponse(400, "invalid_argument",
                           "location: name the location the device serves");
    }
    std::int64_t ttl_hours = 24;
    if (auto t = doc->FindMember("ttl_hours"); t != doc->MemberEnd()) {
      if (!t->value.IsInt64() || t->value.GetInt64() < 0 || t->value.GetInt64() > 24 * 365) {
        return ErrorResponse(400, "invalid_argument",
                             "ttl_hours: a whole number of hours, 0 to 8760");
      }
      ttl_hours = t->value.GetInt64();
    }
    std::string code = NewEnrollCode();
    EnrollCodeRow row{Blake2b256(NormalizeCode(code)), location, channel,
                      now + ttl_hours * 3600000};
    Status s = store_->AddEnrollCode(row);
    if (!s.ok()) return StatusResponse(s);
    return JsonResponse(201, [&](Json& w) {
      w.StartObject();
      w.Key("code");
      Str(w, code);
      w.Key("expires_ms");
      w.Int64(row.expires_ms);
      w.EndObject();
    });
  }
  if (p == "/v1/admin/devices" && r.method == "GET") {
    Result<DevicePage> devices = ReadDevicePage(store_, r, /*revoked_only=*/false);
    if (!devices.ok()) return StatusResponse(devices.status());
    return JsonResponse(200, [&](Json& w) {
      w.StartObject();
      w.Key("devices");
      w.StartArray();
      for (const DeviceRow& d : devices->rows) {
        w.StartObject();
        w.Key("device_id");
        Str(w, d.device_id);
        w.Key("location");
        Str(w, d.location);
        w.Key("channel");
        Str(w, d.channel);
        w.Key("web");
        w.Bool(d.web);
        w.Key("revoked");
        w.Bool(d.revoked_ms.has_value());
        w.Key("last_seq");
        w.Uint64(d.head.seq);
        w.Key("enrolled_ms");
        w.Int64(d.enrolled_ms);
        w.EndObject();
      }
      w.EndArray();
      WriteNext(w, *devices);
      w.EndObject();
    });
  }
  const std::string kDevices = "/v1/admin/devices/";
  if (p.rfind(kDevices, 0) == 0 && p.size() > kDevices.size() + 7 &&
      p.compare(p.size() - 7, 7, "/revoke") == 0 && r.method == "POST") {
    std::string id = p.substr(kDevices.size(), p.size() - kDevices.size() - 7);
    Status s = store_->RevokeDevice(id, now);
    if (!s.ok()) return StatusResponse(s);
    HttpResponse done;
    done.status = 204;
    return done;
  }
  if (p == "/v1/admin/export" && r.method == "GET") return Export(r, nullptr);
  if (p == "/v1/admin/report" && r.method == "GET") return Report(r, nullptr);
  if (p == "/v1/admin/quarantine" && r.method == "GET") {
    Result<std::vector<QuarantineRow>> rows = store_->ListQuarantine(1000);
    if (!rows.ok()) return StatusResponse(rows.status());
    return JsonResponse(200, [&](Json& w) {
      w.StartObject();
      w.Key("quarantine");
      w.StartArray();
      for (const QuarantineRow& q : *rows) {
        w.StartObject();
        w.Key("device_id");
        Str(w, q.device_id);
        w.Key("seq");
        w.Uint64(q.seq);
        w.Key("reason");
        Str(w, q.reason);
        w.Key("received_ms");
        w.Int64(q.received_ms);
        w.Key("envelope");
        Str(w, ToHex(q.envelope));
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
  }
  return ErrorResponse(404, "not_found",
                       "no admin endpoint " + r.method + " " + p + " (see docs/protocol.md)");
}

std::optional<HttpResponse> Api::ForeignLocation(const HttpRequest& r, const Principal& who) {
  std::vector<std::string> named;
  if (auto it = r.query.find("location"); it != r.query.end()) named.push_back(it->second);
  auto [begin, end] = r.query.equal_range("where");
  for (auto it = begin; it != end; ++it) {
    if (it->second.rfind("location=", 0) == 0) named.push_back(it->second.substr(9));
  }
  for (const std::string& l : named) {
    if (!CanAccess(who, l)) {
      return ErrorResponse(403, "forbidden",
                           who.name + " does not work at location '" + l +
                               "'; a manager's reports and exports hold their locations only");
    }
  }
  return std::nullopt;
}

HttpResponse Api::Export(const HttpRequest& r, const Principal* who) {
  std::string format = "jsonl";
  if (auto it = r.query.find("format"); it != r.query.end()) format = it->second;
  if (format != "jsonl" && format != "csv") {
    return ErrorResponse(400, "invalid_argument", "format: use jsonl or csv");
  }
  // `location=`: one location's records (a manager's own; the owner's any).
  std::string only;
  if (auto it = r.query.find("location"); it != r.query.end()) only = it->second;
  // A manager's export: their locations only (the location is the device's, DecodeStoredRecord).
  const std::optional<Principal> scope = who ? std::optional<Principal>(*who) : std::nullopt;
  // Streamed a record at a time (the store pages through the records), so that exporting a
  // million responses needs no more memory than one. A failure half-way ends the stream without
  // its last chunk: clients see a truncated answer, never a short file that looks complete.
  const auto each = [this, scope, only](const std::function<bool(const ResponseRecord&)>& visit) {
    return store_->ForEachRecord([&](const StoredRecord& stored) -> Status {
      Result<ResponseRecord> record = DecodeStoredRecord(stored);
      if (!record.ok()) return record.status();
      auto location = record->tags.find("location");
      const std::string here = location == record->tags.end() ? "" : location->second;
      if (!only.empty() && here != only) return Status::Ok();
      if (scope && !CanAccess(*scope, here)) return Status::Ok();
      return visit(*record) ? Status::Ok() : Status::Unavailable("the client went away");
    });
  };
  HttpResponse out;
  if (format == "jsonl") {
    out.content_type = "application/x-ndjson; charset=utf-8";
    out.stream = [each](const HttpResponse::Sink& write) {
      return each([&](const ResponseRecord& rec) { return write(ToJsonLine(rec) + "\n"); }).ok();
    };
    return out;
  }
  // CSV: fixed columns, then one per tag key and per question (CSI pairs as two columns), found
  // in a first pass.
  auto tag_keys = std::make_shared<std::set<std::string>>();
  auto columns = std::make_shared<std::set<std::string>>();
  Status s = each([&](const ResponseRecord& rec) {
    for (const auto& [k, v] : rec.tags) tag_keys->insert(k);
    for (const auto& [id, value] : rec.answers) {
      if (std::holds_alternative<CsiAnswer>(value)) {
        columns->insert(id + ".importance");
        columns->insert(id + ".satisfaction");
      } else {
        columns->insert(id);
      }
    }
    return true;
  });
  if (!s.ok()) return StatusResponse(s.WithContext("export"));
  out.content_type = "text/csv; charset=utf-8";
  out.headers = {{"Content-Disposition", "attachment; filename=\"canvass-export.csv\""}};
  out.stream = [each, tag_keys, columns](const HttpResponse::Sink& write) {
    std::string head = "\xEF\xBB\xBF";  // UTF-8 BOM: spreadsheets then show Cyrillic correctly
    head += "survey,survey_version,device,seq,time,outcome,customer";
    for (const auto& k : *tag_keys) head += "," + CsvCell("tag." + k);
    for (const auto& c : *columns) head += "," + CsvCell(c);
    head += "\r\n";
    if (!write(head)) return false;
    return each([&](const ResponseRecord& rec) { return write(CsvRow(rec, *tag_keys, *columns)); })
        .ok();
  };
  return out;
}

void Api::CountRefused(const std::string& reason) {
  std::lock_guard lock(metrics_mu_);
  ++refused_[reason];
}

void Api::LogStoreFailure(const Status& s, std::int64_t now_ms) {
  std::int64_t last = store_failure_logged_ms_.load();
  if (now_ms - last < 60000 || !store_failure_logged_ms_.compare_exchange_strong(last, now_ms)) {
    return;
  }
  std::cerr << "canvass-server: pushes refused, nothing stored: " << s.message()
            << " (logged at most once a minute; /metrics counts every refusal as "
               "canvass_records_refused_total{reason=\"store\"})"
            << std::endl;
}

HttpResponse Api::Metrics() {
  std::ostringstream m;
  m << "# HELP canvass_records_accepted_total Records stored (first time).\n"
       "# TYPE canvass_records_accepted_total counter\n"
       "canvass_records_accepted_total "
    << accepted_.load() << "\n";
  m << "# HELP canvass_records_duplicate_total Records resent and already stored.\n"
       "# TYPE canvass_records_duplicate_total counter\n"
       "canvass_records_duplicate_total "
    << duplicates_.load() << "\n";
  {
    std::lock_guard lock(metrics_mu_);
    m << "# HELP canvass_records_refused_total Requests refused, by reason.\n"
         "# TYPE canvass_records_refused_total counter\n";
    for (const auto& [reason, n] : refused_) {
      m << "canvass_records_refused_total{reason=\"" << reason << "\"} " << n << "\n";
    }
    m << "# HELP canvass_batch_seconds Time to verify and store a batch.\n"
         "# TYPE canvass_batch_seconds histogram\n";
    for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
      m << "canvass_batch_seconds_bucket{le=\"" << kLatencyBounds[i] << "\"} "
        << latency_buckets_[i] << "\n";
    }
    m << "canvass_batch_seconds_bucket{le=\"+Inf\"} " << latency_count_ << "\n"
      << "canvass_batch_seconds_sum " << latency_sum_ << "\n"
      << "canvass_batch_seconds_count " << latency_count_ << "\n";
  }
  if (static_files_) {
    m << "# HELP canvass_static_cache_files Static files held gzipped in memory.\n"
         "# TYPE canvass_static_cache_files gauge\n"
         "canvass_static_cache_files "
      << static_files_->CachedEntries() << "\n";
  }
  Result<std::uint64_t> count = store_->CountRecords();
  m << "# HELP canvass_store_records Records in the store.\n"
       "# TYPE canvass_store_records gauge\n"
       "canvass_store_records "
    << (count.ok() ? *count : 0) << "\n";
  if (options_.projector) {
    m << "# HELP canvass_projection_pending Stored records a projection has still to apply.\n"
         "# TYPE canvass_projection_pending gauge\n";
    for (const auto& [name, n] : options_.projector->Pending()) {
      m << "canvass_projection_pending{projection=\"" << name << "\"} " << n << "\n";
    }
  }
  HttpResponse out;
  out.content_type = "text/plain; version=0.0.4";
  out.body = m.str();
  return out;
}

HttpResponse Api::Static(const HttpRequest& r) {
  if (!static_files_) return ErrorResponse(404, "not_found", "nothing at " + r.path);
  return static_files_->Get(r);
}

}  // namespace canvass::server
