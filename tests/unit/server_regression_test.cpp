// Regression tests for failures found in canvass-server's request handling (tests/fuzz/fuzz_api
// and the security review, docs/security.md): Api::Handle on an in-memory SQLite store, no socket.
// Native only (the server does not exist in wasm).
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api.h"
#include "clock.h"
#include "published.h"
#include "router.h"
#include "store.h"
#include "users.h"

namespace canvass::server {
namespace {

struct Server {
  Server() {
    REQUIRE(InitCrypto().ok());
    Result<std::unique_ptr<ServerStore>> opened = OpenSqliteStore(":memory:");
    REQUIRE(opened.ok());
    store = std::move(*opened);
    api = std::make_unique<Api>(store.get(), OrgKeys{SigningKey::Generate(), BoxKey::Generate()},
                                ApiOptions{}, [this] { return now_ms; });
  }
  HttpResponse Post(const std::string& path, const std::string& body,
                    const std::string& from = "192.0.2.1") {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.remote_address = from;
    return api->Handle(r);
  }
  std::int64_t now_ms = 1795000000000;
  std::unique_ptr<ServerStore> store;
  std::unique_ptr<Api> api;
};

}  // namespace

TEST_CASE("regression: a 1 MiB body of '[' to /v1/enroll crashed the server (stack overflow)",
          "[regression][native]") {
  // Unauthenticated and under the 8 MiB body limit: rapidjson's recursive parser ran out of
  // stack and took the whole process down. Now a 400 that says what is wrong.
  Server server;
  for (const char* path : {"/v1/enroll", "/v1/admin/login"}) {
    HttpResponse out = server.Post(path, std::string(1 << 20, '['));
    INFO(path << " -> " << out.status << " " << out.body);
    CHECK(out.status == 400);
    CHECK(out.body.find("JSON object") != std::string::npos);
  }
}

TEST_CASE("regression: a flood of distinct keys reset every rate-limit count",
          "[regression][native]") {
  // At 100,000 keys the limiter used to clear() its table, so whoever sent requests from that
  // many addresses (or named that many device ids) got a fresh budget for the key they were
  // after. Then it refused every key it had not seen, which locked honest newcomers out (security
  // review 2, finding 3). Now a full table drops the keys with the fewest events.
  RateLimiter limiter(1, 60000);
  CHECK(limiter.Allow("victim", 0));
  CHECK(!limiter.Allow("victim", 0));
  for (std::size_t i = 0; i < RateLimiter::kMaxKeys + 10; ++i) {
    (void)limiter.Allow("flood-" + std::to_string(i), 1);
  }
  CHECK(limiter.Size() <= RateLimiter::kMaxKeys);  // memory stays bounded
  CHECK(!limiter.Allow("victim", 2));              // still counted
  CHECK(limiter.Allow("newcomer", 3));             // an honest newcomer gets in
  CHECK(!limiter.Allow("newcomer", 4));            // and is counted
  CHECK(limiter.Allow("victim", 60002));           // once the window is over
}

TEST_CASE("security: a full lockout table still locks a real account and lets new addresses in",
          "[security][native]") {
  // Review 2, finding 6: with the per-account table full of made-up names, real accounts were
  // no longer tracked (never locked), and a full per-address table refused every new address.
  // Injected small tables (8 keys) stand for the 100,000 of a real server.
  REQUIRE(InitCrypto().ok());
  Result<std::unique_ptr<ServerStore>> opened = OpenSqliteStore(":memory:");
  REQUIRE(opened.ok());
  std::int64_t now_ms = 1795000000000;
  ApiOptions options;
  options.limiter_keys = 8;
  Api api(opened->get(), OrgKeys{SigningKey::Generate(), BoxKey::Generate()}, options,
          [&] { return now_ms; });
  std::string password = "correct horse battery";
  Result<std::string> hash = HashPassword(&password);
  REQUIRE(hash.ok());
  REQUIRE((*opened)->PutSetting("admin_password_hash", *hash).ok());
  const auto login = [&](const std::string& body, const std::string& from) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/v1/admin/login";
    r.body = body;
    r.remote_address = from;
    return api.Handle(r);
  };
  // 40 made-up user names from 40 addresses fill both tables five times over.
  for (int i = 0; i < 40; ++i) {
    const std::string name = "nobody" + std::to_string(i);
    REQUIRE(login(R"({"user":")" + name + R"(","password":"guess guess"})",
                  "198.51.100." + std::to_string(i))
                .status == 401);
  }
  // The admin account is still tracked: 10 failures lock it.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(login(R"({"password":"wrong guess 123"})", "203.0.113." + std::to_string(i)).status ==
            401);
  }
  HttpResponse locked = login(R"({"password":"correct horse battery"})", "203.0.113.200");
  CHECK(locked.status == 429);
  CHECK(locked.body.find("locked") != std::string::npos);
  // And a new address is let in (to be refused by the lock, not by a full table).
  now_ms += 15 * 60000;
  CHECK(login(R"({"password":"correct horse battery"})", "192.0.2.77").status == 200);
}

TEST_CASE("security: at most PasswordHashingSlots() Argon2id checks run at once",
          "[security][native]") {
  // Review 2, finding 6: nothing capped concurrent Argon2id checks (64 MiB each), so a flood of
  // logins could take all memory.
  REQUIRE(InitCrypto().ok());
  CHECK(DefaultPasswordHashingSlots() >= 1);
  const std::uint32_t before = PasswordHashingSlots();
  SetPasswordHashingSlots(2);
  std::string password = "correct horse battery";
  Result<std::string> hash = HashPassword(&password);
  REQUIRE(hash.ok());
  std::vector<std::thread> threads;
  std::atomic<int> matched{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (VerifyPassword(*hash, "correct horse battery")) ++matched;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(matched == 6);
  CHECK(PasswordHashingPeak() <= 2);  // six callers, at most two at a time
  CHECK(PasswordHashingPeak() >= 1);
  SetPasswordHashingSlots(before);
}

TEST_CASE("security: 10 failed logins from any addresses lock the account for 15 minutes",
          "[security][native]") {
  // The per-address limit (5 a minute) alone let an attacker with many addresses (IPv6, or a
  // botnet) guess at full speed; behind a proxy every client shares one address.
  Server server;
  std::string password = "correct horse battery";
  Result<std::string> hash = HashPassword(&password);
  REQUIRE(hash.ok());
  REQUIRE(server.store->PutSetting("admin_password_hash", *hash).ok());
  const std::string right = R"({"password":"correct horse battery"})";
  const std::string wrong = R"({"password":"wrong guess 123"})";
  for (int i = 0; i < 10; ++i) {
    const HttpResponse out =
        server.Post("/v1/admin/login", wrong, "198.51.100." + std::to_string(i));
    REQUIRE(out.status == 401);
  }
  // Locked: even the right password, from a fresh address, is refused without being checked.
  HttpResponse locked = server.Post("/v1/admin/login", right, "203.0.113.7");
  CHECK(locked.status == 429);
  CHECK(locked.body.find("locked for 15 more minute") != std::string::npos);
  // Another account is not affected (its name does not exist: 401, not 429).
  CHECK(
      server.Post("/v1/admin/login", R"({"user":"alice","password":"x"})", "203.0.113.8").status ==
      401);
  server.now_ms += 14 * 60000;
  CHECK(server.Post("/v1/admin/login", right, "203.0.113.9").status == 429);
  server.now_ms += 60000;  // the 15 minutes are over
  HttpResponse open = server.Post("/v1/admin/login", right, "203.0.113.10");
  CHECK(open.status == 200);
  // A success clears the count: 9 more failures do not lock it again.
  for (int i = 0; i < 9; ++i) {
    REQUIRE(server.Post("/v1/admin/login", wrong, "198.51.101." + std::to_string(i)).status == 401);
  }
  CHECK(server.Post("/v1/admin/login", right, "203.0.113.11").status == 200);
}

}  // namespace canvass::server

namespace canvass::server {

TEST_CASE("router: patterns match whole segments; {...} keeps the slashes of an id",
          "[router][native]") {
  std::vector<std::string> params;
  CHECK(MatchPath("/v1/admin/devices", "/v1/admin/devices", &params));
  CHECK_FALSE(MatchPath("/v1/admin/devices", "/v1/admin/devices/", &params));
  CHECK_FALSE(MatchPath("/v1/admin/cases/{}", "/v1/admin/cases/", &params));
  CHECK(MatchPath("/v1/admin/cases/{}/state", "/v1/admin/cases/dev-1.7/state", &params));
  CHECK(params == std::vector<std::string>{"dev-1.7"});
  params.clear();
  CHECK_FALSE(MatchPath("/v1/admin/cases/{}/state", "/v1/admin/cases/a/b/state", &params));
  CHECK(params.empty());
  // As the old prefix-and-suffix cut: everything between them, "/revoke" included.
  CHECK(MatchPath("/v1/admin/devices/{...}/revoke", "/v1/admin/devices/a/revoke/revoke", &params));
  CHECK(params == std::vector<std::string>{"a/revoke"});
  params.clear();
  CHECK_FALSE(MatchPath("/v1/admin/devices/{...}/revoke", "/v1/admin/devices//revoke", &params));
}

TEST_CASE("router: a route the caller's role lacks refuses with its own answer or looks on",
          "[router][native]") {
  Router router;
  const auto answer = [](int status) {
    return [status](const AdminCall&) {
      HttpResponse r;
      r.status = status;
      return r;
    };
  };
  router.Add({"GET", "/v1/admin/report", Needs::kManagers, answer(200)});
  router.Add({"*", "/v1/admin/users/{...}", Needs::kOwner, answer(201), answer(403)});
  router.Add({"POST", "/v1/admin/login", Needs::kPublic, answer(202)});
  HttpRequest r;
  r.method = "GET";
  r.path = "/v1/admin/report";
  std::string actor;
  const Principal staff{"olena", Role::kStaff, {"Kyiv"}, false};
  const Principal manager{"maria", Role::kManager, {"Kyiv"}, false};
  CHECK_FALSE(router.Dispatch(r, staff, false, &actor).has_value());
  CHECK(router.Dispatch(r, manager, false, &actor)->status == 200);
  r.method = "DELETE";
  r.path = "/v1/admin/users/ivan";
  CHECK(router.Dispatch(r, manager, false, &actor)->status == 403);
  CHECK(router.Dispatch(r, Principal{"admin", Role::kOwner, {}, true}, false, &actor)->status ==
        201);
  r.method = "POST";
  r.path = "/v1/admin/login";
  CHECK_FALSE(router.Dispatch(r, staff, false, &actor).has_value());  // not after authentication
  CHECK(router.Dispatch(r, Principal{}, true, &actor)->status == 202);
}

TEST_CASE("published surveys: the last row of an id is its latest version", "[native]") {
  std::vector<SurveyRow> rows(3);
  rows[0].survey_id = "a";
  rows[0].revision = 1;
  rows[1].survey_id = "b";
  rows[1].locations = {"Kyiv"};
  rows[2].survey_id = "a";
  rows[2].revision = 2;
  rows[2].locations = {"Lviv"};
  REQUIRE(LatestVersion(rows, "a") == &rows[2]);
  CHECK(LatestVersion(rows, "c") == nullptr);
  CHECK(LatestVersions(rows).size() == 2);
  // Published for Kyiv: "a" at revision 1 (every location), "b".
  const auto kyiv =
      LatestVersions(rows, [](const SurveyRow& row) { return PublishedFor(row, "Kyiv"); });
  REQUIRE(kyiv.size() == 2);
  CHECK(kyiv.at("a")->revision == 1);
  ResponseRecord record;
  CHECK(LocationOf(record).empty());
  record.tags["location"] = "Kyiv";
  CHECK(LocationOf(record) == "Kyiv");
}

TEST_CASE("the test clock moves only forward", "[native]") {
  TestClock clock;
  const std::int64_t start = clock.NowMs();
  CHECK(clock.Advance(-5000) >= start);
  CHECK(clock.Advance(3600000) >= start + 3600000);
}

}  // namespace canvass::server
