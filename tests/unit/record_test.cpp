#include "canvass/record.h"

#include <catch2/catch.hpp>

#include "canvass/messages.h"
#include "test_support.h"

using namespace canvass;

TEST_CASE("a record round-trips through its canonical bytes") {
  REQUIRE(InitCrypto().ok());
  ResponseRecord r = test::SampleRecord();
  Result<std::string> bytes = EncodeRecord(r);
  REQUIRE(bytes.ok());
  CHECK(static_cast<unsigned char>((*bytes)[0]) == 1);  // little-endian marker
  CHECK(static_cast<unsigned char>((*bytes)[1]) == kRecordVersion);
  Result<ResponseRecord> back = DecodeRecord(*bytes);
  REQUIRE(back.ok());
  CHECK(*back == r);
  Result<std::string> again = EncodeRecord(*back);
  REQUIRE(again.ok());
  CHECK(*again == *bytes);
}

TEST_CASE("a minimal declined record round-trips") {
  ResponseRecord r;
  r.survey_id = "s";
  r.device_id = "d";
  r.seq = 1;
  r.outcome = Outcome::kDeclined;
  Result<std::string> bytes = EncodeRecord(r);
  REQUIRE(bytes.ok());
  Result<ResponseRecord> back = DecodeRecord(*bytes);
  REQUIRE(back.ok());
  CHECK(*back == r);
  CHECK_FALSE(back->sealed_contact.has_value());
}

TEST_CASE("every truncation of a record is refused as corruption, never a crash") {
  REQUIRE(InitCrypto().ok());
  Result<std::string> bytes = EncodeRecord(test::SampleRecord());
  REQUIRE(bytes.ok());
  for (std::size_t n = 0; n < bytes->size(); ++n) {
    Result<ResponseRecord> r = DecodeRecord(std::string_view(*bytes).substr(0, n));
    INFO("length " << n);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("trailing bytes, a wrong version and a wrong marker are refused") {
  REQUIRE(InitCrypto().ok());
  std::string bytes = *EncodeRecord(test::SampleRecord());
  CHECK(DecodeRecord(bytes + "x").status().message().find("unexpected bytes") != std::string::npos);
  std::string v2 = bytes;
  v2[1] = 2;
  CHECK(DecodeRecord(v2).status().message().find("unknown record version 2") != std::string::npos);
  std::string big_endian = bytes;
  big_endian[0] = 0;
  CHECK(DecodeRecord(big_endian).status().code() == StatusCode::kCorruption);
}

TEST_CASE("a huge length prefix is refused without allocating it") {
  // marker, version, survey id length 0xFFFFFFFF
  std::string bytes("\x01\x01\xff\xff\xff\xff", 6);
  Result<ResponseRecord> r = DecodeRecord(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("over the limit") != std::string::npos);
}

TEST_CASE("non-canonical bytes are refused: unsorted choices, bad flags, unknown outcome") {
  ResponseRecord r;
  r.survey_id = "s";
  r.device_id = "d";
  r.answers["q"] = ChoiceAnswer{{"b", "a"}, ""};
  CHECK(EncodeRecord(r).status().code() == StatusCode::kInvalidArgument);

  r.answers["q"] = ChoiceAnswer{{"a", "b"}, ""};
  std::string bytes = *EncodeRecord(r);
  // Swap the two choice ids in place: "a" ... "b" -> "b" ... "a".
  std::string swapped = bytes;
  auto a = swapped.find('a', 60), b = swapped.find('b', 60);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::swap(swapped[a], swapped[b]);
  CHECK(DecodeRecord(swapped).status().message().find("not sorted") != std::string::npos);

  std::string bad_flag = bytes;
  bad_flag[bad_flag.size() - 1] = 2;  // attachment flag
  CHECK(DecodeRecord(bad_flag).status().message().find("flag") != std::string::npos);

  ResponseRecord plain;
  plain.survey_id = "s";
  plain.device_id = "d";
  std::string p = *EncodeRecord(plain);
  // outcome byte: marker, version, id(4+1), version hash 32, device(4+1), seq 8, prev 32, time 8
  std::size_t outcome_at = 2 + 5 + 32 + 5 + 8 + 32 + 8;
  p[outcome_at] = 9;
  CHECK(DecodeRecord(p).status().message().find("unknown outcome 9") != std::string::npos);
}

TEST_CASE("contact details never go into a record in clear") {
  ResponseRecord r;
  r.survey_id = "s";
  r.device_id = "d";
  r.answers["contact"] = ContactAnswer{true, "+380671234567"};
  Result<std::string> bytes = EncodeRecord(r);
  REQUIRE_FALSE(bytes.ok());
  CHECK(bytes.status().message().find("sealed") != std::string::npos);
}

TEST_CASE("limits are enforced on encode") {
  ResponseRecord r;
  r.survey_id = std::string(kMaxIdLength + 1, 'x');
  r.device_id = "d";
  CHECK(EncodeRecord(r).status().message().find("survey id") != std::string::npos);
  r.survey_id = "s";
  r.answers["t"] = TextAnswer{std::string(kMaxTextLength + 1, 'x')};
  CHECK_FALSE(EncodeRecord(r).ok());
}

TEST_CASE("outcome names round-trip") {
  for (Outcome o :
       {Outcome::kCompleted, Outcome::kPartial, Outcome::kDeclined, Outcome::kIgnored}) {
    Result<Outcome> back = ParseOutcome(OutcomeName(o));
    REQUIRE(back.ok());
    CHECK(*back == o);
  }
  CHECK(ParseOutcome("done").status().message().find("expected completed") != std::string::npos);
}

TEST_CASE("signed messages: certificate, receipt and bundle round-trip and verify") {
  REQUIRE(InitCrypto().ok());
  SigningKey org = SigningKey::FromSeed(test::CountingSeed(1));
  DeviceCertificate cert{"dev-1", "Kyiv-Podil", "kiosk", test::CountingSeed(9), 1, 2, false};
  SignedMessage m = SignMessage(kDeviceDomain, EncodeCertificate(cert), org);
  Result<SignedMessage> back = DecodeSignedMessage(EncodeSignedMessage(m));
  REQUIRE(back.ok());
  CHECK(VerifyMessage(kDeviceDomain, *back, org.public_key()).ok());
  CHECK(VerifyMessage(kReceiptDomain, *back, org.public_key()).code() ==
        StatusCode::kUnauthenticated);
  Result<DeviceCertificate> c = DecodeCertificate(back->body);
  REQUIRE(c.ok());
  CHECK(*c == cert);

  SyncReceipt receipt{"dev-1", 42, Blake2b256("x"), 5};
  Result<SyncReceipt> rb = DecodeReceipt(EncodeReceipt(receipt));
  REQUIRE(rb.ok());
  CHECK(*rb == receipt);

  SurveyBundle bundle{"restaurant", "{\"format\":1}", 7, {"a", "b"}};
  Result<SurveyBundle> bb = DecodeBundle(EncodeBundle(bundle));
  REQUIRE(bb.ok());
  CHECK(*bb == bundle);
  CHECK_FALSE(DecodeBundle(EncodeReceipt(receipt)).ok());
}

TEST_CASE("a record's location and channel are its device's, never a host page's",
          "[record][security]") {
  // DESIGN §5; security review 2, finding 2: a host page passed location through `tags`.
  const std::vector<std::string> declared = {"location", "staff", "table"};
  std::vector<std::string> dropped;
  const std::map<std::string, std::string> tags = DeviceTags({{"location", "Lviv-Center"},
                                                              {"channel", "kiosk"},
                                                              {"segment", "vip"},
                                                              {"table", "7"},
                                                              {"cookie", "x"}},
                                                             declared, "web", "web", &dropped);
  CHECK(tags == std::map<std::string, std::string>{
                    {"channel", "web"}, {"location", "web"}, {"segment", "vip"}, {"table", "7"}});
  CHECK(dropped == std::vector<std::string>{"channel", "cookie", "location"});
  CHECK(IsHostTag("staff", {}));
  CHECK(IsHostTag("receipt", {}));
  CHECK_FALSE(IsHostTag("location", declared));
  CHECK_FALSE(IsHostTag("channel", {"channel"}));
  CHECK_FALSE(IsHostTag("table", {}));
  // A device state saved before location and channel were kept: nothing is invented.
  CHECK(DeviceTags({{"location", "x"}}, {}, "", "").empty());

  ResponseRecord r = test::SampleRecord();
  r.tags = {{"location", "Lviv-Center"}, {"channel", "kiosk"}, {"staff", "olena"}};
  Status other = CheckRecordLocation(r, "Kyiv-Podil");
  CHECK(other.code() == StatusCode::kInvalidArgument);
  CHECK(other.message().find("'Lviv-Center'") != std::string::npos);
  CHECK(other.message().find("'Kyiv-Podil'") != std::string::npos);
  CHECK(CheckRecordLocation(r, "Lviv-Center").ok());
  r.tags.erase("location");
  CHECK(CheckRecordLocation(r, "Kyiv-Podil").ok());  // no tag: the device's own

  AttributeToDevice(&r, "Kyiv-Podil", "web");
  CHECK(r.tags == std::map<std::string, std::string>{
                      {"channel", "web"}, {"location", "Kyiv-Podil"}, {"staff", "olena"}});
  AttributeToDevice(&r, "", "");  // an unknown device: the record as it is
  CHECK(r.tags.at("location") == "Kyiv-Podil");
}
