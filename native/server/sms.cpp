// The SMS channel (the seeds' "answer with one digit" survey): an SMS gateway posts inbound
// messages; a reply that starts with a score 0..10 becomes an NPS record with channel "sms",
// signed by a server-side gateway device so that it passes through the same log, chain checks and
// metrics as every other record. The sender's number is normalised to E.164 (libphonenumber) and
// kept only as the pseudonymous customer key.
//
// The rule for the text, the gateway forms, the idempotency and the limits are in
// docs/protocol.md ("POST /v1/channels/sms"), with a table of examples that
// tests/server/sms.test.mjs checks row by row. In short: the text must start with a whole number
// 0..10, optionally written "N/10"; then separators (spaces and , . ! ? ; : - – — ) are skipped and
// the rest is the reason. A reply that does not start so, or whose score runs on into another
// number ("9.5", "7/8", "3-4"), is answered 200 "ignored" and stores nothing: without a score
// there is nothing to count, and guessing would miscount.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <phonenumbers/phonenumberutil.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "api.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "canvass/survey.h"
#include "published.h"

namespace canvass::server {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr char kGatewayDevice[] = "dev-sms-gateway";
constexpr std::size_t kMaxBody = 16 * 1024;  // a gateway's post: the text and a few fields
constexpr std::size_t kMaxText = 2000;       // bytes: a long concatenated SMS (10 parts)
constexpr std::size_t kMaxMessageId = 128;
// Without a message id, the same text from the same number is one message within this window.
constexpr std::int64_t kRetryWindowMs = 60 * 60 * 1000;

std::string Trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string Json(const std::string& status, const std::string& detail) {
  return "{\"status\":" + JsonQuote(status) + ",\"detail\":" + JsonQuote(detail) + "}";
}

// The first `max_chars` characters of UTF-8 `text` (never half a character).
std::string CutUtf8(const std::string& text, std::size_t max_chars, std::size_t* chars) {
  std::size_t n = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (n == max_chars) break;
      ++n;
    }
  }
  std::size_t total = n;
  for (std::size_t j = i; j < text.size(); ++j) {
    if ((static_cast<unsigned char>(text[j]) & 0xC0) != 0x80) ++total;
  }
  *chars = total;
  return text.substr(0, i);
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte. Keys in order, repeats kept.
std::string FormDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseForm(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    std::string_view pair(body.data() + start, end - start);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      out.emplace_back(FormDecode(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

// Twilio's request signature: base64(HMAC-SHA1(secret, URL + every POST parameter, sorted by
// name, as name + value)).
std::string TwilioSignature(const std::string& secret, const std::string& url,
                            std::vector<std::pair<std::string, std::string>> params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data = url;
  for (const auto& [k, v] : params) data += k + v;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_length);
  std::string b64(4 * ((mac_length + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac,
                                static_cast<int>(mac_length));
  b64.resize(static_cast<std::size_t>(n));
  return b64;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The parse rule of docs/protocol.md. Returns the score, or nullopt with *why set; *rest is the
// reason (possibly empty).
std::optional<int> ParseReply(const std::string& text, std::string* rest, std::string* why) {
  std::size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == 0) {
    *why = "the reply does not start with a score 0..10";
    return std::nullopt;
  }
  if (i > 2 || std::stoi(text.substr(0, i)) > 10) {
    *why = "the reply starts with " + text.substr(0, i) + ", not a score 0..10";
    return std::nullopt;
  }
  const int score = std::stoi(text.substr(0, i));
  // "9/10", "9 / 10": the scale said out loud.
  std::size_t j = i;
  while (j < text.size() && text[j] == ' ') ++j;
  if (j < text.size() && text[j] == '/') {
    ++j;
    while (j < text.size() && text[j] == ' ') ++j;
    if (text.compare(j, 2, "10") == 0 && (j + 2 == text.size() || !IsDigit(text[j + 2]))) {
      i = j + 2;
    } else {
      *why = "the reply starts with a fraction other than N/10";
      return std::nullopt;
    }
  }
  // Separators between the score and the reason.
  static const char* const kSeparators[] = {
      " ", "\t", "\r", "\n",           ",",           ".", "!", "?", ";",
      ":", "-",  ")",  "\xE2\x80\x93", "\xE2\x80\x94"};
  bool moved = true;
  std::size_t k = i;
  while (moved && k < text.size()) {
    moved = false;
    for (const char* sep : kSeparators) {
      const std::size_t n = std::char_traits<char>::length(sep);
      if (text.compare(k, n, sep) == 0) {
        k += n;
        moved = true;
        break;
      }
    }
  }
  if (k < text.size() && (IsDigit(text[k]) || k == i)) {
    *why = IsDigit(text[k]) ? "the score runs on into another number (\"9.5\", \"3-4\", \"9 10\"): "
                              "which one is meant is a guess"
                            : "the score runs on into a word (\"9am\"): not a score";
    return std::nullopt;
  }
  *rest = Trim(text.substr(k));
  return score;
}

}  // namespace

Status CheckSmsRegion(const std::string& region) {
  PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util->GetSupportedRegions(&regions);
  if (!regions.count(region)) {
    return Status::InvalidArgument("--sms-region: '" + region +
                                   "' is not a region code libphonenumber knows; use the two "
                                   "capital letters of ISO 3166, e.g. UA, PL, DE, US");
  }
  return Status::Ok();
}

struct Api::SmsTarget {
  SurveyRow row;
  Survey survey;
  const Question* nps = nullptr;
  const Question* reason = nullptr;
};

Result<Api::SmsTarget> Api::FindSmsTarget() {
  Result<std::vector<SurveyRow>> surveys = store_->ListSurveys();
  if (!surveys.ok()) return surveys.status();
  const SurveyRow* row = LatestVersion(*surveys, options_.sms_survey);
  if (!row) {
    return Status::Unavailable("survey '" + options_.sms_survey +
                               "' (--sms-survey) is not published; publish it (--publish FILE or "
                               "canvass admin publish) or name a published survey");
  }
  Result<Survey> survey = ParseSurvey(row->definition);
  if (!survey.ok()) return survey.status();
  SmsTarget t{*row, std::move(*survey)};
  for (const Question& q : t.survey.questions) {
    if (!t.nps && q.kind == QuestionKind::kNps) t.nps = &q;
    if (!t.reason && q.kind == QuestionKind::kText) t.reason = &q;
  }
  if (!t.nps) {
    return Status::Unavailable("survey '" + t.survey.id +
                               "' (--sms-survey) has no NPS question, so an SMS score has "
                               "nothing to answer; name a survey with a question of kind nps");
  }
  return t;
}

Status Api::CheckSmsChannel() {
  if (options_.sms_secret.empty()) return Status::Ok();
  Result<SmsTarget> t = FindSmsTarget();
  return t.ok() ? Status::Ok() : t.status();
}

HttpResponse Api::SmsInbound(const HttpRequest& r) {
  HttpResponse out;
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    CountRefused("sms");
    return ErrorResponse(status, code, message);
  };
  if (options_.sms_secret.empty()) {
    return fail(404, "not_found",
                "the SMS channel is off; start the server with --sms-survey ID and "
                "CANVASS_SMS_SECRET in its environment");
  }
  if (r.body.size() > kMaxBody) {
    return fail(413, "too_large",
                "the body is over " + std::to_string(kMaxBody / 1024) +
                    " KiB; an SMS gateway's post is far smaller");
  }
  // The two forms: JSON {"from", "text", "message_id"} with X-Canvass-Sms-Secret, and the
  // form post of Twilio-style gateways (From, Body, MessageSid), signed or with the header.
  auto content_type = r.headers.find("content-type");
  const bool form = content_type != r.headers.end() &&
                    content_type->second.rfind("application/x-www-form-urlencoded", 0) == 0;
  auto secret = r.headers.find("x-canvass-sms-secret");
  auto signature = r.headers.find("x-twilio-signature");
  std::string from, raw_text, message_id;
  if (form) {
    std::vector<std::pair<std::string, std::string>> params = ParseForm(r.body);
    if (signature != r.headers.end()) {
      std::vector<std::string> urls;
      if (!options_.sms_url.empty()) {
        urls.push_back(options_.sms_url);
      } else if (auto host = r.headers.find("host"); host != r.headers.end()) {
        urls = {"https://" + host->second + r.path, "http://" + host->second + r.path};
      }
      bool good = false;
      for (const std::string& url : urls) {
        good = good || ConstantTimeEqual(TwilioSignature(options_.sms_secret, url, params),
                                         signature->second);
      }
      if (!good) {
        return fail(401, "unauthenticated",
                    "X-Twilio-Signature does not match: the gateway must sign with the secret in "
                    "CANVASS_SMS_SECRET (Twilio: the account's auth token) over the URL it posts "
                    "to; behind a proxy that changes the URL, set CANVASS_SMS_URL to it");
      }
    } else if (secret == r.headers.end() ||
               !ConstantTimeEqual(secret->second, options_.sms_secret)) {
      return fail(401, "unauthenticated",
                  "a form post needs X-Twilio-Signature or the X-Canvass-Sms-Secret header");
    }
    for (const auto& [k, v] : params) {
      if (k == "From") from = v;
      if (k == "Body") raw_text = v;
      if (k == "MessageSid" || (message_id.empty() && (k == "SmsMessageSid" || k == "SmsSid")))
        message_id = v;
    }
    if (from.empty() || std::none_of(params.begin(), params.end(),
                                     [](const auto& p) { return p.first == "Body"; })) {
      return fail(400, "invalid_argument",
                  "the form post must have From and Body (and MessageSid)");
    }
  } else {
    if (secret == r.headers.end() || !ConstantTimeEqual(secret->second, options_.sms_secret)) {
      return fail(401, "unauthenticated", "wrong or missing X-Canvass-Sms-Secret header");
    }
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(r.body.data(), r.body.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("from") ||
        !doc["from"].IsString() || !doc.HasMember("text") || !doc["text"].IsString() ||
        (doc.HasMember("message_id") && !doc["message_id"].IsString())) {
      return fail(400, "invalid_argument",
                  "the body must be {\"from\": \"+380...\", \"text\": \"9\", \"message_id\": "
                  "\"...\"} (message_id recommended), or a form post with From, Body, MessageSid");
    }
    from = doc["from"].GetString();
    raw_text.assign(doc["text"].GetString(), doc["text"].GetStringLength());
    if (doc.HasMember("message_id")) message_id = doc["message_id"].GetString();
  }
  if (message_id.size() > kMaxMessageId ||
      std::any_of(message_id.begin(), message_id.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e;
      })) {
    return fail(400, "invalid_argument",
                "message id: up to " + std::to_string(kMaxMessageId) +
                    " printable ASCII characters without spaces");
  }
  if (raw_text.size() > kMaxText) {
    return fail(413, "too_large",
                "text: " + std::to_string(raw_text.size()) + " bytes, over the " +
                    std::to_string(kMaxText) + " an SMS reply may have");
  }

  // The number, in E.164, before the customer key is derived: one customer, however written.
  PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util->Parse(from, options_.sms_region, &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !util->IsPossibleNumber(number)) {
    return fail(400, "invalid_argument",
                "from: not a phone number (read with the default region " + options_.sms_region +
                    ", --sms-region)");
  }
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);

  const std::string text = Trim(raw_text);
  std::string rest, why;
  std::optional<int> score = ParseReply(text, &rest, &why);
  if (!score) {
    out.body = Json("ignored", why + "; nothing stored");
    return out;
  }

  Result<SmsTarget> target = FindSmsTarget();
  if (!target.ok()) {
    return target.status().code() == StatusCode::kUnavailable
               ? fail(503, "unavailable", target.status().message())
               : fail(500, "internal", target.status().message());
  }

  ResponseRecord draft;
  draft.survey_id = target->survey.id;
  draft.survey_version = target->row.version;
  draft.device_id = kGatewayDevice;
  draft.device_time_ms = now_ms_();
  draft.outcome = Outcome::kCompleted;
  draft.answers[target->nps->id] = ScaleAnswer{*score};
  draft.tags = {{"channel", "sms"}, {"location", "sms"}};
  std::string detail = "score " + std::to_string(*score);
  if (!rest.empty() && target->reason) {
    std::size_t chars = 0;
    std::string kept = CutUtf8(rest, target->reason->max_length, &chars);
    if (kept.size() < rest.size()) {
      // Never a silent cut: the record says how long the reason was.
      draft.tags["text_cut"] = std::to_string(chars);
      detail += ", reason cut to " + std::to_string(target->reason->max_length) + " of " +
                std::to_string(chars) + " characters (tag text_cut)";
    }
    draft.answers[target->reason->id] = TextAnswer{kept};
  } else if (!rest.empty()) {
    draft.tags["text_dropped"] = "no_text_question";
    detail += ", the words after it dropped: survey '" + target->survey.id +
              "' has no text question (tag text_dropped)";
  }
  draft.customer_key = CustomerKey(keys_.customer, e164);
  InboundMessage message{"sms", message_id, 0};
  if (message_id.empty()) {
    // No id from the gateway: the same text from the same number is one message for an hour.
    // Keyed by the customer key, so the stored id reveals no number.
    message.message_id = "auto:" + ToHex(Blake2b256(draft.customer_key + "\n" + text));
    message.window_ms = kRetryWindowMs;
  }

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
    Result<InboundAppend> appended =
        store_->AppendInbound(message, kGatewayDevice, rec, draft.device_time_ms);
    if (!appended.ok()) return StatusResponse(appended.status());
    if (appended->duplicate) {
      out.body = Json("duplicate",
                      (message_id.empty() ? "the same text from the same number within the hour"
                                          : "message " + message_id) +
                          " was stored before as seq " + std::to_string(appended->seq) +
                          "; nothing new stored");
      return out;
    }
    if (appended->append.verdict == AppendResult::Verdict::kStored) {
      accepted_ += appended->append.stored;
      out.body = Json("recorded", detail + " as seq " + std::to_string(entry->seq));
      return out;
    }
  }
  return fail(503, "unavailable", "the SMS gateway's log is busy; the gateway should retry");
}

}  // namespace canvass::server
