#include "canvass/sync_client.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

#include "canvass/interchange.h"
#include "canvass/record.h"

namespace canvass::sync {
namespace {

std::string Field(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject() || !object.HasMember(key) || !object[key].IsString()) return "";
  const rapidjson::Value& v = object[key];
  return std::string(v.GetString(), v.GetStringLength());
}

std::vector<BundleRef> BundlesOf(const rapidjson::Value& list) {
  std::vector<BundleRef> out;
  for (const auto& item : list.GetArray()) {
    std::string hex = Field(item, "bundle");
    if (!hex.empty()) out.push_back({Field(item, "survey_id"), std::move(hex)});
  }
  return out;
}

// splitmix64: the jitter is ours, the same on every target (STYLE.md, randomness).
double NextUnit(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

Request JsonPost(const char* path, const std::string& body) {
  return Request{"POST", path, "application/json", body};
}

}  // namespace

const char* StepName(Step step) {
  switch (step) {
    case Step::kSend:
      return "send";
    case Step::kEnrolled:
      return "enrolled";
    case Step::kBundles:
      return "bundles";
    case Step::kAcknowledge:
      return "acknowledge";
    case Step::kDone:
      return "done";
    case Step::kRetry:
      return "retry";
    case Step::kRefused:
      return "refused";
  }
  return "?";
}

// [SECTION] Requests and answers ---------------------------------------------------------------

// The bodies are written with the core's JsonQuote (interchange.h) until the core's one JSON
// writer lands (issue 17, item 2); they are written here only, so the switch is these two.
Request EnrollRequest(std::string_view code, bool web, const PublicKey& device_key) {
  std::string body = "{\"protocol\":" + std::to_string(kProtocolVersion);
  if (!web) body += ",\"code\":" + JsonQuote(code);
  body += ",\"public_key\":\"" + ToHex(device_key) + "\"}";
  return JsonPost(web ? kWebEnrollPath : kEnrollPath, body);
}

Request WebSurveysRequest() {
  return JsonPost(kWebSurveysPath, "{\"protocol\":" + std::to_string(kProtocolVersion) + "}");
}

Request SurveysRequest(std::string_view device_id) {
  // Device ids are the server's own ([a-z0-9-]); anything else is escaped rather than trusted.
  std::string path = kSurveysPath;
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  for (unsigned char c : device_id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      path += static_cast<char>(c);
    } else {
      path += '%';
      path += kHexDigits[c >> 4];
      path += kHexDigits[c & 15];
    }
  }
  return Request{"GET", path, "", ""};
}

Request PushRequest(std::string_view device_id, const std::vector<LogEntry>& entries) {
  RecordBatch batch;
  batch.device_id = std::string(device_id);
  for (const LogEntry& e : entries) batch.envelopes.push_back(e.envelope);
  return Request{"POST", kRecordsPath, "application/octet-stream", EncodeBatch(batch)};
}

Result<Enrollment> ReadEnrollment(std::string_view body, const PublicKey& device_key,
                                  std::vector<BundleRef>* bundles) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::Corruption("the enrollment answer is not a JSON object (cut short?)");
  }
  Enrollment e;
  e.device_id = Field(doc, "device_id");
  e.location = Field(doc, "location");
  e.channel = Field(doc, "channel");
  e.certificate_hex = Field(doc, "certificate");
  Result<PublicKey> sign = ArrayFromHex<32>(Field(doc, "org_sign_key"));
  Result<PublicKey> box = ArrayFromHex<32>(Field(doc, "org_box_key"));
  Result<std::string> cert_bytes = FromHex(e.certificate_hex);
  if (!sign.ok() || !box.ok() || !cert_bytes.ok()) {
    return Status::Corruption("bad keys or certificate in the enrollment answer");
  }
  e.org_sign_key = *sign;
  e.org_box_key = *box;
  // The certificate must be the organisation's word about this very key.
  Result<SignedMessage> message = DecodeSignedMessage(*cert_bytes);
  if (!message.ok()) return message.status().WithContext("certificate");
  if (Status s = VerifyMessage(kDeviceDomain, *message, e.org_sign_key); !s.ok()) {
    return s.WithContext("certificate");
  }
  Result<DeviceCertificate> cert = DecodeCertificate(message->body);
  if (!cert.ok()) return cert.status().WithContext("certificate");
  if (cert->device_id != e.device_id) {
    return Status::Unauthenticated("the certificate names another device");
  }
  if (cert->device_key != device_key) {
    return Status::Unauthenticated("the certificate does not name this device's key");
  }
  if (doc.HasMember("bundles") && doc["bundles"].IsArray()) {
    e.has_bundles = true;
    if (bundles) *bundles = BundlesOf(doc["bundles"]);
  }
  return e;
}

Result<std::vector<BundleRef>> ReadBundles(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("bundles") ||
      !doc["bundles"].IsArray()) {
    // A cut connection can leave a short body: worth a retry, like a refused connection.
    return Status::Unavailable("the server's answer is not a bundle list (cut short?)");
  }
  return BundlesOf(doc["bundles"]);
}

Result<SyncReceipt> ReadReceipt(std::string_view body, const DeviceView& device,
                                const std::vector<LogEntry>& sent) {
  Result<SignedMessage> message = DecodeSignedMessage(body);
  if (!message.ok()) return message.status();
  if (Status s = VerifyMessage(kReceiptDomain, *message, device.org_sign_key); !s.ok()) return s;
  Result<SyncReceipt> receipt = DecodeReceipt(message->body);
  if (!receipt.ok()) return receipt.status();
  if (receipt->device_id != device.device_id) {
    return Status::InvalidArgument("receipt is for device '" + receipt->device_id +
                                   "', not this device '" + device.device_id + "'");
  }
  if (sent.empty() || receipt->last_seq < sent.front().seq) return receipt;  // no news
  const std::string seq = std::to_string(receipt->last_seq);
  if (receipt->last_seq > sent.back().seq) {
    return Status::Conflict("receipt names record " + seq + ", which this device did not send");
  }
  auto held = std::find_if(sent.begin(), sent.end(),
                           [&](const LogEntry& e) { return e.seq == receipt->last_seq; });
  if (held == sent.end() || held->hash != receipt->head_hash) {
    return Status::Conflict("receipt for record " + seq +
                            " names another hash: the server holds a different record");
  }
  return receipt;
}

std::string DescribeError(int status, std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("message") &&
      doc["message"].IsString()) {
    return std::to_string(status) + " " + Field(doc, "error") + ": " + Field(doc, "message");
  }
  return std::to_string(status) + ": " + std::string(body.substr(0, 500));
}

// [SECTION] The state machine ------------------------------------------------------------------

void Client::Begin(const Plan& plan) {
  plan_ = plan;
  plan_.max_batch = std::clamp<std::uint32_t>(plan.max_batch, 1, kMaxBatchRecords);
  phase_ = plan.enroll    ? Phase::kEnroll
           : plan.push    ? Phase::kPush
           : plan.surveys ? Phase::kSurveys
                          : Phase::kDone;
  awaiting_ = false;
  sent_.clear();
  acked_ = 0;
}

Action Client::Next(const DeviceView& device, const Answer& last) {
  if (!awaiting_ || last.none) return Decide(device);
  awaiting_ = false;
  if (last.status == 0) return Retry(last.body.empty() ? "no answer from the server" : last.body);
  // Busy, full or down: the device keeps its records and tries again later.
  if (last.status == 429 || last.status >= 500) return Retry(DescribeError(last.status, last.body));
  switch (phase_) {
    case Phase::kEnroll:
      return AfterEnroll(last);
    case Phase::kPush:
      return AfterPush(device, last);
    case Phase::kSurveys:
      return AfterSurveys(last);
    case Phase::kDone:
      break;
  }
  return Action{};
}

Action Client::Decide(const DeviceView& device) {
  Action a;
  switch (phase_) {
    case Phase::kEnroll:
      a.what = "enroll";
      a.request = EnrollRequest(plan_.code, plan_.code.empty(), plan_.device_key);
      break;
    case Phase::kPush: {
      a.what = "push";
      if (device.device_id.empty()) return Refuse(0, "the device is not enrolled");
      if (device.unsynced.empty()) {
        phase_ = plan_.surveys ? Phase::kSurveys : Phase::kDone;
        return Decide(device);
      }
      // Records acknowledged in this run must be gone from the log: sending them again would be
      // a loop with the server that never ends.
      if (device.unsynced.front().seq <= acked_) {
        return Retry("record " + std::to_string(device.unsynced.front().seq) +
                     " is still in the log after its receipt; records kept");
      }
      const std::size_t n = std::min<std::size_t>(device.unsynced.size(), plan_.max_batch);
      sent_.assign(device.unsynced.begin(), device.unsynced.begin() + n);
      a.request = PushRequest(device.device_id, sent_);
      for (LogEntry& e : sent_) e.envelope.clear();  // seq and hash are all a receipt is read by
      break;
    }
    case Phase::kSurveys:
      a.what = "surveys";
      if (device.device_id.empty()) return Refuse(0, "the device is not enrolled");
      a.request = SurveysRequest(device.device_id);
      break;
    case Phase::kDone:
      return a;
  }
  a.step = Step::kSend;
  awaiting_ = true;
  return a;
}

Action Client::AfterEnroll(const Answer& answer) {
  if (answer.status != 200) return Refuse(answer.status, DescribeError(answer.status, answer.body));
  Action a;
  Result<Enrollment> e = ReadEnrollment(answer.body, plan_.device_key, &a.bundles);
  if (!e.ok()) return Refuse(0, "enrollment answer refused: " + e.status().message());
  failures_ = 0;
  a.step = Step::kEnrolled;
  a.what = "enroll";
  a.enrollment = std::move(*e);
  phase_ = plan_.push                                   ? Phase::kPush
           : plan_.surveys || !a.enrollment.has_bundles ? Phase::kSurveys
                                                        : Phase::kDone;
  return a;
}

Action Client::AfterPush(const DeviceView& device, const Answer& answer) {
  if (answer.status != 200) return Refuse(answer.status, DescribeError(answer.status, answer.body));
  Result<SyncReceipt> receipt = ReadReceipt(answer.body, device, sent_);
  if (!receipt.ok()) {
    return Refuse(0,
                  "the server's receipt was refused; records kept: " + receipt.status().message());
  }
  if (receipt->last_seq < sent_.front().seq || receipt->last_seq <= acked_) {
    // Signed, ours, but behind the batch: the server did not say it stored anything new.
    return Retry("the server's receipt names record " + std::to_string(receipt->last_seq) +
                 ", before the batch sent (" + std::to_string(sent_.front().seq) + ".." +
                 std::to_string(sent_.back().seq) + "); records kept");
  }
  failures_ = 0;
  acked_ = receipt->last_seq;
  Action a;
  a.step = Step::kAcknowledge;
  a.what = "push";
  a.receipt = std::move(*receipt);
  a.receipt_bytes = answer.body;
  return a;
}

Action Client::AfterSurveys(const Answer& answer) {
  if (answer.status != 200) return Refuse(answer.status, DescribeError(answer.status, answer.body));
  Result<std::vector<BundleRef>> bundles = ReadBundles(answer.body);
  if (!bundles.ok()) return Retry(bundles.status().message());
  failures_ = 0;
  phase_ = Phase::kDone;
  Action a;
  a.step = Step::kBundles;
  a.what = "surveys";
  a.bundles = std::move(*bundles);
  return a;
}

Action Client::Retry(std::string message) {
  Action a;
  a.step = Step::kRetry;
  a.what = phase_ == Phase::kEnroll ? "enroll" : phase_ == Phase::kPush ? "push" : "surveys";
  failures_ = std::min(failures_ + 1, kMaxRetryDoublings);
  const double base = static_cast<double>(std::min(kMaxRetryMs, kFirstRetryMs << failures_));
  a.delay_ms = static_cast<std::int64_t>(base * (0.5 + NextUnit(&random_)));
  a.message = std::move(message);
  phase_ = Phase::kDone;
  return a;
}

Action Client::Refuse(int status, std::string message) {
  Action a;
  a.step = Step::kRefused;
  a.what = phase_ == Phase::kEnroll ? "enroll" : phase_ == Phase::kPush ? "push" : "surveys";
  a.status = status;
  a.message = std::move(message);
  phase_ = Phase::kDone;
  return a;
}

}  // namespace canvass::sync
