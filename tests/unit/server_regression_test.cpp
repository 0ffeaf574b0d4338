// Regression tests for failures found in canvass-server's request handling (tests/fuzz/fuzz_api
// and the security review, docs/security.md): Api::Handle on an in-memory SQLite store, no socket.
// Native only (the server does not exist in wasm).
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "api.h"
#include "store.h"

namespace canvass::server {
namespace {

struct Server {
  Server() {
    REQUIRE(InitCrypto().ok());
    Result<std::unique_ptr<ServerStore>> opened = OpenSqliteStore(":memory:");
    REQUIRE(opened.ok());
    store = std::move(*opened);
    api = std::make_unique<Api>(store.get(), OrgKeys{SigningKey::Generate(), BoxKey::Generate()},
                                ApiOptions{}, [] { return std::int64_t{1795000000000}; });
  }
  HttpResponse Post(const std::string& path, const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.remote_address = "192.0.2.1";
    return api->Handle(r);
  }
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

}  // namespace canvass::server
