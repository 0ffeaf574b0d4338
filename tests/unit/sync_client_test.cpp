// The device's sync state machine (sync_client.h) driven with canned answers: enrollment, pushes
// with receipts, a receipt that does not advance, refusals, back-off and replays.
#include "canvass/sync_client.h"

#include <catch2/catch.hpp>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "test_support.h"

namespace canvass {
namespace {

using sync::Action;
using sync::Answer;
using sync::Client;
using sync::DeviceView;
using sync::Plan;
using sync::Step;

const SigningKey& Org() {
  static const SigningKey key = SigningKey::FromSeed(test::CountingSeed(1));
  return key;
}
const SigningKey& DeviceKey() {
  static const SigningKey key = SigningKey::FromSeed(test::CountingSeed(50));
  return key;
}

// A fake log: entries with the seqs given, hashes derived from the seq.
std::vector<LogEntry> Entries(std::uint64_t first, std::uint64_t last) {
  std::vector<LogEntry> out;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    out.push_back({seq, Blake2b256("record " + std::to_string(seq)), "env" + std::to_string(seq)});
  }
  return out;
}

DeviceView Device(std::uint64_t first, std::uint64_t last) {
  DeviceView d;
  d.device_id = "dev-1";
  d.org_sign_key = Org().public_key();
  if (first > 0) d.unsynced = Entries(first, last);
  return d;
}

Answer Receipt(std::uint64_t last_seq, const std::string& device_id = "dev-1",
               const SigningKey& signer = Org()) {
  SyncReceipt r{device_id, last_seq, Blake2b256("record " + std::to_string(last_seq)), 1000};
  return Answer{200, EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(r), signer))};
}

Answer Error(int status, const std::string& code, const std::string& message) {
  return Answer{status, "{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}"};
}

std::string EnrollmentAnswer(const PublicKey& device_key, bool with_bundles) {
  DeviceCertificate cert{"dev-1", "Kyiv-Podil", "kiosk", device_key, 0, 0, false};
  const std::string cert_hex =
      ToHex(EncodeSignedMessage(SignMessage(kDeviceDomain, EncodeCertificate(cert), Org())));
  std::string body =
      "{\"device_id\":\"dev-1\",\"location\":\"Kyiv-Podil\",\"channel\":\"kiosk\","
      "\"certificate\":\"" +
      cert_hex + "\",\"org_sign_key\":\"" + ToHex(Org().public_key()) + "\",\"org_box_key\":\"" +
      ToHex(Org().public_key()) + "\"";
  if (with_bundles) body += ",\"bundles\":[{\"survey_id\":\"restaurant\",\"bundle\":\"abcd\"}]";
  return body + "}";
}

Plan PushPlan(std::uint32_t max_batch = sync::kBatchRecords) {
  Plan p;
  p.push = true;
  p.max_batch = max_batch;
  return p;
}

// Begins a push run on `c` and takes its first request, the first batch of `d`.
void Send(Client& c, const DeviceView& d) {
  c.Begin(PushPlan());
  REQUIRE(c.Next(d, Answer::None()).step == Step::kSend);
}

TEST_CASE("sync: an enrollment sends the code and key once and keeps the verified answer") {
  Client c;
  Plan plan;
  plan.enroll = true;
  plan.code = "ABCD-1234";
  plan.device_key = DeviceKey().public_key();
  c.Begin(plan);
  DeviceView none;
  Action a = c.Next(none, Answer::None());
  REQUIRE(a.step == Step::kSend);
  CHECK(std::string(a.request.method) == "POST");
  CHECK(a.request.path == "/v1/enroll");
  CHECK(a.request.body == "{\"protocol\":1,\"code\":\"ABCD-1234\",\"public_key\":\"" +
                              ToHex(DeviceKey().public_key()) + "\"}");
  a = c.Next(none, Answer{200, EnrollmentAnswer(DeviceKey().public_key(), true)});
  REQUIRE(a.step == Step::kEnrolled);
  CHECK(a.enrollment.device_id == "dev-1");
  CHECK(a.enrollment.location == "Kyiv-Podil");
  CHECK(a.enrollment.org_sign_key == Org().public_key());
  REQUIRE(a.bundles.size() == 1);
  CHECK(a.bundles[0].survey_id == "restaurant");
  // The answer had the bundles: no second request.
  CHECK(c.Next(Device(0, 0), Answer::None()).step == Step::kDone);
}

TEST_CASE("sync: an enrollment answer without bundles is followed by a survey fetch") {
  Client c;
  Plan plan;
  plan.enroll = true;
  plan.device_key = DeviceKey().public_key();  // no code: the public web channel
  c.Begin(plan);
  Action a = c.Next(DeviceView{}, Answer::None());
  CHECK(a.request.path == "/v1/web/enroll");
  CHECK(a.request.body.find("code") == std::string::npos);
  REQUIRE(
      c.Next(DeviceView{}, Answer{200, EnrollmentAnswer(DeviceKey().public_key(), false)}).step ==
      Step::kEnrolled);
  a = c.Next(Device(0, 0), Answer::None());
  REQUIRE(a.step == Step::kSend);
  CHECK(a.request.path == "/v1/surveys?device=dev-1");
  a = c.Next(Device(0, 0), Answer{200, "{\"bundles\":[{\"survey_id\":\"s\",\"bundle\":\"00\"}]}"});
  REQUIRE(a.step == Step::kBundles);
  CHECK(a.bundles.size() == 1);
  CHECK(c.Next(Device(0, 0), Answer::None()).step == Step::kDone);
}

TEST_CASE("sync: an enrollment answer whose certificate names another key is refused") {
  Client c;
  Plan plan;
  plan.enroll = true;
  plan.code = "C";
  plan.device_key = DeviceKey().public_key();
  c.Begin(plan);
  (void)c.Next(DeviceView{}, Answer::None());
  const SigningKey other = SigningKey::FromSeed(test::CountingSeed(90));
  Action a = c.Next(DeviceView{}, Answer{200, EnrollmentAnswer(other.public_key(), true)});
  CHECK(a.step == Step::kRefused);
  CHECK(a.message.find("this device's key") != std::string::npos);
  // 401: a used code. Refused with the server's words, not retried.
  c.Begin(plan);
  (void)c.Next(DeviceView{}, Answer::None());
  a = c.Next(DeviceView{}, Error(401, "unauthenticated", "the code was used"));
  CHECK(a.step == Step::kRefused);
  CHECK(a.status == 401);
  CHECK(a.message == "401 unauthenticated: the code was used");
}

TEST_CASE("sync: a push sends batches in order and acknowledges each verified receipt") {
  Client c;
  c.Begin(PushPlan(2));
  DeviceView d = Device(1, 5);
  Action a = c.Next(d, Answer::None());
  REQUIRE(a.step == Step::kSend);
  CHECK(a.request.path == "/v1/records");
  Result<RecordBatch> batch = DecodeBatch(a.request.body);
  REQUIRE(batch.ok());
  CHECK(batch->envelopes == std::vector<std::string>{"env1", "env2"});
  a = c.Next(d, Receipt(2));
  REQUIRE(a.step == Step::kAcknowledge);
  CHECK(a.receipt.last_seq == 2);
  d = Device(3, 5);  // the driver dropped 1..2
  a = c.Next(d, Answer::None());
  CHECK(DecodeBatch(a.request.body)->envelopes == std::vector<std::string>{"env3", "env4"});
  REQUIRE(c.Next(d, Receipt(4)).step == Step::kAcknowledge);
  d = Device(5, 5);
  (void)c.Next(d, Answer::None());
  REQUIRE(c.Next(d, Receipt(5)).step == Step::kAcknowledge);
  d = Device(0, 0);
  CHECK(c.Next(d, Answer::None()).step == Step::kDone);
}

TEST_CASE("sync: a receipt covering part of the batch acknowledges that part and goes on") {
  Client c;
  DeviceView d = Device(1, 3);
  Send(c, d);
  REQUIRE(c.Next(d, Receipt(1)).step == Step::kAcknowledge);
  d = Device(2, 3);
  Action a = c.Next(d, Answer::None());
  REQUIRE(a.step == Step::kSend);
  CHECK(DecodeBatch(a.request.body)->envelopes.front() == "env2");
}

TEST_CASE("sync: a receipt that does not advance ends in back-off, not another push") {
  Client c(7);
  DeviceView d = Device(4, 6);  // 1..3 acknowledged long ago
  Send(c, d);
  // Signed and ours, but for record 3: the server says it stored nothing new.
  Action a = c.Next(d, Receipt(3));
  REQUIRE(a.step == Step::kRetry);
  CHECK(a.delay_ms >= sync::kFirstRetryMs);
  CHECK(a.message.find("before the batch sent (4..6)") != std::string::npos);
  // The run is over: nothing more to send until the driver begins again.
  CHECK(c.Next(d, Answer::None()).step == Step::kDone);
}

TEST_CASE("sync: a driver that does not drop acknowledged records gets back-off, not a loop") {
  Client c;
  DeviceView d = Device(1, 2);
  Send(c, d);
  REQUIRE(c.Next(d, Receipt(2)).step == Step::kAcknowledge);
  CHECK(c.Next(d, Answer::None()).step == Step::kRetry);  // 1..2 still there
}

TEST_CASE("sync: receipts that do not verify or do not match are refused, records kept") {
  Client c;
  DeviceView d = Device(1, 2);
  SECTION("signed by another key") {
    Send(c, d);
    Action a = c.Next(d, Receipt(2, "dev-1", DeviceKey()));
    CHECK(a.step == Step::kRefused);
    CHECK(a.message.find("records kept") != std::string::npos);
  }
  SECTION("for another device") {
    Send(c, d);
    CHECK(c.Next(d, Receipt(2, "dev-2")).step == Step::kRefused);
  }
  SECTION("for a record not sent") {
    Send(c, d);
    Action a = c.Next(d, Receipt(3));
    CHECK(a.step == Step::kRefused);
    CHECK(a.message.find("did not send") != std::string::npos);
  }
  SECTION("naming another hash") {
    Send(c, d);
    SyncReceipt r{"dev-1", 2, Blake2b256("something else"), 0};
    Answer forged{200, EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(r), Org()))};
    CHECK(c.Next(d, forged).step == Step::kRefused);
  }
  SECTION("cut short") {
    Send(c, d);
    CHECK(c.Next(d, Answer{200, Receipt(2).body.substr(0, 20)}).step == Step::kRefused);
  }
}

TEST_CASE("sync: 4xx refusals stop the run with the server's words; nothing is retried") {
  Client c;
  DeviceView d = Device(1, 2);
  for (int status : {400, 401, 403, 409, 413, 422}) {
    Send(c, d);
    Action a = c.Next(d, Error(status, "forbidden", "record 1 is tagged location=Lviv"));
    CHECK(a.step == Step::kRefused);
    CHECK(a.status == status);
    CHECK(a.message == std::to_string(status) + " forbidden: record 1 is tagged location=Lviv");
    CHECK(c.Next(d, Answer::None()).step == Step::kDone);
  }
  CHECK(c.failures() == 0);
}

TEST_CASE("sync: 5xx, 429 and transport failures back off, doubling up to a minute") {
  Client c(42);
  DeviceView d = Device(1, 2);
  std::int64_t last_base = 0;
  for (std::uint32_t i = 1; i <= 12; ++i) {
    Send(c, d);
    Answer answer = i % 3 == 0   ? Answer{0, "connection refused"}
                    : i % 3 == 1 ? Error(503, "unavailable", "the database is full")
                                 : Error(429, "rate_limited", "slow down");
    Action a = c.Next(d, answer);
    REQUIRE(a.step == Step::kRetry);
    const std::int64_t base =
        std::min(sync::kMaxRetryMs, sync::kFirstRetryMs << std::min(i, sync::kMaxRetryDoublings));
    CHECK(a.delay_ms >= base / 2);
    CHECK(a.delay_ms <= base * 3 / 2);
    CHECK(base >= last_base);
    last_base = base;
    if (i == 1) CHECK(a.message == "503 unavailable: the database is full");
    if (i == 3) CHECK(a.message == "connection refused");
  }
  // A success resets the count.
  Send(c, d);
  REQUIRE(c.Next(d, Receipt(2)).step == Step::kAcknowledge);
  CHECK(c.failures() == 0);
}

TEST_CASE("sync: the jitter is the same for the same seed on every target") {
  Client a(5), b(5);
  DeviceView d = Device(1, 1);
  for (Client* c : {&a, &b}) {
    c->Begin(PushPlan());
    (void)c->Next(d, Answer::None());
  }
  const std::int64_t first = a.Next(d, Answer{0, "x"}).delay_ms;
  CHECK(first == b.Next(d, Answer{0, "x"}).delay_ms);
  CHECK(first >= 1000);
  CHECK(first <= 3000);
}

TEST_CASE("sync: a replayed batch's receipt acknowledges it like the first one") {
  // The server answers a resend with the identical receipt: the device drops and moves on.
  Client c;
  DeviceView d = Device(1, 3);
  Send(c, d);
  const Answer receipt = Receipt(3);
  REQUIRE(c.Next(d, receipt).step == Step::kAcknowledge);
  // A crash before the drop: the next run sends 1..3 again and gets the same receipt.
  Send(c, d);
  Action a = c.Next(d, receipt);
  REQUIRE(a.step == Step::kAcknowledge);
  CHECK(a.receipt_bytes == receipt.body);
}

TEST_CASE("sync: push then surveys; a device not enrolled is refused before any request") {
  Client c;
  Plan plan = PushPlan();
  plan.surveys = true;
  c.Begin(plan);
  Action a = c.Next(Device(0, 0), Answer::None());
  REQUIRE(a.step == Step::kSend);
  CHECK(std::string(a.what) == "surveys");
  a = c.Next(Device(0, 0), Answer{200, "{\"bund"});
  CHECK(a.step == Step::kRetry);  // cut short: worth another try
  c.Begin(plan);
  CHECK(c.Next(DeviceView{}, Answer::None()).step == Step::kRefused);
}

TEST_CASE("sync: request paths escape what is not a device id's character") {
  CHECK(sync::SurveysRequest("dev-1").path == "/v1/surveys?device=dev-1");
  CHECK(sync::SurveysRequest("a&b c").path == "/v1/surveys?device=a%26b%20c");
  CHECK(sync::WebSurveysRequest().body == "{\"protocol\":1}");
  CHECK(sync::EnrollRequest("a\"b", false, PublicKey{}).body.find("a\\\"b") != std::string::npos);
}

}  // namespace
}  // namespace canvass
