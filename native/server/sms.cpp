// The SMS channel (the seeds' "answer with one digit" survey): an SMS gateway posts inbound
// messages; a reply of 0-10 becomes an NPS record with channel "sms", signed by a server-side
// gateway device so that it passes through the same log, chain checks and metrics as every other
// record. The sender's number is kept only as the pseudonymous customer key.
//
// Rule for the text (docs/protocol.md): the first word must be a whole number 0..10 — that is the
// score; any words after it become the answer to the survey's first text question (if it has one).
// A reply that does not start with 0..10 is not recorded (answered 200 with "ignored" and why):
// without a score there is nothing to count, and guessing would miscount.
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

#include "api.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "canvass/survey.h"

namespace canvass::server {
namespace {

constexpr char kGatewayDevice[] = "dev-sms-gateway";

std::string Trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Digits only (and a leading +), so that "+380 67 123-45-67" and "+380671234567" are one customer.
std::string NormalizePhone(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '+' && out.empty())) out += c;
  }
  return out;
}

std::string Json(const std::string& status, const std::string& detail) {
  return "{\"status\":" + JsonQuote(status) + ",\"detail\":" + JsonQuote(detail) + "}";
}

}  // namespace

HttpResponse Api::SmsInbound(const HttpRequest& r) {
  HttpResponse out;
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    CountRefused("sms");
    return ErrorResponse(status, code, message);
  };
  if (options_.sms_secret.empty()) {
    return fail(404, "not_found", "the SMS channel is off; start the server with --sms-secret");
  }
  auto secret = r.headers.find("x-canvass-sms-secret");
  if (secret == r.headers.end() || !ConstantTimeEqual(secret->second, options_.sms_secret)) {
    return fail(401, "unauthenticated", "wrong or missing X-Canvass-Sms-Secret header");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(r.body.data(), r.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("from") || !doc["from"].IsString() ||
      !doc.HasMember("text") || !doc["text"].IsString()) {
    return fail(400, "invalid_argument",
                "the body must be {\"from\": \"+380...\", \"text\": \"9\"}");
  }
  const std::string phone = NormalizePhone(doc["from"].GetString());
  const std::string text =
      Trim(std::string(doc["text"].GetString(), doc["text"].GetStringLength()));
  if (phone.size() < 5) return fail(400, "invalid_argument", "from: not a phone number");
  if (text.size() > 1000) return fail(413, "too_large", "text: over 1000 bytes");

  // The score: the first word (up to white space), without trailing , . ! ; : — a whole
  // number 0..10. "10/10" or "9-10" are not scores.
  std::size_t word_end = text.find_first_of(" \t\r\n");
  std::string word = text.substr(0, word_end);
  while (!word.empty() && std::string(",.!;:").find(word.back()) != std::string::npos)
    word.pop_back();
  const bool digits =
      !word.empty() && word.size() <= 2 && std::all_of(word.begin(), word.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      });
  if (!digits || std::stoi(word) > 10) {
    out.body = Json("ignored", "the reply does not start with a score 0..10");
    return out;
  }
  const int score = std::stoi(word);
  std::string rest = word_end == std::string::npos ? "" : Trim(text.substr(word_end));

  // The survey: --sms-survey, latest published version.
  Result<std::vector<SurveyRow>> surveys = store_->ListSurveys();
  if (!surveys.ok()) return StatusResponse(surveys.status());
  const SurveyRow* row = nullptr;
  for (const SurveyRow& s : *surveys) {
    if (s.survey_id == options_.sms_survey) row = &s;
  }
  if (!row) {
    return fail(503, "unavailable",
                "survey '" + options_.sms_survey + "' (--sms-survey) is not published");
  }
  Result<Survey> survey = ParseSurvey(row->definition);
  if (!survey.ok()) return fail(500, "internal", survey.status().message());
  const Question* nps = nullptr;
  const Question* reason = nullptr;
  for (const Question& q : survey->questions) {
    if (!nps && q.kind == QuestionKind::kNps) nps = &q;
    if (!reason && q.kind == QuestionKind::kText) reason = &q;
  }
  if (!nps) return fail(503, "unavailable", "survey '" + survey->id + "' has no NPS question");

  ResponseRecord draft;
  draft.survey_id = survey->id;
  draft.survey_version = row->version;
  draft.device_id = kGatewayDevice;
  draft.device_time_ms = now_ms_();
  draft.outcome = Outcome::kCompleted;
  draft.answers[nps->id] = ScaleAnswer{score};
  if (reason && !rest.empty())
    draft.answers[reason->id] = TextAnswer{rest.substr(0, reason->max_length)};
  draft.tags = {{"channel", "sms"}, {"location", "sms"}};
  draft.customer_key = CustomerKey(keys_.customer, phone);

  const SigningKey gateway = SigningKey::FromSeed(keys_.sms_gateway);
  std::lock_guard lock(sms_mu_);
  // The gateway is an ordinary device in the store, enrolled on first use.
  Result<std::optional<DeviceRow>> device = store_->FindDevice(kGatewayDevice);
  if (!device.ok()) return StatusResponse(device.status());
  if (!*device) {
    DeviceRow d;
    d.device_id = kGatewayDevice;
    d.location = "sms";
    d.channel = "sms";
    d.public_key = gateway.public_key();
    d.enrolled_ms = draft.device_time_ms;
    DeviceCertificate cert{d.device_id,  d.location,    d.channel,
                           d.public_key, d.enrolled_ms, d.enrolled_ms + 3650LL * 86400000,
                           false};
    d.certificate =
        EncodeSignedMessage(SignMessage(kDeviceDomain, EncodeCertificate(cert), keys_.sign));
    Status s = store_->AddDevice(d);
    if (!s.ok()) {
      device = store_->FindDevice(kGatewayDevice);  // another server instance may have added it
      if (!device.ok() || !*device) return StatusResponse(s.ok() ? device.status() : s);
    } else {
      device = std::optional<DeviceRow>(d);
    }
  }
  // Another server sharing the database may append to the gateway's chain at the same moment:
  // then the store answers "fork" without storing, and we sign again after the new head.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Result<std::optional<DeviceRow>> fresh = store_->FindDevice(kGatewayDevice);
    if (!fresh.ok()) return StatusResponse(fresh.status());
    if (!*fresh) return fail(500, "internal", "the SMS gateway device vanished from the store");
    Result<LogEntry> entry = SignNext((*fresh)->head, draft, gateway);
    if (!entry.ok()) return fail(500, "internal", entry.status().message());
    VerifiedRecord rec{entry->seq, entry->hash, (*fresh)->head.hash, entry->envelope};
    Result<AppendResult> appended =
        store_->AppendRecords(kGatewayDevice, {rec}, draft.device_time_ms);
    if (!appended.ok()) return StatusResponse(appended.status());
    if (appended->verdict == AppendResult::Verdict::kStored) {
      accepted_ += appended->stored;
      out.body = Json("recorded",
                      "score " + std::to_string(score) + " as seq " + std::to_string(entry->seq));
      return out;
    }
  }
  return fail(503, "unavailable", "the SMS gateway's log is busy; the gateway should retry");
}

}  // namespace canvass::server
