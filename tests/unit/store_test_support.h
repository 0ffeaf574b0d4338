// The PostgreSQL store the hidden storage cases run on: the database CANVASS_TEST_PG_URL names
// (tests/with_postgres.sh, or a node test that starts PostgreSQL). Native only.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>

#include "store.h"

namespace canvass::server {

// Fails the test case if the variable is unset or the store does not open.
inline std::unique_ptr<ServerStore> OpenTestPostgresStore() {
  const char* url = std::getenv("CANVASS_TEST_PG_URL");
  REQUIRE(url != nullptr);
  REQUIRE(InitCrypto().ok());
  Result<std::unique_ptr<ServerStore>> store = OpenPostgresStore(url);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(*store);
}

}  // namespace canvass::server
