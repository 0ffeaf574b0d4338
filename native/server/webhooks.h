// Webhook delivery (docs/protocol.md, "Webhooks"): every case event in the outbox is POSTed as
// JSON to every configured URL, signed with the organisation key, and retried with exponential
// backoff and jitter until the receiver answers 2xx or kMaxDeliveryAttempts have failed.
//
// X-Canvass-Signature is hex of the Ed25519 signature by the organisation signing key over
// (kWebhookDomain || BLAKE2b-256(body)) — the scheme of every other signed message, so a
// receiver verifies it with the key devices already trust (/v1/enroll's org_sign_key).
// Thread-safe: the functions are pure, except PostWebhook (one blocking HTTP request).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "canvass/crypto.h"
#include "canvass/status.h"
#include "store.h"

namespace canvass::server {

inline constexpr std::uint32_t kMaxDeliveryAttempts = 10;
inline constexpr std::int64_t kMaxBackoffMs = 3600 * 1000;

// Hex of the organisation's signature over a webhook body.
std::string WebhookSignature(const SigningKey& key, std::string_view body);

// The wait after `failures` failed attempts (1, 2, ...): base_ms * 2^(failures - 1), at most
// kMaxBackoffMs, times a jitter factor 0.5 + unit / 2 (`unit` uniform in [0, 1)) so that the
// retries of many deliveries spread out instead of arriving together.
std::int64_t BackoffMs(std::uint32_t failures, std::int64_t base_ms, double unit);

// A webhook URL split for the HTTP client: origin "http://host:port" and the path with query.
struct WebhookUrl {
  std::string origin;
  std::string path;
};
// InvalidArgument unless `url` is http:// or https:// with a host, at most 2048 bytes, no spaces
// or control characters, and no user info.
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

// What one POST gave: the HTTP status (0 if there was no answer) and, on failure, why.
struct DeliveryAttempt {
  int status = 0;
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};
// POSTs `delivery` once (5 s to connect, 10 s to answer), signed with `key`.
DeliveryAttempt PostWebhook(const DeliveryRow& delivery, const SigningKey& key);

// Writes the outcome of an attempt into `delivery`: delivered, or one more failure with the next
// try after BackoffMs, or failed for good after kMaxDeliveryAttempts.
void RecordAttempt(DeliveryRow* delivery, const DeliveryAttempt& attempt, std::int64_t now_ms,
                   std::int64_t base_ms, double unit);

}  // namespace canvass::server
