// Regression tests for failures found in canvass-server's request handling (tests/fuzz/fuzz_api
// and the security review, docs/security.md): Api::Handle on an in-memory SQLite store, no socket.
// Native only (the server does not exist in wasm).
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "api.h"
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
  // after. Now it keeps the counts and refuses keys it has not seen until windows expire.
  RateLimiter limiter(1, 60000);
  CHECK(limiter.Allow("victim", 0));
  CHECK(!limiter.Allow("victim", 0));
  for (std::size_t i = 0; i < RateLimiter::kMaxKeys + 10; ++i) {
    (void)limiter.Allow("flood-" + std::to_string(i), 1);
  }
  CHECK(!limiter.Allow("victim", 2));       // still counted
  CHECK(!limiter.Allow("newcomer", 3));     // memory stays bounded
  CHECK(limiter.Allow("newcomer", 60001));  // once the windows are over, old keys are swept
  CHECK(limiter.Allow("victim", 60002));
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
    const HttpResponse out = server.Post("/v1/admin/login", wrong, "198.51.100." + std::to_string(i));
    REQUIRE(out.status == 401);
  }
  // Locked: even the right password, from a fresh address, is refused without being checked.
  HttpResponse locked = server.Post("/v1/admin/login", right, "203.0.113.7");
  CHECK(locked.status == 429);
  CHECK(locked.body.find("locked for 15 more minute") != std::string::npos);
  // Another account is not affected (its name does not exist: 401, not 429).
  CHECK(server.Post("/v1/admin/login", R"({"user":"alice","password":"x"})", "203.0.113.8")
            .status == 401);
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
