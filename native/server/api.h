// The HTTP API of canvass-server (docs/protocol.md), as a function from request to response.
//
// Api knows nothing of sockets: main.cpp adapts cpp-httplib to it, and fuzz targets and tests
// can call Handle() directly. Every answer to bad input is a status plus a JSON message saying
// what to do; nothing is stored unless the whole request is valid. The admin API is a table of
// routes (router.h) to small handlers, kept in files by area (api.cpp names them). The time of
// day comes from the `now_ms` the Api is made with (main.cpp: a Clock, clock.h).
// Thread-safe: Handle() is called from the HTTP server's worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "http_message.h"
#include "org_keys.h"
#include "router.h"
#include "store.h"
#include "users.h"

namespace canvass::server {

class Projector;
class TestClock;
class StaticFiles;
class SurveyDefinitions;

// InvalidArgument unless `region` is a region libphonenumber knows ("UA", "PL"; sms.cpp).
Status CheckSmsRegion(const std::string& region);
// `bytes` random bytes, in hex: tokens and ids.
std::string RandomHex(std::uint32_t bytes);

struct ApiOptions {
  std::vector<std::string> web_origins;  // allowed Origin values for the public web channel
  std::string web_location = "web";      // location of web-channel devices
  std::int64_t certificate_days = 3650;
  std::string static_dir;  // served under / (web/), empty: none
  // SMS channel (POST /v1/channels/sms): the gateway's shared secret (empty: channel off) and
  // the survey whose NPS question an SMS reply answers.
  std::string sms_secret;
  std::string sms_survey;
  // Phone numbers without a country code are read in this region (ISO 3166 code, --sms-region).
  std::string sms_region = "UA";
  // The public URL the gateway posts to, as the gateway signs it (X-Twilio-Signature); empty:
  // https:// and http:// with the request's Host header are both tried.
  std::string sms_url;
  // Keeps derived state (projector.h); told after every push that stored records. May be null.
  Projector* projector = nullptr;
  // The latest definitions the statistics projection counts with (stats_projection.h); updated
  // on every publish. May be null (then GET /v1/admin/stats counts from the records).
  SurveyDefinitions* definitions = nullptr;
  // Test-only (--test-clock): the clock POST /v1/test/clock moves; null: that endpoint is 404.
  TestClock* test_clock = nullptr;
  // Called after an admin password is set (deletes the initial token file).
  std::function<void()> on_password_set;
  // Called after a case change queued a webhook event (wakes the sender, case_worker.h).
  std::function<void()> on_case_event;
  // Keys each rate limiter and lockout table holds (RateLimiter); small in tests.
  std::size_t limiter_keys = 100000;
  // Quarantine (forked batches kept for an admin): at most this many bytes of envelopes per
  // device and in all. A fork beyond either is refused without being kept.
  std::uint64_t quarantine_device_bytes = 16ull << 20;
  std::uint64_t quarantine_total_bytes = 512ull << 20;
};

// Fixed-window rate limiter: at most `limit` events per key per window.
//
// Its table holds at most `max_keys` keys. A full one never refuses a key it has not seen (that
// would lock every honest newcomer out) and never forgets the counts that matter: it makes room by
// dropping the tenth of its keys with the fewest events, so a flood of made-up keys displaces only
// other keys of one event, not the count of the account or device it is after.
class RateLimiter {
 public:
  RateLimiter(std::uint32_t limit, std::int64_t window_ms, std::size_t max_keys = kMaxKeys)
      : limit_(limit), window_ms_(window_ms), max_keys_(max_keys == 0 ? 1 : max_keys) {}
  bool Allow(const std::string& key, std::int64_t now_ms);
  // Whether `key` has used its budget in the current window (counts nothing); if so, *wait_ms
  // is set to the time left in that window.
  bool Exhausted(const std::string& key, std::int64_t now_ms, std::int64_t* wait_ms = nullptr);
  void Reset(const std::string& key);
  std::size_t Size();
  static constexpr std::size_t kMaxKeys = 100000;

 private:
  void MakeRoom(std::int64_t now_ms);  // mu_ held
  std::mutex mu_;
  std::uint32_t limit_;
  std::int64_t window_ms_;
  std::size_t max_keys_;
  std::int64_t last_sweep_ms_ = 0;
  std::map<std::string, std::pair<std::int64_t, std::uint32_t>> windows_;  // key -> start, count
};

class Api {
 public:
  Api(ServerStore* store, OrgKeys keys, ApiOptions options, std::function<std::int64_t()> now_ms);
  ~Api();
  HttpResponse Handle(const HttpRequest& request);

  // The first admin token (random); stores its hash. Returns the token to show once.
  Result<std::string> CreateInitialAdminToken();
  // Whether the SMS channel can record: --sms-survey published, with an NPS question. Called at
  // start, so that a wrong survey stops the server instead of answering every SMS 503.
  Status CheckSmsChannel();
  // Publishes a survey definition (also used by --publish at start).
  Result<SurveyRow> Publish(const std::string& definition,
                            const std::vector<std::string>& locations);

 private:
  // Device endpoints (device_api.cpp).
  HttpResponse Enroll(const HttpRequest& r, bool web);
  HttpResponse Surveys(const HttpRequest& r);
  HttpResponse WebSurveys(const HttpRequest& r);
  // The web channel's door (/v1/web/enroll, /v1/web/surveys): 403 for an origin off the
  // allow-list, the CORS preflight's 204 for OPTIONS, else nullopt (go on). Sets *origin.
  std::optional<HttpResponse> WebChannelGate(const HttpRequest& r, std::string* origin);
  HttpResponse Revocations(const HttpRequest& r);
  HttpResponse PushRecords(const HttpRequest& r, std::string* actor);  // push_api.cpp
  HttpResponse Metrics();
  HttpResponse Health();
  HttpResponse MoveTestClock(const HttpRequest& r, std::string* actor);  // POST /v1/test/clock
  HttpResponse Static(const HttpRequest& r);
  HttpResponse SmsInbound(const HttpRequest& r);  // sms.cpp
  struct SmsTarget;
  Result<SmsTarget> FindSmsTarget();  // sms.cpp

  // The admin API: Admin routes a request through router_, which AddAdminRoutes fills (api.cpp,
  // and AddClosedLoopRoutes in case_api.cpp).
  HttpResponse Admin(const HttpRequest& r, std::string* actor);
  void AddAdminRoutes();
  void AddClosedLoopRoutes();
  HttpResponse NotFound(const AdminCall& call);  // 404, "no admin endpoint ..."
  // A route's handler that calls `handler` on this Api.
  std::function<HttpResponse(const AdminCall&)> Handler(
      HttpResponse (Api::*handler)(const AdminCall&));
  // Who sent an admin request: Unauthenticated without a valid token (login.cpp).
  Result<Principal> Authenticate(const HttpRequest& r);
  HttpResponse Login(const AdminCall& call);           // login.cpp
  HttpResponse Logout(const AdminCall& call);          // login.cpp
  HttpResponse ChangePassword(const AdminCall& call);  // login.cpp
  HttpResponse ListSurveys(const AdminCall& call);     // survey_api.cpp
  HttpResponse PublishSurvey(const AdminCall& call);   // survey_api.cpp
  HttpResponse AddEnrollCode(const AdminCall& call);   // device_api.cpp
  HttpResponse ListDevices(const AdminCall& call);     // device_api.cpp
  HttpResponse RevokeDevice(const AdminCall& call);    // device_api.cpp
  HttpResponse ListQuarantine(const AdminCall& call);  // device_api.cpp
  // `who`: a manager, whose answer holds the records of their locations only (null: the owner).
  HttpResponse Export(const HttpRequest& r, const Principal* who);  // survey_api.cpp
  HttpResponse Report(const HttpRequest& r, const Principal* who);  // report_endpoint.cpp
  HttpResponse Stats(const HttpRequest& r, const Principal& who);   // stats_endpoint.cpp
  Result<bool> ProjectionCurrent();                                 // stats_endpoint.cpp
  // For a manager's report or export: 403 (naming it) if the request names a location that is
  // not theirs (`where=location=X`, `location=X`), else nullopt.
  std::optional<HttpResponse> ForeignLocation(const HttpRequest& r, const Principal& who);
  // Cases, users, root-cause categories and webhooks (case_api.cpp).
  HttpResponse ListCases(const HttpRequest& r, const Principal& who);
  HttpResponse GetCase(const std::string& id, const Principal& who);
  HttpResponse ChangeCase(const HttpRequest& r, const Principal& who, const std::string& id,
                          const std::string& action);
  HttpResponse ListUsers(const AdminCall& call);
  HttpResponse SaveUser(const AdminCall& call);  // POST: a new user; PUT .../{name}: a change
  HttpResponse DeleteUser(const AdminCall& call);
  HttpResponse ListWebhooks(const AdminCall& call);
  HttpResponse AddWebhook(const AdminCall& call);
  HttpResponse ListDeliveries(const AdminCall& call);
  HttpResponse DeleteWebhook(const AdminCall& call);
  Result<std::vector<std::string>> Categories();

  void CountRefused(const std::string& reason);
  void CountBatchSeconds(double seconds);  // for canvass_batch_seconds
  // Ok if a published version of survey `survey_id` applies to `location` (or the survey was
  // never published: its records count nowhere until it is); InvalidArgument saying what to do
  // if none does. Cached: a survey's set of locations only grows.
  Status SurveyApplies(const std::string& survey_id, const std::string& location);
  // Keeps a forked batch in quarantine within the bounds of ApiOptions: false (logged at most
  // once a minute) if it is over them.
  bool KeepInQuarantine(const std::string& device_id, const std::vector<VerifiedRecord>& records,
                        const std::string& reason, std::int64_t now_ms);
  // A push the store could not take (a full database, a lost connection): the device gets the
  // message, and so does the operator, on stderr, at most once a minute since every device
  // retries.
  void LogStoreFailure(const Status& s, std::int64_t now_ms);

  ServerStore* store_;
  OrgKeys keys_;
  ApiOptions options_;
  std::function<std::int64_t()> now_ms_;
  Router router_;  // the admin API's routes
  RateLimiter web_enroll_limit_{20, 60000, options_.limiter_keys};
  RateLimiter login_failures_{5, 60000, options_.limiter_keys};
  // Failed logins per account, from any address: 10 in 15 minutes lock the account for the rest
  // of those 15 minutes (addresses are cheap with IPv6, and all alike behind a proxy).
  RateLimiter account_failures_{10, 15 * 60000, options_.limiter_keys};
  // Batches per authenticated device, and refused anonymous pushes per address (PushRecords).
  RateLimiter push_limit_{600, 60000, options_.limiter_keys};
  RateLimiter push_failures_{600, 60000, options_.limiter_keys};
  std::mutex applies_mu_;
  std::map<std::string, std::set<std::string>> applies_;  // survey -> locations ("" = every)
  std::atomic<std::int64_t> quarantine_full_logged_ms_{INT64_MIN / 2};
  std::unique_ptr<StaticFiles> static_files_;  // null without --static
  struct StatsCache;                           // stats_endpoint.cpp
  std::shared_ptr<StatsCache> stats_cache_;    // made by the first GET /v1/admin/stats
  std::once_flag stats_cache_once_;
  std::mutex sms_mu_;  // one SMS record at a time: they share the gateway's chain

  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::int64_t> store_failure_logged_ms_{INT64_MIN / 2};
  std::mutex metrics_mu_;
  std::map<std::string, std::uint64_t> refused_;
  std::vector<std::uint64_t> latency_buckets_;  // counts per bucket of kLatencyBounds
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
};

}  // namespace canvass::server
