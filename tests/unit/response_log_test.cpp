#include "canvass/response_log.h"

#include <catch2/catch.hpp>

#include "canvass/messages.h"
#include "test_support.h"

using namespace canvass;

namespace {

ResponseRecord Draft(int score) {
  ResponseRecord r;
  r.survey_id = "restaurant";
  r.outcome = Outcome::kCompleted;
  r.answers["recommend"] = ScaleAnswer{score};
  r.device_time_ms = 1795000000000 + score;
  return r;
}

struct Fixture {
  Fixture() {
    REQUIRE(InitCrypto().ok());
    Result<ResponseLog> opened = ResponseLog::Open(&store, device, "dev-1");
    REQUIRE(opened.ok());
    log.emplace(std::move(*opened));
  }
  std::vector<std::string> Envelopes() {
    std::vector<std::string> out;
    for (const LogEntry& e : store.entries()) out.push_back(e.envelope);
    return out;
  }
  std::string Receipt(std::uint64_t seq, const Hash256& hash, const SigningKey& key) {
    SyncReceipt r{"dev-1", seq, hash, 0};
    return EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(r), key));
  }
  SigningKey device = SigningKey::FromSeed(test::CountingSeed(0x21));
  SigningKey org = SigningKey::FromSeed(test::CountingSeed(0x01));
  MemoryStore store;
  std::optional<ResponseLog> log;
};

}  // namespace

TEST_CASE("append assigns seq, links the chain and signs") {
  Fixture f;
  for (int i = 0; i < 10; ++i) REQUIRE(f.log->Append(Draft(i)).ok());
  CHECK(f.log->state().head.seq == 10);
  CHECK(f.log->PendingCount() == 10);
  ChainVerdict v = VerifyChain(f.Envelopes(), f.device.public_key());
  REQUIRE(v.status.ok());
  CHECK(v.head == f.log->state().head);
  Result<ResponseRecord> first =
      DecodeRecord(DecodeSignedRecord(f.store.entries()[0].envelope)->record_bytes);
  REQUIRE(first.ok());
  CHECK(first->seq == 1);
  CHECK(first->device_id == "dev-1");
  CHECK(first->prev_hash == Hash256{});
}

TEST_CASE("tampering with any byte of any stored record is detected at that record") {
  Fixture f;
  for (int i = 0; i < 5; ++i) REQUIRE(f.log->Append(Draft(i)).ok());
  std::vector<std::string> good = f.Envelopes();
  for (std::size_t rec = 0; rec < good.size(); ++rec) {
    for (std::size_t byte = 0; byte < good[rec].size(); ++byte) {
      std::vector<std::string> bad = good;
      bad[rec][byte] = static_cast<char>(bad[rec][byte] ^ 0x01);
      ChainVerdict v = VerifyChain(bad, f.device.public_key());
      INFO("record " << rec + 1 << " byte " << byte);
      REQUIRE_FALSE(v.status.ok());
      REQUIRE(v.first_bad_seq == rec + 1);
    }
  }
}

TEST_CASE("reordering records is detected with the seq of the first bad position") {
  Fixture f;
  for (int i = 0; i < 6; ++i) REQUIRE(f.log->Append(Draft(i)).ok());
  std::vector<std::string> envs = f.Envelopes();
  std::swap(envs[2], envs[3]);  // seq 3 and 4 swapped
  ChainVerdict v = VerifyChain(envs, f.device.public_key());
  REQUIRE_FALSE(v.status.ok());
  CHECK(v.first_bad_seq == 3);
  CHECK(v.head.seq == 2);
  CHECK(v.status.message().find("record 3") != std::string::npos);
}

TEST_CASE("deleting a record in the middle is detected where the gap is") {
  Fixture f;
  for (int i = 0; i < 6; ++i) REQUIRE(f.log->Append(Draft(i)).ok());
  std::vector<std::string> envs = f.Envelopes();
  envs.erase(envs.begin() + 4);  // seq 5 gone
  ChainVerdict v = VerifyChain(envs, f.device.public_key());
  REQUIRE_FALSE(v.status.ok());
  CHECK(v.first_bad_seq == 5);
  CHECK(v.status.message().find("missing") != std::string::npos);
}

TEST_CASE("a record signed by another key is refused") {
  Fixture f;
  REQUIRE(f.log->Append(Draft(1)).ok());
  SigningKey thief = SigningKey::FromSeed(test::CountingSeed(0x99));
  Result<LogEntry> forged = SignNext(f.log->state().head, Draft(10), thief);
  REQUIRE(forged.ok());
  std::vector<std::string> envs = f.Envelopes();
  envs.push_back(forged->envelope);
  ChainVerdict v = VerifyChain(envs, f.device.public_key());
  CHECK(v.first_bad_seq == 2);
  CHECK(v.status.code() == StatusCode::kUnauthenticated);
}

TEST_CASE("records are dropped only up to a verified receipt") {
  Fixture f;
  std::vector<LogEntry> appended;
  for (int i = 0; i < 5; ++i) appended.push_back(*f.log->Append(Draft(i)));

  SECTION("a valid receipt drops up to its seq, and resending it changes nothing") {
    std::string receipt = f.Receipt(3, appended[2].hash, f.org);
    REQUIRE(f.log->Acknowledge(receipt, f.org.public_key()).ok());
    CHECK(f.log->PendingCount() == 2);
    CHECK(f.store.entries().size() == 2);
    Result<std::vector<LogEntry>> left = f.log->Unsynced(100);
    REQUIRE(left.ok());
    REQUIRE(left->size() == 2);
    CHECK(left->front().seq == 4);
    REQUIRE(f.log->Acknowledge(receipt, f.org.public_key()).ok());
    CHECK(f.log->PendingCount() == 2);
  }
  SECTION("a receipt signed by someone else drops nothing") {
    SigningKey fake = SigningKey::FromSeed(test::CountingSeed(0x77));
    Status s = f.log->Acknowledge(f.Receipt(5, appended[4].hash, fake), f.org.public_key());
    CHECK(s.code() == StatusCode::kUnauthenticated);
    CHECK(f.log->PendingCount() == 5);
  }
  SECTION("a receipt whose head hash differs drops nothing") {
    Status s = f.log->Acknowledge(f.Receipt(5, appended[3].hash, f.org), f.org.public_key());
    CHECK(s.code() == StatusCode::kConflict);
    CHECK(f.store.entries().size() == 5);
  }
  SECTION("a receipt beyond the head drops nothing") {
    Status s = f.log->Acknowledge(f.Receipt(9, appended[4].hash, f.org), f.org.public_key());
    CHECK(s.code() == StatusCode::kConflict);
    CHECK(f.log->PendingCount() == 5);
  }
  SECTION("garbage is refused") {
    CHECK(f.log->Acknowledge("garbage", f.org.public_key()).code() == StatusCode::kCorruption);
  }
}

TEST_CASE("a failed store write loses nothing and the chain continues") {
  Fixture f;
  REQUIRE(f.log->Append(Draft(1)).ok());
  f.store.FailNextAppend();
  Result<LogEntry> failed = f.log->Append(Draft(2));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kUnavailable);
  CHECK(f.log->state().head.seq == 1);
  REQUIRE(f.log->Append(Draft(2)).ok());
  CHECK(VerifyChain(f.Envelopes(), f.device.public_key()).status.ok());
}

TEST_CASE("a log reopened from its store continues the same chain") {
  Fixture f;
  for (int i = 0; i < 3; ++i) REQUIRE(f.log->Append(Draft(i)).ok());
  Result<ResponseLog> reopened = ResponseLog::Open(&f.store, f.device, "dev-1");
  REQUIRE(reopened.ok());
  REQUIRE(reopened->Append(Draft(9)).ok());
  ChainVerdict v = VerifyChain(f.Envelopes(), f.device.public_key());
  CHECK(v.status.ok());
  CHECK(v.head.seq == 4);
}
