// Api: the request's way to its handler, and what every endpoint shares: the admin API's route
// table (AddAdminRoutes), rate limiters, /metrics, /healthz, the static files and the test clock.
// The handlers live by area: device_api.cpp (enrollment, bundles, devices), push_api.cpp
// (POST /v1/records), login.cpp, survey_api.cpp (publish, export), case_api.cpp (cases, users,
// webhooks), report_endpoint.cpp, stats_endpoint.cpp, sms.cpp.
#include "api.h"

#include <algorithm>
#include <sstream>

#include "clock.h"
#include "projector.h"
#include "static_files.h"

namespace canvass::server {
namespace {

using Json = JsonWriter;

constexpr double kLatencyBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

void Str(Json& w, const std::string& s) { WriteString(w, s); }

}  // namespace

std::string RandomHex(std::uint32_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(reinterpret_cast<std::uint8_t*>(raw.data()), bytes);
  return ToHex(raw);
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
  AddAdminRoutes();
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
  } else if (p == "/v1/test/clock" && r.method == "POST" && options_.test_clock) {
    response = MoveTestClock(r, &actor);
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

// Test-only (the server was started with --test-clock): {"advance_ms": N} moves the server's time
// N ms forward; the answer is the new time, {"now_ms": ...}. The owner's, like the admin API.
HttpResponse Api::MoveTestClock(const HttpRequest& r, std::string* actor) {
  Result<Principal> who = Authenticate(r);
  if (!who.ok()) return StatusResponse(who.status());
  *actor = who->name;
  if (who->role != Role::kOwner) {
    return ErrorResponse(403, "forbidden", "moving the test clock needs the owner role");
  }
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  std::int64_t advance_ms = 0;
  if (auto it = doc->FindMember("advance_ms"); it != doc->MemberEnd()) {
    if (!it->value.IsInt64() || it->value.GetInt64() < 0 ||
        it->value.GetInt64() > 100LL * 365 * 86400000) {
      return ErrorResponse(400, "invalid_argument",
                           "advance_ms: a whole number of milliseconds, 0 to 100 years; the test "
                           "clock only moves forward");
    }
    advance_ms = it->value.GetInt64();
  }
  const std::int64_t now = options_.test_clock->Advance(advance_ms);
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("now_ms");
    w.Int64(now);
    w.EndObject();
  });
}

Result<std::string> Api::CreateInitialAdminToken() {
  std::string token = RandomHex(32);
  Status s = store_->PutSetting("admin_token_hash", ToHex(Blake2b256(token)));
  if (!s.ok()) return s;
  return token;
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

// The admin API's routes (docs/protocol.md, "Admin API"), in the order they are tried. Login
// comes before authentication; then every role may log out, change its password, see itself,
// work on the cases of its locations and read the surveys and statistics they can show; managers
// also get the report and export of their locations; the rest is the owner's.
void Api::AddAdminRoutes() {
  router_.Add({"POST", "/v1/admin/login", Needs::kPublic, Handler(&Api::Login)});
  router_.Add({"POST", "/v1/admin/logout", Needs::kAnyRole, Handler(&Api::Logout)});
  router_.Add({"POST", "/v1/admin/password", Needs::kAnyRole, Handler(&Api::ChangePassword)});
  AddClosedLoopRoutes();  // case_api.cpp
  router_.Add({"GET", "/v1/admin/surveys", Needs::kAnyRole, Handler(&Api::ListSurveys)});
  // Every role: a manager's or staff member's cube holds the cells of their locations only.
  router_.Add({"GET", "/v1/admin/stats", Needs::kAnyRole,
               [this](const AdminCall& call) { return Stats(call.request, call.who); }});
  // Managers: the report and the export of their locations (staff get neither); the owner: all.
  for (const char* path : {"/v1/admin/report", "/v1/admin/export"}) {
    const bool report = std::string(path) == "/v1/admin/report";
    router_.Add({"GET", path, Needs::kManagers, [this, report](const AdminCall& call) {
                   const Principal* who = nullptr;
                   if (call.who.role == Role::kManager) {
                     if (std::optional<HttpResponse> refused =
                             ForeignLocation(call.request, call.who)) {
                       return std::move(*refused);
                     }
                     who = &call.who;
                   }
                   return report ? Report(call.request, who) : Export(call.request, who);
                 }});
  }
  router_.Add({"POST", "/v1/admin/surveys", Needs::kOwner, Handler(&Api::PublishSurvey)});
  router_.Add({"POST", "/v1/admin/enroll-codes", Needs::kOwner, Handler(&Api::AddEnrollCode)});
  router_.Add({"GET", "/v1/admin/devices", Needs::kOwner, Handler(&Api::ListDevices)});
  router_.Add(
      {"POST", "/v1/admin/devices/{...}/revoke", Needs::kOwner, Handler(&Api::RevokeDevice)});
  router_.Add({"GET", "/v1/admin/quarantine", Needs::kOwner, Handler(&Api::ListQuarantine)});
}

HttpResponse Api::Admin(const HttpRequest& r, std::string* actor) {
  const Principal nobody{};
  if (std::optional<HttpResponse> out = router_.Dispatch(r, nobody, /*public_only=*/true, actor)) {
    return std::move(*out);
  }
  Result<Principal> who = Authenticate(r);
  if (!who.ok()) return StatusResponse(who.status());
  *actor = who->name;
  if (std::optional<HttpResponse> out = router_.Dispatch(r, *who, /*public_only=*/false, actor)) {
    return std::move(*out);
  }
  if (who->role != Role::kOwner) {
    return ErrorResponse(403, "forbidden",
                         r.method + " " + r.path + " needs the owner role; " + who->name + " is " +
                             RoleName(who->role) +
                             " (open to every role: /v1/admin/me, /v1/admin/cases..., GET "
                             "/v1/admin/case-categories, GET /v1/admin/surveys, GET "
                             "/v1/admin/stats, /v1/admin/password; to managers also GET "
                             "/v1/admin/report and /v1/admin/export of their locations)");
  }
  return NotFound(AdminCall{r, *who, {}, actor});
}

std::function<HttpResponse(const AdminCall&)> Api::Handler(
    HttpResponse (Api::*handler)(const AdminCall&)) {
  return [this, handler](const AdminCall& call) { return (this->*handler)(call); };
}

HttpResponse Api::NotFound(const AdminCall& call) {
  return ErrorResponse(404, "not_found",
                       "no admin endpoint " + call.request.method + " " + call.request.path +
                           " (see docs/protocol.md)");
}

void Api::CountBatchSeconds(double seconds) {
  std::lock_guard lock(metrics_mu_);
  for (std::size_t i = 0; i < std::size(kLatencyBounds); ++i) {
    if (seconds <= kLatencyBounds[i]) ++latency_buckets_[i];
  }
  latency_sum_ += seconds;
  ++latency_count_;
}

void Api::CountRefused(const std::string& reason) {
  std::lock_guard lock(metrics_mu_);
  ++refused_[reason];
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
