// Golden vectors: the native and the wasm builds must both reproduce tests/golden/vectors.txt
// byte for byte. This is what proves a tablet and the server agree on what was signed.
#include <catch2/catch.hpp>

#include "canvass/flow.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "test_support.h"

using namespace canvass;
using test::CountingSeed;
using test::Golden;

TEST_CASE("golden: keys from fixed seeds") {
  REQUIRE(InitCrypto().ok());
  Golden::Get().Check("org.sign.public",
                      ToHex(SigningKey::FromSeed(CountingSeed(0x01)).public_key()));
  Golden::Get().Check("device.sign.public",
                      ToHex(SigningKey::FromSeed(CountingSeed(0x21)).public_key()));
  Golden::Get().Check("org.box.public", ToHex(BoxKey::FromSeed(CountingSeed(0x41)).public_key()));
  Golden::Get().Check("customer_key", CustomerKey(CountingSeed(0x61), "4000-1234-5678"));
  Golden::Get().Check("blake2b256.abc", ToHex(Blake2b256("abc")));
}

TEST_CASE("golden: a record's canonical bytes, hash, signature and envelope") {
  REQUIRE(InitCrypto().ok());
  SigningKey device = SigningKey::FromSeed(CountingSeed(0x21));
  ResponseRecord r = test::SampleRecord();
  Result<std::string> bytes = EncodeRecord(r);
  REQUIRE(bytes.ok());
  Golden::Get().Check("record.full.bytes", ToHex(*bytes));
  Golden::Get().Check("record.full.hash", ToHex(RecordHash(*bytes)));
  Signature sig = device.SignDomain(kRecordDomain, *bytes);
  Golden::Get().Check("record.full.signature", ToHex(sig));
  std::string envelope = EncodeSignedRecord(SignedRecord{*bytes, sig});
  Golden::Get().Check("record.full.envelope", ToHex(envelope));

  // The stored golden envelope (made by whichever target wrote the file) verifies here.
  if (!Golden::Get().updating()) {
    Result<std::string> stored = FromHex(Golden::Get().Stored("record.full.envelope"));
    REQUIRE(stored.ok());
    Result<SignedRecord> decoded = DecodeSignedRecord(*stored);
    REQUIRE(decoded.ok());
    CHECK(VerifyDomain(kRecordDomain, decoded->record_bytes, decoded->signature,
                       device.public_key()));
  }
}

TEST_CASE("golden: a three-record chain with every outcome") {
  REQUIRE(InitCrypto().ok());
  SigningKey device = SigningKey::FromSeed(CountingSeed(0x21));
  MemoryStore store;
  Result<ResponseLog> log = ResponseLog::Open(&store, device, "dev-kiosk-01");
  REQUIRE(log.ok());
  ResponseRecord a = test::SampleRecord();
  ResponseRecord b;
  b.survey_id = "restaurant";
  b.outcome = Outcome::kDeclined;
  b.device_time_ms = 1795000100000;
  ResponseRecord c = b;
  c.outcome = Outcome::kIgnored;
  c.device_time_ms = -1;  // negative times encode as two's complement
  for (ResponseRecord* r : {&a, &b, &c}) REQUIRE(log->Append(*r).ok());
  std::vector<std::string> envelopes;
  for (const LogEntry& e : store.entries()) {
    Golden::Get().Check("chain." + std::to_string(e.seq) + ".envelope", ToHex(e.envelope));
    envelopes.push_back(e.envelope);
  }
  ChainVerdict v = VerifyChain(envelopes, device.public_key());
  REQUIRE(v.status.ok());
  Golden::Get().Check("chain.head", ToHex(v.head.hash));
}

TEST_CASE("golden: receipt, certificate and survey bundle signed by the organisation") {
  REQUIRE(InitCrypto().ok());
  SigningKey org = SigningKey::FromSeed(CountingSeed(0x01));
  SyncReceipt receipt{"dev-kiosk-01", 3, Blake2b256("head"), 1795000200000};
  Golden::Get().Check(
      "receipt.signed",
      ToHex(EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(receipt), org))));
  DeviceCertificate cert{
      "dev-kiosk-01", "Kyiv-Podil",  "kiosk", SigningKey::FromSeed(CountingSeed(0x21)).public_key(),
      1795000000000,  1826536000000, false};
  Golden::Get().Check(
      "certificate.signed",
      ToHex(EncodeSignedMessage(SignMessage(kDeviceDomain, EncodeCertificate(cert), org))));
  std::string definition = test::ReadSourceFile("examples/restaurant.json");
  Golden::Get().Check("survey.restaurant.version", ToHex(SurveyVersion(definition)));
  SurveyBundle bundle{"restaurant", "{\"id\":\"restaurant\"}", 1795000000000, {"Kyiv-Podil"}};
  Golden::Get().Check(
      "bundle.signed",
      ToHex(EncodeSignedMessage(SignMessage(kSurveyDomain, EncodeBundle(bundle), org))));
}

TEST_CASE("golden: seeded picks are the same on every target") {
  std::vector<std::string> pool = {"a", "b", "c", "d"};
  RotationPicker picker(42);
  std::string picks;
  for (int i = 0; i < 40; ++i) picks += picker.Next(pool);
  Golden::Get().Check("rotate_one.seed42", ToHex(picks));

  Sampling p;
  p.mode = Sampling::Mode::kProbability;
  p.threshold53 = 0x0010000000000000ull * 3 / 10;  // p = 0.3
  Sampler sampler(42);
  std::string offers;
  for (int i = 0; i < 64; ++i) offers += sampler.ShouldOffer(p) ? '1' : '0';
  Golden::Get().Check("sampling.p30.seed42", ToHex(offers));

  SplitMix64 reference(0);
  CHECK(reference.Next() == 0xe220a8397b1dcdafull);  // the published SplitMix64 sequence
  SplitMix64 rng(0);
  std::string first;
  for (int i = 0; i < 4; ++i) first += std::to_string(rng.Next()) + ",";
  Golden::Get().Check("splitmix64.seed0", ToHex(first));
}
