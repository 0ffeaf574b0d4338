// Devices in the API (docs/protocol.md): enrollment (with a code, or through the public web
// channel), the survey bundles a device fetches, the revocation list, and the admin's side:
// enrollment codes, the device list, revoking, and the quarantine of forked batches.
#include <algorithm>

#include "api.h"
#include "canvass/messages.h"
#include "published.h"

namespace canvass::server {
namespace {

using Json = JsonWriter;

// Enrollment codes: 16 characters of Crockford's base32 (80 bits), in groups of four.
std::string NewEnrollCode() {
  static const char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::uint8_t raw[16];
  RandomBytes(raw, sizeof raw);
  std::string code;
  for (int i = 0; i < 16; ++i) {
    if (i && i % 4 == 0) code += '-';
    code += kAlphabet[raw[i] & 31];
  }
  return code;
}

// Upper case, without separators: what a person types is what the code means.
std::string NormalizeCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  }
  return out;
}

// The latest published version of each survey that applies to `location`, by survey id.
Result<std::map<std::string, SurveyRow>> LatestBundles(ServerStore* store,
                                                       const std::string& location) {
  Result<std::vector<SurveyRow>> all = store->ListSurveys();
  if (!all.ok()) return all.status();
  std::map<std::string, SurveyRow> latest;
  for (const auto& [id, row] :
       LatestVersions(*all, [&](const SurveyRow& row) { return PublishedFor(row, location); })) {
    latest.emplace(id, *row);
  }
  return latest;
}

// "bundles": [{"survey_id", "version", "bundle" (hex of the SignedMessage)}], as /v1/surveys and
// the enrollment answers give them.
void WriteBundles(Json& w, const std::map<std::string, SurveyRow>& latest) {
  w.Key("bundles");
  w.StartArray();
  for (const auto& [id, s] : latest) {
    w.StartObject();
    w.Key("survey_id");
    WriteString(w, id);
    w.Key("version");
    WriteString(w, ToHex(s.version));
    w.Key("bundle");
    WriteString(w, ToHex(s.bundle));
    w.EndObject();
  }
  w.EndArray();
}

// Device lists come in pages of device ids: `after` (exclusive) and `limit`; an answer that may
// have more says where to go on ("next").
constexpr std::uint32_t kDevicePage = 1000;
constexpr std::uint32_t kMaxDevicePage = 10000;

// A page of devices (`revoked_only`: the revoked ones) as {"<key>": [one object per device, its
// members written by `fields`], "next": the last device id, on a full page only}.
HttpResponse DevicePageResponse(ServerStore* store, const HttpRequest& r, bool revoked_only,
                                const char* key,
                                const std::function<void(Json&, const DeviceRow&)>& fields) {
  Result<std::uint32_t> limit = ListLimit(r, kDevicePage, kMaxDevicePage);
  if (!limit.ok()) return StatusResponse(limit.status());
  auto after = r.query.find("after");
  Result<std::vector<DeviceRow>> rows =
      store->ListDevices(after == r.query.end() ? "" : after->second, *limit, revoked_only);
  if (!rows.ok()) return StatusResponse(rows.status());
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key(key);
    w.StartArray();
    for (const DeviceRow& d : *rows) {
      w.StartObject();
      fields(w, d);
      w.EndObject();
    }
    w.EndArray();
    if (rows->size() == *limit) {
      w.Key("next");
      WriteString(w, rows->back().device_id);
    }
    w.EndObject();
  });
}

// The organisation's public keys and the bundles, as the enrollment answers and
// /v1/web/surveys give them.
void WriteKeysAndBundles(Json& w, const OrgKeys& keys,
                         const std::map<std::string, SurveyRow>& bundles) {
  w.Key("org_sign_key");
  WriteString(w, ToHex(keys.sign.public_key()));
  w.Key("org_box_key");
  WriteString(w, ToHex(keys.box.public_key()));
  WriteBundles(w, bundles);
}

}  // namespace

std::optional<HttpResponse> Api::WebChannelGate(const HttpRequest& r, std::string* origin_out) {
  auto it = r.headers.find("origin");
  const std::string origin = it == r.headers.end() ? "" : it->second;
  *origin_out = origin;
  if (std::find(options_.web_origins.begin(), options_.web_origins.end(), origin) ==
      options_.web_origins.end()) {
    CountRefused("origin");
    return ErrorResponse(403, "forbidden",
                         "origin '" + origin +
                             "' is not allowed to use the web channel; an admin adds it with "
                             "canvass-server --web-origin");
  }
  if (r.method == "OPTIONS") {  // CORS preflight
    HttpResponse ok;
    ok.status = 204;
    ok.headers = {{"Access-Control-Allow-Origin", origin},
                  {"Access-Control-Allow-Methods", "POST"},
                  {"Access-Control-Allow-Headers", "Content-Type"},
                  {"Vary", "Origin"}};
    return ok;
  }
  return std::nullopt;
}

HttpResponse Api::Enroll(const HttpRequest& r, bool web) {
  const std::int64_t now = now_ms_();
  std::string origin;
  if (web) {
    if (std::optional<HttpResponse> gate = WebChannelGate(r, &origin)) return std::move(*gate);
    if (!web_enroll_limit_.Allow(r.remote_address, now)) {
      CountRefused("rate_limit");
      return ErrorResponse(429, "rate_limited",
                           "too many web enrollments from this address; retry in a minute");
    }
  }
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  auto protocol = doc->FindMember("protocol");
  if (protocol != doc->MemberEnd() &&
      (!protocol->value.IsUint() || protocol->value.GetUint() != kProtocolVersion)) {
    return ErrorResponse(400, "invalid_argument",
                         "wrong protocol version (this server speaks protocol " +
                             std::to_string(kProtocolVersion) + ")");
  }
  Result<PublicKey> key = ArrayFromHex<32>(StringField(*doc, "public_key"));
  if (!key.ok()) {
    return ErrorResponse(400, "invalid_argument", "public_key: " + key.status().message());
  }
  auto make_device = [&](const std::string& location, const std::string& channel) {
    DeviceRow d;
    d.device_id = "dev-" + RandomHex(6);
    d.location = location;
    d.channel = channel;
    d.public_key = *key;
    d.web = web;
    d.enrolled_ms = now;
    DeviceCertificate cert{
        d.device_id, location, channel, *key, now, now + options_.certificate_days * 86400000, web};
    d.certificate =
        EncodeSignedMessage(SignMessage(kDeviceDomain, EncodeCertificate(cert), keys_.sign));
    return d;
  };
  Result<DeviceRow> device = Status::InvalidArgument("unset");
  if (web) {
    DeviceRow d = make_device(options_.web_location, "web");
    Status s = store_->AddDevice(d);
    device = s.ok() ? Result<DeviceRow>(d) : Result<DeviceRow>(s);
  } else {
    std::string code = NormalizeCode(StringField(*doc, "code"));
    if (code.empty())
      return ErrorResponse(400, "invalid_argument", "code: the enrollment code is missing");
    device = store_->Enroll(Blake2b256(code), now, [&](const EnrollCodeRow& c) {
      return make_device(c.location, c.channel);
    });
  }
  if (!device.ok()) {
    CountRefused("enroll");
    return StatusResponse(device.status());
  }
  // The survey bundles for the device's location come with the certificate (DESIGN §4), which
  // saves a new device a round trip before its first question.
  Result<std::map<std::string, SurveyRow>> bundles = LatestBundles(store_, device->location);
  if (!bundles.ok()) return StatusResponse(bundles.status());
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("device_id");
    WriteString(w, device->device_id);
    w.Key("location");
    WriteString(w, device->location);
    w.Key("channel");
    WriteString(w, device->channel);
    w.Key("certificate");
    WriteString(w, ToHex(device->certificate));
    WriteKeysAndBundles(w, keys_, *bundles);
    w.EndObject();
  });
  if (web) out.headers = {{"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}};
  return out;
}

// The web channel's survey bundles and the organisation keys, before (and without) enrolling: a
// website's widget shows its first question from them while its enrollment completes behind it
// (docs/widget.md, Taking out the waiting). The same allow-list of origins as web enrollment;
// nothing is written, so no rate limit. POST, so that the browser always sends Origin.
HttpResponse Api::WebSurveys(const HttpRequest& r) {
  std::string origin;
  if (std::optional<HttpResponse> gate = WebChannelGate(r, &origin)) return std::move(*gate);
  Result<std::map<std::string, SurveyRow>> bundles = LatestBundles(store_, options_.web_location);
  if (!bundles.ok()) return StatusResponse(bundles.status());
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("location");
    WriteString(w, options_.web_location);
    w.Key("channel");
    WriteString(w, "web");
    WriteKeysAndBundles(w, keys_, *bundles);
    w.EndObject();
  });
  out.headers = {
      {"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}, {"Cache-Control", "no-store"}};
  return out;
}

HttpResponse Api::Surveys(const HttpRequest& r) {
  auto it = r.query.find("device");
  if (it == r.query.end())
    return ErrorResponse(400, "invalid_argument", "device: query parameter missing");
  Result<std::optional<DeviceRow>> device = store_->FindDevice(it->second);
  if (!device.ok()) return StatusResponse(device.status());
  if (!*device)
    return ErrorResponse(401, "unauthenticated",
                         "unknown device '" + it->second + "'; enroll it first");
  if ((*device)->revoked_ms)
    return ErrorResponse(403, "forbidden", "device '" + it->second + "' is revoked");
  Result<std::map<std::string, SurveyRow>> latest = LatestBundles(store_, (*device)->location);
  if (!latest.ok()) return StatusResponse(latest.status());
  std::string versions;
  for (const auto& [id, s] : *latest) versions += id + ToHex(s.version);
  std::string etag = "\"" + ToHex(Blake2b256(versions)).substr(0, 32) + "\"";
  auto inm = r.headers.find("if-none-match");
  if (inm != r.headers.end() && inm->second == etag) {
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.headers = {{"ETag", etag}};
    return not_modified;
  }
  HttpResponse out = JsonResponse(200, [&](Json& w) {
    w.StartObject();
    WriteBundles(w, *latest);
    w.EndObject();
  });
  out.headers = {{"ETag", etag}};
  return out;
}

HttpResponse Api::Revocations(const HttpRequest& r) {
  return DevicePageResponse(store_, r, /*revoked_only=*/true, "revoked",
                            [](Json& w, const DeviceRow& d) {
                              w.Key("device_id");
                              WriteString(w, d.device_id);
                              w.Key("revoked_ms");
                              w.Int64(*d.revoked_ms);
                            });
}

HttpResponse Api::AddEnrollCode(const AdminCall& call) {
  const std::int64_t now = now_ms_();
  const HttpRequest& r = call.request;
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  std::string location = StringField(*doc, "location");
  std::string channel = StringField(*doc, "channel");
  if (channel.empty()) channel = "kiosk";
  if (location.empty() || location.size() > kMaxIdLength) {
    return ErrorResponse(400, "invalid_argument", "location: name the location the device serves");
  }
  std::int64_t ttl_hours = 24;
  if (auto t = doc->FindMember("ttl_hours"); t != doc->MemberEnd()) {
    if (!t->value.IsInt64() || t->value.GetInt64() < 0 || t->value.GetInt64() > 24 * 365) {
      return ErrorResponse(400, "invalid_argument",
                           "ttl_hours: a whole number of hours, 0 to 8760");
    }
    ttl_hours = t->value.GetInt64();
  }
  std::string code = NewEnrollCode();
  EnrollCodeRow row{Blake2b256(NormalizeCode(code)), location, channel, now + ttl_hours * 3600000};
  Status s = store_->AddEnrollCode(row);
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(201, [&](Json& w) {
    w.StartObject();
    w.Key("code");
    WriteString(w, code);
    w.Key("expires_ms");
    w.Int64(row.expires_ms);
    w.EndObject();
  });
}

HttpResponse Api::ListDevices(const AdminCall& call) {
  return DevicePageResponse(store_, call.request, /*revoked_only=*/false, "devices",
                            [](Json& w, const DeviceRow& d) {
                              w.Key("device_id");
                              WriteString(w, d.device_id);
                              w.Key("location");
                              WriteString(w, d.location);
                              w.Key("channel");
                              WriteString(w, d.channel);
                              w.Key("web");
                              w.Bool(d.web);
                              w.Key("revoked");
                              w.Bool(d.revoked_ms.has_value());
                              w.Key("last_seq");
                              w.Uint64(d.head.seq);
                              w.Key("enrolled_ms");
                              w.Int64(d.enrolled_ms);
                            });
}

HttpResponse Api::RevokeDevice(const AdminCall& call) {
  Status s = store_->RevokeDevice(call.params[0], now_ms_());
  if (!s.ok()) return StatusResponse(s);
  return NoContent();
}

HttpResponse Api::ListQuarantine(const AdminCall&) {
  Result<std::vector<QuarantineRow>> rows = store_->ListQuarantine(1000);
  if (!rows.ok()) return StatusResponse(rows.status());
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("quarantine");
    w.StartArray();
    for (const QuarantineRow& q : *rows) {
      w.StartObject();
      w.Key("device_id");
      WriteString(w, q.device_id);
      w.Key("seq");
      w.Uint64(q.seq);
      w.Key("reason");
      WriteString(w, q.reason);
      w.Key("received_ms");
      w.Int64(q.received_ms);
      w.Key("envelope");
      WriteString(w, ToHex(q.envelope));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

}  // namespace canvass::server
