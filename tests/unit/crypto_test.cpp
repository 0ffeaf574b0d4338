#include "canvass/crypto.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace canvass;

TEST_CASE("libsodium initialises") { REQUIRE(InitCrypto().ok()); }

TEST_CASE("BLAKE2b-256 matches the reference value for the empty input") {
  REQUIRE(InitCrypto().ok());
  // RFC 7693 / libsodium: BLAKE2b-256("").
  CHECK(ToHex(Blake2b256("")) ==
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST_CASE("a domain signature verifies only for its domain, body and key") {
  REQUIRE(InitCrypto().ok());
  SigningKey key = SigningKey::FromSeed(test::CountingSeed(1));
  SigningKey other = SigningKey::FromSeed(test::CountingSeed(2));
  Signature sig = key.SignDomain(kRecordDomain, "body");
  CHECK(VerifyDomain(kRecordDomain, "body", sig, key.public_key()));
  CHECK_FALSE(VerifyDomain(kReceiptDomain, "body", sig, key.public_key()));
  CHECK_FALSE(VerifyDomain(kRecordDomain, "bodY", sig, key.public_key()));
  CHECK_FALSE(VerifyDomain(kRecordDomain, "body", sig, other.public_key()));
  sig[10] ^= 1;
  CHECK_FALSE(VerifyDomain(kRecordDomain, "body", sig, key.public_key()));
}

TEST_CASE("the same seed gives the same key, and the seed round-trips") {
  REQUIRE(InitCrypto().ok());
  SigningKey a = SigningKey::FromSeed(test::CountingSeed(9));
  SigningKey b = SigningKey::FromSeed(a.seed());
  CHECK(a.public_key() == b.public_key());
  CHECK(a.SignDomain(kDeviceDomain, "x") == b.SignDomain(kDeviceDomain, "x"));
  CHECK(SigningKey::Generate().public_key() != SigningKey::Generate().public_key());
}

TEST_CASE("sealed contact details open only with the organisation's box key") {
  REQUIRE(InitCrypto().ok());
  BoxKey org = BoxKey::FromSeed(test::CountingSeed(3));
  BoxKey stranger = BoxKey::Generate();
  std::string sealed = SealTo(org.public_key(), "Олена, +380 67 123 45 67");
  CHECK(sealed.find("380") == std::string::npos);
  Result<std::string> opened = org.OpenSealed(sealed);
  REQUIRE(opened.ok());
  CHECK(*opened == "Олена, +380 67 123 45 67");
  CHECK(stranger.OpenSealed(sealed).status().code() == StatusCode::kCorruption);
  CHECK_FALSE(org.OpenSealed("short").ok());
  sealed.back() ^= 1;
  CHECK_FALSE(org.OpenSealed(sealed).ok());
}

TEST_CASE("customer keys are keyed: same card and key agree, another key differs") {
  REQUIRE(InitCrypto().ok());
  std::string a = CustomerKey(test::CountingSeed(5), "4000-1234");
  CHECK(a == CustomerKey(test::CountingSeed(5), "4000-1234"));
  CHECK(a != CustomerKey(test::CountingSeed(6), "4000-1234"));
  CHECK(a != CustomerKey(test::CountingSeed(5), "4000-1235"));
  CHECK(a.size() == 64);
  CHECK(a.find("4000") == std::string::npos);
}

TEST_CASE("hex round-trips and refuses bad input with a reason") {
  CHECK(ToHex(std::string_view("\x00\xff\x10", 3)) == "00ff10");
  Result<std::string> back = FromHex("00FF10");
  REQUIRE(back.ok());
  CHECK(*back == std::string("\x00\xff\x10", 3));
  CHECK(FromHex("abc").status().message() == "hex string has an odd length");
  CHECK(FromHex("zz").status().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(ArrayFromHex<32>("00ff").ok());
}

TEST_CASE("constant-time equality") {
  REQUIRE(InitCrypto().ok());
  CHECK(ConstantTimeEqual("token-abc", "token-abc"));
  CHECK_FALSE(ConstantTimeEqual("token-abc", "token-abd"));
  CHECK_FALSE(ConstantTimeEqual("token-abc", "token-ab"));
}
