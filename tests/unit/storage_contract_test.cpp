// The storage contract (store.h): the rules every ServerStore backend keeps, run on SQLite here and
// on PostgreSQL by the CTest `storage_contract_postgresql` (tests/with_postgres.sh starts a
// throwaway cluster, exports CANVASS_TEST_PG_URL and runs the hidden "[storage-pg]" case, with the
// projection, case-store and inbound-message contracts of their own test files). Rules covered
// here: settings and sessions; enrollment (unknown, used, expired code); the device registry; the
// record log (append, duplicate, fork, gap, stored time, paging); quarantine; surveys; users; and
// text that no backend can store. Native only.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "store.h"
#include "store_test_support.h"

namespace canvass::server {
namespace {

constexpr std::int64_t kNow = 1795000000000;
constexpr std::int64_t kHour = 3600 * 1000;
const std::string kBadText("bad\xff\xfe", 5);  // not UTF-8

std::vector<VerifiedRecord> Chain(ChainHead* head, const std::string& id, int n) {
  std::vector<VerifiedRecord> out;
  for (int i = 0; i < n; ++i) {
    VerifiedRecord r;
    r.seq = head->seq + 1;
    r.prev_hash = head->hash;
    r.envelope = id + "#" + std::to_string(r.seq);
    r.hash = Blake2b256(r.envelope);
    *head = {r.seq, r.hash};
    out.push_back(r);
  }
  return out;
}

DeviceRow Device(const std::string& id) {
  DeviceRow d;
  d.device_id = id;
  d.location = "Lviv";
  d.channel = "kiosk";
  d.public_key[0] = 7;
  d.certificate = std::string("cert\0bytes", 10);
  d.enrolled_ms = kNow;
  return d;
}

void CheckSettingsAndSessions(ServerStore* store, const std::string& tag) {
  CHECK(!store->GetSetting("absent-" + tag).value());
  const std::string binary("v\0\xff", 3);
  REQUIRE(store->PutSetting("k-" + tag, binary).ok());
  CHECK(store->GetSetting("k-" + tag).value() == std::optional<std::string>(binary));
  REQUIRE(store->PutSetting("k-" + tag, "second").ok());
  CHECK(store->GetSetting("k-" + tag).value() == std::optional<std::string>("second"));

  const Hash256 a = Blake2b256("a-" + tag), b = Blake2b256("b-" + tag);
  const Hash256 c = Blake2b256("c-" + tag);
  REQUIRE(store->AddSession(a, kNow + kHour, "ann-" + tag).ok());
  REQUIRE(store->AddSession(b, kNow + kHour, "ann-" + tag).ok());
  REQUIRE(store->AddSession(c, kNow + 1, "bob-" + tag).ok());
  CHECK(store->FindSession(a, kNow).value() == std::optional<std::string>("ann-" + tag));
  CHECK(!store->FindSession(c, kNow + 1).value());  // expired
  CHECK(!store->FindSession(Blake2b256("unknown"), kNow).value());
  REQUIRE(store->EndSessionsBut("ann-" + tag, b).ok());
  CHECK(!store->FindSession(a, kNow).value());
  CHECK(store->FindSession(b, kNow).value());
  REQUIRE(store->EndSession(b).ok());
  CHECK(!store->FindSession(b, kNow).value());
}

void CheckEnrollment(ServerStore* store, const std::string& tag) {
  const Hash256 code = Blake2b256("code-" + tag), old = Blake2b256("old-" + tag);
  REQUIRE(store->AddEnrollCode({code, "Kyiv", "web", kNow + kHour}).ok());
  REQUIRE(store->AddEnrollCode({old, "Kyiv", "web", kNow}).ok());
  auto make = [&](const EnrollCodeRow& c) {
    DeviceRow d = Device("enrolled-" + tag);
    d.location = c.location;
    d.channel = c.channel;
    d.web = true;
    return d;
  };
  Result<DeviceRow> unknown = store->Enroll(Blake2b256("nope"), kNow, make);
  CHECK(unknown.status().code() == StatusCode::kUnauthenticated);
  CHECK(unknown.status().message().find("unknown") != std::string::npos);
  Result<DeviceRow> expired = store->Enroll(old, kNow, make);
  CHECK(expired.status().code() == StatusCode::kUnauthenticated);
  CHECK(expired.status().message().find("expired") != std::string::npos);
  Result<DeviceRow> enrolled = store->Enroll(code, kNow, make);
  REQUIRE(enrolled.ok());
  Result<DeviceRow> again = store->Enroll(code, kNow, make);
  CHECK(again.status().code() == StatusCode::kUnauthenticated);
  CHECK(again.status().message().find("already used") != std::string::npos);

  std::optional<DeviceRow> found = store->FindDevice("enrolled-" + tag).value();
  REQUIRE(found);
  CHECK(found->location == "Kyiv");
  CHECK(found->channel == "web");
  CHECK(found->web);
  CHECK(found->certificate == std::string("cert\0bytes", 10));
  CHECK(found->public_key[0] == 7);
  CHECK(found->head.seq == 0);
  CHECK(!found->revoked_ms);
  CHECK(!store->FindDevice("none-" + tag).value());

  REQUIRE(store->AddDevice(Device("listed-" + tag + "-1")).ok());
  REQUIRE(store->AddDevice(Device("listed-" + tag + "-2")).ok());
  CHECK(!store->AddDevice(Device("listed-" + tag + "-2")).ok());  // one row per id
  std::vector<DeviceRow> page = store->ListDevices("listed-" + tag, 1).value();
  REQUIRE(page.size() == 1);
  CHECK(page[0].device_id == "listed-" + tag + "-1");
  page = store->ListDevices(page[0].device_id, 10).value();
  REQUIRE(!page.empty());
  CHECK(page[0].device_id == "listed-" + tag + "-2");
  REQUIRE(store->RevokeDevice("listed-" + tag + "-2", kNow + 5).ok());
  REQUIRE(store->RevokeDevice("listed-" + tag + "-2", kNow + 9).ok());  // keeps the first time
  CHECK(store->FindDevice("listed-" + tag + "-2").value()->revoked_ms == kNow + 5);
  CHECK(store->RevokeDevice("none-" + tag, kNow).code() == StatusCode::kNotFound);
  bool revoked_listed = false;
  const std::vector<DeviceRow> revoked =
      store->ListDevices("", 1000, /*revoked_only=*/true).value();
  for (const DeviceRow& d : revoked) {
    CHECK(d.revoked_ms);
    revoked_listed |= d.device_id == "listed-" + tag + "-2";
  }
  CHECK(revoked_listed);
}

void CheckRecordLog(ServerStore* store, const std::string& tag) {
  const std::string id = "log-" + tag;
  REQUIRE(store->AddDevice(Device(id)).ok());
  const std::uint64_t before = store->CountRecords().value();
  ChainHead head;
  std::vector<VerifiedRecord> first = Chain(&head, id, 3);
  Result<AppendResult> a = store->AppendRecords(id, first, kNow);
  REQUIRE(a.ok());
  CHECK(a->verdict == AppendResult::Verdict::kStored);
  CHECK(a->stored == 3);
  CHECK(a->head.seq == 3);
  CHECK(a->head.hash == head.hash);

  // The same records again plus one new: duplicates, one stored.
  std::vector<VerifiedRecord> more = first;
  std::vector<VerifiedRecord> next = Chain(&head, id, 1);
  more.push_back(next[0]);
  Result<AppendResult> b = store->AppendRecords(id, more, kNow + 1);
  REQUIRE(b.ok());
  CHECK(b->verdict == AppendResult::Verdict::kStored);
  CHECK(b->duplicates == 3);
  CHECK(b->stored == 1);
  CHECK(store->FindDevice(id).value()->head.seq == 4);

  // A different record at a stored seq: a fork, nothing stored.
  std::vector<VerifiedRecord> forked = first;
  forked[1].envelope = "other";
  forked[1].hash = Blake2b256("other");
  Result<AppendResult> fork = store->AppendRecords(id, forked, kNow);
  REQUIRE(fork.ok());
  CHECK(fork->verdict == AppendResult::Verdict::kFork);
  CHECK(fork->message.find("fork at seq 2") != std::string::npos);
  // A next record whose prev_hash is not the head's: a fork too.
  ChainHead wrong{4, Blake2b256("wrong")};
  Result<AppendResult> fork2 = store->AppendRecords(id, Chain(&wrong, id, 1), kNow);
  REQUIRE(fork2.ok());
  CHECK(fork2->verdict == AppendResult::Verdict::kFork);
  // A later seq: a gap, and a valid record before it in the batch is not stored either.
  ChainHead ahead{6, Blake2b256("x")};
  std::vector<VerifiedRecord> gapped = Chain(&head, id, 1);
  std::vector<VerifiedRecord> far = Chain(&ahead, id, 1);
  gapped.push_back(far[0]);
  Result<AppendResult> gap = store->AppendRecords(id, gapped, kNow);
  REQUIRE(gap.ok());
  CHECK(gap->verdict == AppendResult::Verdict::kGap);
  CHECK(gap->message.find("expects seq 6") != std::string::npos);
  CHECK(store->CountRecords().value() == before + 4);
  CHECK(store->FindDevice(id).value()->head.seq == 4);
  CHECK(store->AppendRecords("none-" + tag, first, kNow).status().code() == StatusCode::kNotFound);

  CHECK(store->StoredTime(id, 1).value() == kNow);
  CHECK(store->StoredTime(id, 4).value() == kNow + 1);
  CHECK(store->StoredTime(id, 5).status().code() == StatusCode::kNotFound);

  // Every record once, in (device, seq) order, with its device's location and channel.
  std::vector<std::uint64_t> seqs;
  Status s = store->ForEachRecord([&](const StoredRecord& r) {
    if (r.device_id == id) {
      CHECK(r.envelope == id + "#" + std::to_string(r.seq));
      CHECK(r.location == "Lviv");
      CHECK(r.channel == "kiosk");
      seqs.push_back(r.seq);
    }
    return Status::Ok();
  });
  REQUIRE(s.ok());
  CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3, 4});
  // A visitor's error stops the walk and is returned.
  CHECK(store->ForEachRecord([](const StoredRecord&) { return Status::Conflict("stop"); }).code() ==
        StatusCode::kConflict);
}

void CheckQuarantine(ServerStore* store, const std::string& tag) {
  const std::string id = "q-" + tag;
  const auto [mine0, all0] = store->QuarantineBytes(id).value();
  CHECK(mine0 == 0);
  REQUIRE(store->Quarantine({id, 3, "fork at seq 3", std::string("env\0", 4), kNow}).ok());
  REQUIRE(store->Quarantine({"other-" + tag, 1, "bad signature", "123456", kNow + 1}).ok());
  const auto [mine, all] = store->QuarantineBytes(id).value();
  CHECK(mine == 4);
  CHECK(all == all0 + 10);
  std::vector<QuarantineRow> rows = store->ListQuarantine(2).value();
  REQUIRE(rows.size() == 2);  // newest first
  CHECK(rows[0].device_id == "other-" + tag);
  CHECK(rows[1].device_id == id);
  CHECK(rows[1].seq == 3);
  CHECK(rows[1].reason == "fork at seq 3");
  CHECK(rows[1].envelope == std::string("env\0", 4));
  CHECK(rows[1].received_ms == kNow);
}

void CheckSurveys(ServerStore* store, const std::string& tag) {
  SurveyRow s;
  s.survey_id = "s-" + tag;
  s.definition = "{\"id\": \"s\"}";
  s.version = Blake2b256(s.definition);
  s.revision = 2;
  s.bundle = std::string("bundle\0", 7);
  s.locations = {"Kyiv", "Lviv"};
  s.published_ms = kNow;
  REQUIRE(store->PublishSurvey(s).ok());
  SurveyRow changed = s;
  changed.bundle = "other";
  REQUIRE(store->PublishSurvey(changed).ok());  // the same version again changes nothing
  SurveyRow v2 = s;
  v2.definition = "{\"id\": \"s\", \"v\": 2}";
  v2.version = Blake2b256(v2.definition);
  v2.locations = {};
  v2.published_ms = kNow + 1;
  REQUIRE(store->PublishSurvey(v2).ok());
  std::vector<SurveyRow> mine;
  const std::vector<SurveyRow> all = store->ListSurveys().value();
  for (const SurveyRow& r : all) {
    if (r.survey_id == s.survey_id) mine.push_back(r);
  }
  REQUIRE(mine.size() == 2);  // oldest first
  CHECK(mine[0].version == s.version);
  CHECK(mine[0].bundle == s.bundle);
  CHECK(mine[0].definition == s.definition);
  CHECK(mine[0].revision == 2);
  CHECK(mine[0].locations == s.locations);
  CHECK(mine[1].version == v2.version);
  CHECK(mine[1].locations.empty());
}

void CheckUsers(ServerStore* store, const std::string& tag) {
  UserRow u{"zed-" + tag, "staff", {"Kyiv"}, "$argon2id$hash", kNow};
  REQUIRE(store->AddUser(u).ok());
  CHECK(store->AddUser(u).code() == StatusCode::kConflict);
  const Hash256 t = Blake2b256("zed-session-" + tag);
  REQUIRE(store->AddSession(t, kNow + kHour, u.name).ok());
  u.role = "manager";
  u.locations = {"Kyiv", "Lviv"};
  REQUIRE(store->UpdateUser(u, /*end_sessions=*/false).ok());
  CHECK(store->FindSession(t, kNow).value());
  std::optional<UserRow> found = store->FindUser(u.name).value();
  REQUIRE(found);
  CHECK(found->role == "manager");
  CHECK(found->locations == u.locations);
  CHECK(found->created_ms == kNow);
  REQUIRE(store->UpdateUser(u, /*end_sessions=*/true).ok());
  CHECK(!store->FindSession(t, kNow).value());
  REQUIRE(store->AddUser({"amy-" + tag, "owner", {}, "h", kNow}).ok());
  std::vector<UserRow> all = store->ListUsers().value();
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  REQUIRE(store->DeleteUser(u.name).ok());
  CHECK(store->DeleteUser(u.name).code() == StatusCode::kNotFound);
  CHECK(store->UpdateUser(u, false).code() == StatusCode::kNotFound);
}

// Text that is not UTF-8 (or holds NUL) matches nothing when looked up, and is refused, with
// nothing stored, when written.
void CheckUnstorableText(ServerStore* store) {
  CHECK(!store->FindDevice(kBadText).value());
  CHECK(store->RevokeDevice(kBadText, kNow).code() == StatusCode::kNotFound);
  CHECK(store->ListDevices(kBadText, 10).ok());
  CHECK(!store->FindUser(kBadText).value());
  CHECK(store->DeleteUser(kBadText).code() == StatusCode::kNotFound);
  CHECK(!store->FindCase(kBadText).value());
  CHECK(store->ChangeCase(kBadText, [](CaseRow&) { return Result<CaseChange>(CaseChange{}); })
            .status()
            .code() == StatusCode::kNotFound);
  CHECK(store->DeleteWebhook(kBadText).code() == StatusCode::kNotFound);
  CHECK(store->AppendRecords(kBadText, {}, kNow).status().code() == StatusCode::kNotFound);
  CaseFilter f;
  f.assignee = kBadText;
  CHECK(store->ListCases(f).value().empty());

  CHECK(store->AddDevice(Device(kBadText)).code() == StatusCode::kInvalidArgument);
  CHECK(store->AddDevice(Device(std::string("nul\0id", 6))).code() == StatusCode::kInvalidArgument);
  CHECK(store->Quarantine({"dev", 1, kBadText, "env", kNow}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(store->AddUser({kBadText, "staff", {}, "h", kNow}).code() == StatusCode::kInvalidArgument);
  CHECK(store->PutSetting(kBadText, "v").code() == StatusCode::kInvalidArgument);
  VerifiedRecord r;
  r.seq = 1;
  CHECK(store->AppendInbound({"sms", kBadText, 0}, "dev", r, kNow).status().code() ==
        StatusCode::kInvalidArgument);
}

void CheckStorageContract(ServerStore* store, const std::string& tag) {
  REQUIRE(store->Ping().ok());
  SECTION("settings and sessions") { CheckSettingsAndSessions(store, tag); }
  SECTION("enrollment and the device registry") { CheckEnrollment(store, tag); }
  SECTION("the record log: append, duplicate, fork, gap") { CheckRecordLog(store, tag); }
  SECTION("quarantine") { CheckQuarantine(store, tag); }
  SECTION("surveys") { CheckSurveys(store, tag); }
  SECTION("users") { CheckUsers(store, tag); }
  SECTION("unstorable text: absent when looked up, refused when written") {
    CheckUnstorableText(store);
  }
}

}  // namespace

TEST_CASE("the storage contract (SQLite)", "[native]") {
  REQUIRE(InitCrypto().ok());
  Result<std::unique_ptr<ServerStore>> store = OpenSqliteStore(":memory:");
  REQUIRE(store.ok());
  CHECK((*store)->Kind() == "sqlite");
  CheckStorageContract(store->get(), "sqlite");
}

// Hidden ("."): it needs a PostgreSQL server, which the default unit run does not have (it would
// fail there, not skip). Run by the CTest storage_contract_postgresql (tests/with_postgres.sh
// starts a throwaway cluster and names it in CANVASS_TEST_PG_URL).
TEST_CASE("the storage contract (PostgreSQL)", "[.][storage-pg]") {
  std::unique_ptr<ServerStore> pg = OpenTestPostgresStore();
  CHECK(pg->Kind() == "postgresql");
  // Each section re-enters the test case: a fresh tag per run keeps their rows apart.
  static int run = 0;
  CheckStorageContract(pg.get(), "pg" + std::to_string(++run));
}

}  // namespace canvass::server
