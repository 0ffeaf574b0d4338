// The SQLite backend of ServerStore when its database is full (OpenSqliteStore's max_db_mb,
// canvass-server --max-db-mb): a batch that does not fit is refused with Unavailable and a message
// that says what to do, none of it is stored or queued, and a reopen with a larger limit takes
// the same batch. The same path is taken when the disk itself is full (SQLITE_FULL either way).
// Native only: the database is a file in a temporary directory.
#include <stdlib.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store.h"

namespace canvass::server {
namespace {

constexpr std::int64_t kNow = 1795000000000;

struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "canvass-sqlite-XXXXXX");
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// Records of 1500 bytes: each needs an overflow page of its own, so a full database cannot take
// even one more.
std::vector<VerifiedRecord> NextRecords(ChainHead* head, int n) {
  std::vector<VerifiedRecord> out;
  for (int i = 0; i < n; ++i) {
    VerifiedRecord r;
    r.seq = head->seq + 1;
    r.prev_hash = head->hash;
    r.envelope = std::string(1500, 'x') + std::to_string(r.seq);
    r.hash = Blake2b256(r.envelope);
    *head = {r.seq, r.hash};
    out.push_back(r);
  }
  return out;
}

std::unique_ptr<ServerStore> Open(const std::string& path, std::uint32_t max_db_mb) {
  Result<std::unique_ptr<ServerStore>> store = OpenSqliteStore(path, max_db_mb);
  REQUIRE(store.ok());
  return std::move(*store);
}

// Enrolls a kiosk device `id` at location "here" (records can then be appended for it).
DeviceRow AddKiosk(ServerStore* store, const std::string& id) {
  DeviceRow d;
  d.device_id = id;
  d.location = "here";
  d.channel = "kiosk";
  d.enrolled_ms = kNow;
  REQUIRE(store->AddDevice(d).ok());
  return d;
}

}  // namespace

TEST_CASE("sqlite store: a full database refuses a batch with Unavailable and stores none of it",
          "[native][regression]") {
  // Regression: SQLite rolls the whole transaction back by itself on SQLITE_FULL, so the store's
  // own ROLLBACK failed ("cannot rollback - no transaction is active") and that error replaced
  // the real one: a push to a full database was answered 500 "internal" instead of 503.
  TempDir dir;
  const std::string path = dir.path + "/canvass.db";
  std::unique_ptr<ServerStore> store = Open(path, 1);
  REQUIRE(store->RegisterProjection("count").ok());
  const DeviceRow d = AddKiosk(store.get(), "dev-full");

  ChainHead head;
  std::uint64_t stored = 0;
  std::vector<VerifiedRecord> refused;
  for (int batch = 0; batch < 200 && refused.empty(); ++batch) {
    std::vector<VerifiedRecord> records = NextRecords(&head, 10);
    Result<AppendResult> r = store->AppendRecords(d.device_id, records, kNow);
    if (r.ok()) {
      REQUIRE(r->stored == 10);
      stored += 10;
    } else {
      INFO(r.status().message());
      CHECK(r.status().code() == StatusCode::kUnavailable);
      CHECK(r.status().message().find("database is full") != std::string::npos);
      CHECK(r.status().message().find("--max-db-mb") != std::string::npos);
      refused = std::move(records);
    }
  }
  REQUIRE(!refused.empty());  // 1 MiB holds far fewer than 2000 such records
  REQUIRE(stored >= 100);     // and the limit is not much smaller than 1 MiB
  CHECK(*store->CountRecords() == stored);
  CHECK(*store->CountPending("count") == stored);
  CHECK((*store->FindDevice(d.device_id))->head.seq == stored);
  // Still full: the same batch again is refused the same way, and reads still work.
  Result<AppendResult> again = store->AppendRecords(d.device_id, refused, kNow);
  REQUIRE(!again.ok());
  CHECK(again.status().code() == StatusCode::kUnavailable);
  CHECK(store->Ping().ok());

  store.reset();
  store = Open(path, 8);
  Result<AppendResult> later = store->AppendRecords(d.device_id, refused, kNow);
  REQUIRE(later.ok());
  CHECK(later->stored == 10);
  CHECK(*store->CountRecords() == stored + 10);
  CHECK(*store->CountPending("count") == stored + 10);
}

TEST_CASE("sqlite store: a limit below the current size acts as a full database", "[native]") {
  TempDir dir;
  const std::string path = dir.path + "/canvass.db";
  std::unique_ptr<ServerStore> store = Open(path, 0);
  const DeviceRow d = AddKiosk(store.get(), "dev-big");
  ChainHead head;
  REQUIRE(store->AppendRecords(d.device_id, NextRecords(&head, 1000), kNow).ok());
  store.reset();
  store = Open(path, 1);  // about 6 MiB already
  CHECK(*store->CountRecords() == 1000);
  Result<AppendResult> r = store->AppendRecords(d.device_id, NextRecords(&head, 1), kNow);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kUnavailable);
}

}  // namespace canvass::server
