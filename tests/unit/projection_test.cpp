// The projection queue of ServerStore (store.h, "Projections") and the Projector: every stored
// record reaches every registered projection exactly once, a failed projection changes nothing,
// and a projection registered late first sees the records stored before it. Run on SQLite here;
// the same contract runs on PostgreSQL from tests/server/projection_pg.test.mjs, which starts a
// PostgreSQL and runs this binary with "[postgres]" and CANVASS_TEST_PG_URL (hidden otherwise:
// without a database it cannot run). Native only.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "projector.h"
#include "store.h"
#include "store_test_support.h"

namespace canvass::server {
namespace {

constexpr std::int64_t kNow = 1795000000000;

// A device's chain of fake records: the store checks seq and prev_hash, not signatures.
struct FakeDevice {
  std::string id;
  ChainHead head;
  std::vector<VerifiedRecord> Next(int n) {
    std::vector<VerifiedRecord> out;
    for (int i = 0; i < n; ++i) {
      VerifiedRecord r;
      r.seq = head.seq + 1;
      r.prev_hash = head.hash;
      r.envelope = id + "#" + std::to_string(r.seq);
      r.hash = Blake2b256(r.envelope);
      head = {r.seq, r.hash};
      out.push_back(r);
    }
    return out;
  }
};

FakeDevice AddFakeDevice(ServerStore* store, const std::string& id) {
  DeviceRow d;
  d.device_id = id;
  d.location = "here";
  d.channel = "kiosk";
  d.enrolled_ms = kNow;
  REQUIRE(store->AddDevice(d).ok());
  return FakeDevice{id, {}};
}

// Counts records per envelope in its key-value state: "seen/<envelope>" -> count.
class CountingProjection : public Projection {
 public:
  explicit CountingProjection(std::string name) : name_(std::move(name)) {}
  std::string Name() const override { return name_; }
  Status Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) override {
    for (const StoredRecord& r : records) {
      Result<std::optional<std::string>> old = txn.GetValue("seen/" + r.envelope);
      if (!old.ok()) return old.status();
      const int n = *old ? std::stoi(**old) : 0;
      Status s = txn.PutValue("seen/" + r.envelope, std::to_string(n + 1));
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  std::string name_;
};

std::map<std::string, std::string> State(ServerStore* store, const std::string& name,
                                         const std::string& prefix = "") {
  std::map<std::string, std::string> out;
  Status s = store->ForEachValue(name, prefix, [&](const std::string& k, const std::string& v) {
    out[k] = v;
    return Status::Ok();
  });
  REQUIRE(s.ok());
  return out;
}

void CheckProjectionContract(ServerStore* store, const std::string& tag) {
  const std::string early = "count-early-" + tag, late = "count-late-" + tag;
  REQUIRE(store->RegisterProjection(early).ok());
  REQUIRE(store->RegisterProjection(early).ok());  // again: nothing queued twice
  FakeDevice a = AddFakeDevice(store, "dev-a-" + tag);
  FakeDevice b = AddFakeDevice(store, "dev-b-" + tag);

  std::vector<VerifiedRecord> first = a.Next(3);
  Result<AppendResult> stored = store->AppendRecords(a.id, first, kNow);
  REQUIRE(stored.ok());
  REQUIRE(stored->stored == 3);
  CHECK(*store->CountPending(early) == 3);

  // A resent batch stores nothing and queues nothing.
  stored = store->AppendRecords(a.id, first, kNow);
  REQUIRE(stored.ok());
  CHECK(stored->duplicates == 3);
  CHECK(*store->CountPending(early) == 3);
  // A refused batch (a gap) queues nothing either.
  FakeDevice skip = a;
  (void)skip.Next(1);
  stored = store->AppendRecords(a.id, skip.Next(1), kNow);
  REQUIRE(stored.ok());
  CHECK(stored->verdict == AppendResult::Verdict::kGap);
  CHECK(*store->CountPending(early) == 3);

  SECTION("a failing projection changes nothing and keeps its records queued") {
    Result<std::uint32_t> n =
        store->ProjectPending(early, 10, [](const std::vector<StoredRecord>&, DerivedTxn& txn) {
          Status s = txn.PutValue("seen/oops", "1");
          return s.ok() ? Status::IoError("disk on fire") : s;
        });
    CHECK(!n.ok());
    CHECK(*store->CountPending(early) == 3);
    CHECK(State(store, early).empty());
  }

  // The late projection sees the three records stored before it was registered.
  REQUIRE(store->RegisterProjection(late).ok());
  CHECK(*store->CountPending(late) == 3);
  REQUIRE(store->AppendRecords(b.id, b.Next(700), kNow).ok());  // more than one batch
  REQUIRE(store->AppendRecords(a.id, a.Next(2), kNow).ok());

  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<CountingProjection>(early));
  projections.push_back(std::make_unique<CountingProjection>(late));
  Projector projector(store, std::move(projections));
  REQUIRE(projector.CatchUp().ok());
  for (const std::string& name : {early, late}) {
    INFO(name);
    CHECK(*store->CountPending(name) == 0);
    std::map<std::string, std::string> seen = State(store, name, "seen/");
    CHECK(seen.size() == 705);
    for (const auto& [key, count] : seen) {
      INFO(key);
      CHECK(count == "1");  // exactly once
    }
    CHECK(seen.count("seen/" + a.id + "#5") == 1);
    CHECK(seen.count("seen/" + b.id + "#700") == 1);
    // Prefix scans stop at the prefix's end.
    CHECK(State(store, name, "seen/" + a.id).size() == 5);
    CHECK(State(store, name, "seen/" + b.id + "#69").size() == 11);  // #69, #690..#699
    CHECK(State(store, name, "nothing").empty());
  }
  REQUIRE(projector.CatchUp().ok());  // nothing left: nothing applied twice
  CHECK(State(store, early, "seen/").at("seen/" + a.id + "#1") == "1");
}

}  // namespace

TEST_CASE("projections see every stored record exactly once (SQLite)", "[native]") {
  REQUIRE(InitCrypto().ok());
  Result<std::unique_ptr<ServerStore>> store = OpenSqliteStore(":memory:");
  REQUIRE(store.ok());
  CheckProjectionContract(store->get(), "sqlite");
}

// Hidden ("."): it needs a PostgreSQL server, which the default unit run does not have (it would
// fail there, not skip). Run by the CTest storage_contract_postgresql (tests/with_postgres.sh
// starts a throwaway cluster and names it in CANVASS_TEST_PG_URL) and by
// tests/server/projection_pg.test.mjs.
TEST_CASE("projections see every stored record exactly once (PostgreSQL)", "[.][postgres]") {
  std::unique_ptr<ServerStore> pg = OpenTestPostgresStore();
  // Each section re-enters the test case: a fresh tag per run keeps their rows apart.
  static int run = 0;
  CheckProjectionContract(pg.get(), "pg" + std::to_string(++run));
}

TEST_CASE("PrefixEnd bounds a prefix range", "[native]") {
  CHECK(PrefixEnd("abc") == std::optional<std::string>("abd"));
  CHECK(PrefixEnd(std::string("a\xff\xff", 3)) == std::optional<std::string>("b"));
  CHECK(PrefixEnd(std::string("\xff", 1)) == std::nullopt);
  CHECK(PrefixEnd("") == std::nullopt);
}

}  // namespace canvass::server
