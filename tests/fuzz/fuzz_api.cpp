// The HTTP handlers of canvass-server (native/server/api.h) on untrusted requests: body parsing
// and validation of the device protocol (enrollment, web enrollment, surveys, record batches,
// revocations) and of the admin API, without the socket. Each input is a short sequence of
// requests against a fresh in-memory SQLite store that holds one enrolled device, one unused
// enrollment code, an admin token and a published survey, so that requests can succeed and
// change state (a push followed by an export, a revoke followed by a push, ...).
//
// Input format (tests/fuzz/make_corpus.cpp writes seeds in it), up to 8 requests:
//   u8 flags   bit 0: Authorization: Bearer <admin token>
//              bit 1: Origin: <the allowed web origin>
//              bit 2: re-sign each record of a /v1/records body with the enrolled device's key,
//                     so that mutated records get past the signature check into the store
//              bit 3: If-None-Match: <the last ETag answered>
//   "METHOD TARGET\n"   TARGET is PATH[?k=v&k=v]
//   u16 body length (little endian), then the body (cut short at the end of the input)
//
// Properties: every answer has a status of docs/protocol.md and never 500 (the store is in
// memory, so an internal error is a bug); every error answer is JSON with "error" and a
// non-empty "message"; JSON answers parse; a 200 to /v1/records carries a receipt signed by the
// organisation key for that device, and sending the same request again gets the identical
// answer (idempotent replay, DESIGN.md §5).
#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <set>

#include "api.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "fuzz_support.h"
#include "store.h"

namespace canvass::fuzz {

namespace {

using namespace canvass;
using namespace canvass::server;

constexpr char kDeviceId[] = "dev-kiosk-01";  // the device of tests/golden/vectors.txt chains
constexpr char kAdminToken[] = "fuzz-admin-token";
constexpr char kWebOrigin[] = "https://shop.example";
constexpr std::int64_t kStartMs = 1795000000000;

Seed FixedSeed(std::uint8_t start) {
  Seed s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(start + i);
  return s;
}

struct Fixture {
  OrgKeys keys{SigningKey::FromSeed(FixedSeed(1)), BoxKey::FromSeed(FixedSeed(2)), FixedSeed(3)};
  SigningKey device = SigningKey::FromSeed(FixedSeed(4));
  SurveyRow restaurant;  // published once at start-up, inserted into every fresh store
};
Fixture* fixture = nullptr;

struct Request {
  std::uint8_t flags = 0;
  HttpRequest http;
};

// Splits the input into requests (see the file comment).
std::vector<Request> ParseRequests(std::string_view in) {
  std::vector<Request> out;
  while (!in.empty() && out.size() < 8) {
    Request r;
    r.flags = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    std::size_t nl = in.find('\n');
    if (nl == std::string_view::npos || nl > 512) break;
    std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl + 1);
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) break;
    r.http.method = std::string(line.substr(0, space));
    std::string_view target = line.substr(space + 1);
    std::size_t q = target.find('?');
    r.http.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      std::string_view query = target.substr(q + 1);
      while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        std::size_t eq = kv.find('=');
        r.http.query.emplace(std::string(kv.substr(0, eq)), eq == std::string_view::npos
                                                                ? std::string()
                                                                : std::string(kv.substr(eq + 1)));
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      }
    }
    std::size_t length = 0;
    if (in.size() >= 2) {
      length = static_cast<std::uint8_t>(in[0]) | (static_cast<std::uint8_t>(in[1]) << 8);
      in.remove_prefix(2);
    } else {
      in = {};
    }
    length = std::min(length, in.size());
    r.http.body = std::string(in.substr(0, length));
    in.remove_prefix(length);
    r.http.remote_address = "192.0.2.7";
    out.push_back(std::move(r));
  }
  return out;
}

// Re-signs every decodable envelope of a batch body with the enrolled device's key.
std::string Resign(const std::string& body) {
  Result<RecordBatch> batch = DecodeBatch(body);
  if (!batch.ok()) return body;
  for (std::string& e : batch->envelopes) {
    Result<SignedRecord> envelope = DecodeSignedRecord(e);
    if (!envelope.ok()) continue;
    envelope->signature = fixture->device.SignDomain(kRecordDomain, envelope->record_bytes);
    e = EncodeSignedRecord(*envelope);
  }
  return EncodeBatch(*batch);
}

void CheckAnswer(const Request& r, const HttpResponse& out) {
  static const std::set<int> kStatuses = {200, 201, 204, 304, 400, 401, 403,
                                          404, 409, 413, 422, 429, 503};
  const std::string what = r.http.method + " " + r.http.path + " -> " + std::to_string(out.status) +
                           " " + out.body.substr(0, 300);
  FUZZ_CHECK(kStatuses.count(out.status) == 1, "unexpected status: " + what);
  if (out.content_type == "application/json" && !out.body.empty()) {
    rapidjson::Document doc;
    doc.Parse(out.body.data(), out.body.size());
    FUZZ_CHECK(!doc.HasParseError() && doc.IsObject(), "answer is not a JSON object: " + what);
    if (out.status >= 400) {
      auto error = doc.FindMember("error");
      auto message = doc.FindMember("message");
      FUZZ_CHECK(
          error != doc.MemberEnd() && error->value.IsString() && error->value.GetStringLength() > 0,
          "error answer without an error code: " + what);
      FUZZ_CHECK(message != doc.MemberEnd() && message->value.IsString() &&
                     message->value.GetStringLength() > 0,
                 "error answer without a message: " + what);
    }
  } else if (out.status >= 400) {
    FUZZ_CHECK(false, "error answer that is not JSON: " + what);
  }
}

void CheckReceipt(const HttpRequest& request, const HttpResponse& out) {
  Result<SignedMessage> message = DecodeSignedMessage(out.body);
  FUZZ_CHECK(message.ok(), "200 to /v1/records without a signed message");
  FUZZ_CHECK(VerifyMessage(kReceiptDomain, *message, fixture->keys.sign.public_key()).ok(),
             "receipt signature does not verify with the organisation key");
  Result<SyncReceipt> receipt = DecodeReceipt(message->body);
  FUZZ_CHECK(receipt.ok(), "receipt body does not decode");
  Result<RecordBatch> batch = DecodeBatch(request.body);
  FUZZ_CHECK(batch.ok(), "200 to a batch that does not decode");
  FUZZ_CHECK(receipt->device_id == batch->device_id, "receipt names another device");
  Result<SignedRecord> last = DecodeSignedRecord(batch->envelopes.back());
  FUZZ_CHECK(last.ok(), "200 to a batch whose last envelope does not decode");
  FUZZ_CHECK(receipt->head_hash == RecordHash(last->record_bytes),
             "receipt head_hash is not the hash of the batch's last record");
}

}  // namespace

void Setup() {
  fixture = new Fixture();
  Result<std::unique_ptr<ServerStore>> scratch = OpenSqliteStore(":memory:");
  FUZZ_CHECK(scratch.ok(), scratch.status().ToString());
  Api api(scratch->get(), fixture->keys, ApiOptions{}, [] { return kStartMs; });
  Result<SurveyRow> row =
      api.Publish(canvass::fuzz::ReadSourceFile("examples/restaurant.json"), {"Kyiv-Podil"});
  FUZZ_CHECK(row.ok(), row.status().ToString());
  fixture->restaurant = *row;
}

void Run(std::string_view input) {
  std::vector<Request> requests = ParseRequests(input);
  if (requests.empty()) return;

  Result<std::unique_ptr<ServerStore>> store = OpenSqliteStore(":memory:");
  FUZZ_CHECK(store.ok(), store.status().ToString());
  ServerStore& s = **store;
  DeviceRow device;
  device.device_id = kDeviceId;
  device.location = "Kyiv-Podil";
  device.channel = "kiosk";
  device.public_key = fixture->device.public_key();
  device.enrolled_ms = kStartMs;
  FUZZ_CHECK(s.AddDevice(device).ok(), "fixture device");
  // The code "FUZZ-CODE-0000-0001", stored as the server stores codes: normalised, hashed.
  EnrollCodeRow code{Blake2b256("FUZZCODE00000001"), "Kyiv-Podil", "kiosk", kStartMs + 86400000};
  FUZZ_CHECK(s.AddEnrollCode(code).ok(), "fixture code");
  FUZZ_CHECK(s.PutSetting("admin_token_hash", ToHex(Blake2b256(kAdminToken))).ok(), "token");
  FUZZ_CHECK(s.PublishSurvey(fixture->restaurant).ok(), "fixture survey");

  ApiOptions options;
  options.web_origins = {kWebOrigin};
  std::int64_t clock = kStartMs;
  Api api(&s, fixture->keys, options, [&clock] { return clock++; });

  std::string last_etag;
  for (Request& r : requests) {
    // Setting a password runs Argon2id (64 MiB, ~0.1 s by design): it would only fuzz the KDF.
    if (r.http.path == "/v1/admin/password") continue;
    if (r.flags & 1) r.http.headers["authorization"] = std::string("Bearer ") + kAdminToken;
    if (r.flags & 2) r.http.headers["origin"] = kWebOrigin;
    if (r.flags & 8) r.http.headers["if-none-match"] = last_etag;
    if ((r.flags & 4) && r.http.path == "/v1/records") r.http.body = Resign(r.http.body);

    HttpResponse out = api.Handle(r.http);
    if (out.stream) {  // the export: written out as the server would, into the body
      FUZZ_CHECK(out.stream([&out](const std::string& piece) {
        out.body += piece;
        return true;
      }),
                 "a streamed answer stopped early: " + r.http.path);
    }
    CheckAnswer(r, out);
    for (const auto& [name, value] : out.headers) {
      if (name == "ETag") last_etag = value;
    }
    if (r.http.path == "/v1/records" && r.http.method == "POST" && out.status == 200) {
      CheckReceipt(r.http, out);
      HttpResponse replay = api.Handle(r.http);
      FUZZ_CHECK(replay.status == 200 && replay.body == out.body,
                 "a resent batch did not get the identical receipt (status " +
                     std::to_string(replay.status) + ")");
    }
  }
}

const Target kTarget{Setup, Run};

}  // namespace canvass::fuzz
