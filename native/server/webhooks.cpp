#include "webhooks.h"

#include <httplib.h>

#include <algorithm>

namespace canvass::server {

std::string WebhookSignature(const SigningKey& key, std::string_view body) {
  return ToHex(key.SignDomain(kWebhookDomain, body));
}

std::int64_t BackoffMs(std::uint32_t failures, std::int64_t base_ms, double unit) {
  double wait = static_cast<double>(std::max<std::int64_t>(base_ms, 1));
  for (std::uint32_t i = 1; i < failures && wait < static_cast<double>(kMaxBackoffMs); ++i) {
    wait *= 2;
  }
  wait = std::min(wait, static_cast<double>(kMaxBackoffMs));
  return static_cast<std::int64_t>(wait * (0.5 + std::clamp(unit, 0.0, 1.0) / 2));
}

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("url: " + why + " (e.g. https://hooks.example.com/canvass)");
  };
  if (url.size() > 2048) return bad("at most 2048 bytes");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad("no spaces or control characters");
    }
  }
  std::size_t scheme_end;
  if (url.starts_with("http://")) {
    scheme_end = 7;
  } else if (url.starts_with("https://")) {
    scheme_end = 8;
  } else {
    return bad("use an http:// or https:// URL");
  }
  std::size_t path_start = url.find_first_of("/?#", scheme_end);
  if (path_start == std::string_view::npos) path_start = url.size();
  std::string_view authority = url.substr(scheme_end, path_start - scheme_end);
  if (authority.empty() || authority.front() == ':') return bad("name the host");
  if (authority.find('@') != std::string_view::npos) {
    return bad("no user:password@ in the URL; the receiver checks the signature instead");
  }
  WebhookUrl out;
  out.origin = std::string(url.substr(0, path_start));
  out.path = std::string(url.substr(path_start));
  if (auto hash = out.path.find('#'); hash != std::string::npos) out.path.resize(hash);
  if (out.path.empty() || out.path.front() != '/') out.path = "/" + out.path;
  return out;
}

DeliveryAttempt PostWebhook(const DeliveryRow& d, const SigningKey& key) {
  DeliveryAttempt attempt;
  Result<WebhookUrl> url = ParseWebhookUrl(d.url);
  if (!url.ok()) {
    attempt.error = url.status().message();
    return attempt;
  }
  httplib::Client client(url->origin);
  if (!client.is_valid()) {
    attempt.error = "not a URL the HTTP client can use";
    return attempt;
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_write_timeout(10, 0);
  const httplib::Headers headers = {
      {"X-Canvass-Event", d.type},
      {"X-Canvass-Delivery", d.event_id + "@" + d.webhook_id},
      {"X-Canvass-Signature", WebhookSignature(key, d.body)},
      {"User-Agent", "canvass-server"},
  };
  httplib::Result res = client.Post(url->path, headers, d.body, "application/json");
  if (!res) {
    attempt.error = "no answer: " + httplib::to_string(res.error());
    return attempt;
  }
  attempt.status = res->status;
  if (!attempt.ok()) attempt.error = "HTTP " + std::to_string(res->status);
  return attempt;
}

void RecordAttempt(DeliveryRow* d, const DeliveryAttempt& attempt, std::int64_t now_ms,
                   std::int64_t base_ms, double unit) {
  ++d->attempts;
  d->last_status = attempt.status;
  d->last_error = attempt.ok() ? "" : attempt.error;
  if (attempt.ok()) {
    d->state = "delivered";
    d->delivered_ms = now_ms;
    d->next_ms = now_ms;
  } else if (d->attempts >= kMaxDeliveryAttempts) {
    d->state = "failed";
    d->next_ms = now_ms;
  } else {
    d->state = "pending";
    d->next_ms = now_ms + BackoffMs(d->attempts, base_ms, unit);
  }
}

}  // namespace canvass::server
