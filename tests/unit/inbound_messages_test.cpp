// The inbound-message contract of ServerStore (AppendInbound, the SMS channel's idempotency,
// docs/protocol.md): a gateway's message id is stored with its record in one transaction, so a
// second delivery of the id stores nothing and names the first record; a derived id (window_ms)
// is a duplicate only within its window; a refused record (a fork) remembers no id. The same
// contract on SQLite here and on PostgreSQL from tests/server/sms_pg.test.mjs
// ("[postgres-inbound]", hidden otherwise). Native only.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>

#include "store.h"
#include "store_test_support.h"

namespace canvass::server {
namespace {

constexpr std::int64_t kNow = 1795000000000;
constexpr std::int64_t kHour = 3600 * 1000;

VerifiedRecord Next(ChainHead* head, const std::string& body) {
  VerifiedRecord r;
  r.seq = head->seq + 1;
  r.prev_hash = head->hash;
  r.envelope = body + "#" + std::to_string(r.seq);
  r.hash = Blake2b256(r.envelope);
  return r;
}

void CheckInboundContract(ServerStore* store, const std::string& device_id) {
  DeviceRow d;
  d.device_id = device_id;
  d.location = "sms";
  d.channel = "sms";
  d.enrolled_ms = kNow;
  REQUIRE(store->AddDevice(d).ok());
  ChainHead head;

  // A gateway id: stored once, a duplicate forever after.
  VerifiedRecord first = Next(&head, "nine");
  Result<InboundAppend> a = store->AppendInbound({"sms", "SM1", 0}, device_id, first, kNow);
  REQUIRE(a.ok());
  CHECK_FALSE(a->duplicate);
  CHECK(a->append.verdict == AppendResult::Verdict::kStored);
  CHECK(a->seq == 1);
  head = {first.seq, first.hash};
  VerifiedRecord again = Next(&head, "nine again");
  Result<InboundAppend> b =
      store->AppendInbound({"sms", "SM1", 0}, device_id, again, kNow + 400 * 24 * kHour);
  REQUIRE(b.ok());
  CHECK(b->duplicate);
  CHECK(b->seq == 1);
  CHECK(b->first_ms == kNow);
  Result<std::uint64_t> count = store->CountRecords();
  REQUIRE(count.ok());
  CHECK(*count == 1);  // the duplicate's record was not stored
  // The same id on another channel is another message.
  Result<InboundAppend> other = store->AppendInbound({"other", "SM1", 0}, device_id, again, kNow);
  REQUIRE(other.ok());
  CHECK_FALSE(other->duplicate);
  head = {again.seq, again.hash};

  // A derived id: a duplicate within the window, a new message after it.
  VerifiedRecord r3 = Next(&head, "auto");
  REQUIRE(store->AppendInbound({"sms", "auto:x", kHour}, device_id, r3, kNow).ok());
  head = {r3.seq, r3.hash};
  VerifiedRecord r4 = Next(&head, "auto again");
  Result<InboundAppend> within =
      store->AppendInbound({"sms", "auto:x", kHour}, device_id, r4, kNow + kHour - 1);
  REQUIRE(within.ok());
  CHECK(within->duplicate);
  CHECK(within->seq == 3);
  Result<InboundAppend> later =
      store->AppendInbound({"sms", "auto:x", kHour}, device_id, r4, kNow + kHour);
  REQUIRE(later.ok());
  CHECK_FALSE(later->duplicate);
  CHECK(later->seq == 4);
  head = {r4.seq, r4.hash};
  // ... and the window starts again from the new one.
  VerifiedRecord r5 = Next(&head, "auto third");
  Result<InboundAppend> after =
      store->AppendInbound({"sms", "auto:x", kHour}, device_id, r5, kNow + kHour + 10);
  REQUIRE(after.ok());
  CHECK(after->duplicate);
  CHECK(after->seq == 4);

  // A record the chain refuses (a fork at seq 1): nothing stored, and the id stays free.
  ChainHead stale;
  VerifiedRecord fork = Next(&stale, "fork");
  Result<InboundAppend> refused = store->AppendInbound({"sms", "SM2", 0}, device_id, fork, kNow);
  REQUIRE(refused.ok());
  CHECK_FALSE(refused->duplicate);
  CHECK(refused->append.verdict == AppendResult::Verdict::kFork);
  Result<InboundAppend> retried = store->AppendInbound({"sms", "SM2", 0}, device_id, r5, kNow);
  REQUIRE(retried.ok());
  CHECK_FALSE(retried->duplicate);
  CHECK(retried->append.verdict == AppendResult::Verdict::kStored);
  count = store->CountRecords();
  REQUIRE(count.ok());
  CHECK(*count == 5);
}

}  // namespace

TEST_CASE("inbound messages: each gateway message id is stored once (SQLite)", "[native]") {
  Result<std::unique_ptr<ServerStore>> store = OpenSqliteStore(":memory:");
  REQUIRE(store.ok());
  CheckInboundContract(store->get(), "dev-sms-gateway");
}

// Hidden ("."): it needs a PostgreSQL server, which the default unit run does not have (it would
// fail there, not skip). Run by the CTest storage_contract_postgresql (tests/with_postgres.sh
// starts a throwaway cluster and names it in CANVASS_TEST_PG_URL) and by
// tests/server/sms_pg.test.mjs.
TEST_CASE("inbound messages: each gateway message id is stored once (PostgreSQL)",
          "[.][postgres-inbound]") {
  std::unique_ptr<ServerStore> pg = OpenTestPostgresStore();
  CheckInboundContract(pg.get(), "dev-sms-gateway");
}

}  // namespace canvass::server
