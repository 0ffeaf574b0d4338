#include "case_worker.h"

#include <chrono>
#include <iostream>

#include "canvass/interchange.h"
#include "cases.h"
#include "log.h"
#include "webhooks.h"

namespace canvass::server {
namespace {

constexpr std::uint32_t kDeliveryBatch = 20;
// How long a claimed delivery is left to its sender before another may retry it: well over the
// request's own timeouts.
constexpr std::int64_t kLeaseMs = 60 * 1000;
// After a store error: the next try, and the next log line, in a while.
constexpr auto kErrorBackoff = std::chrono::seconds(5);

double RandomUnit() {
  std::uint8_t b[8];
  RandomBytes(b, sizeof b);
  std::uint64_t v = 0;
  for (std::uint8_t x : b) v = (v << 8) | x;
  return static_cast<double>(v >> 11) / 9007199254740992.0;  // [0, 1) with 53 bits
}

}  // namespace

CaseWorker::CaseWorker(ServerStore* store, SigningKey key, Options options)
    : store_(store), key_(std::move(key)), options_(std::move(options)) {}

CaseWorker::~CaseWorker() { Stop(); }

void CaseWorker::Start() {
  sender_ = std::thread([this] { Loop(true); });
  sweeper_ = std::thread([this] { Loop(false); });
}

void CaseWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
  if (sweeper_.joinable()) sweeper_.join();
}

void CaseWorker::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  wake_.notify_all();
}

Result<std::uint32_t> CaseWorker::DeliverDue() {
  const std::int64_t now = options_.now_ms();
  Result<std::vector<DeliveryRow>> due =
      store_->ClaimDeliveries(now, now + kLeaseMs, kDeliveryBatch);
  if (!due.ok()) return due.status();
  for (DeliveryRow& d : *due) {
    DeliveryAttempt attempt = PostWebhook(d, key_);
    RecordAttempt(&d, attempt, options_.now_ms(), options_.backoff_base_ms, RandomUnit());
    // Every attempt is an event (the webhook id, not its URL: a URL may carry a receiver's
    // secret in its query).
    Log(d.state == "delivered" ? LogLevel::kInfo
        : d.state == "failed"  ? LogLevel::kError
                               : LogLevel::kWarn,
        d.state == "delivered" ? "webhook delivered"
        : d.state == "failed"  ? "webhook gave up"
                               : "webhook failed, will retry",
        {{"webhook", d.webhook_id},
         {"event", d.event_id},
         {"type", d.type},
         {"attempt", std::to_string(d.attempts)},
         {"http_status", d.last_status ? std::to_string(d.last_status) : std::string()},
         {"error", d.last_error},
         {"retry_at", d.state == "pending" ? FormatIsoTime(d.next_ms) : std::string()}});
    if (d.state == "failed") {
      // The webhook id, not its URL: a URL may carry a receiver's secret in its query.
      std::cerr << "canvass-server: webhook " << d.webhook_id << ": gave up on event " << d.event_id
                << " after " << d.attempts << " attempts (" << d.last_error
                << "); see GET /v1/admin/webhooks/deliveries?state=failed" << std::endl;
    }
    if (Status s = store_->FinishDelivery(d); !s.ok()) return s;
  }
  return static_cast<std::uint32_t>(due->size());
}

Result<std::uint32_t> CaseWorker::EscalateDue() {
  Result<std::uint32_t> n = EscalateOverdue(store_, options_.now_ms());
  if (n.ok() && *n > 0) {
    Log(LogLevel::kWarn, "cases escalated", {{"count", std::to_string(*n)}});
    Notify();  // their case.escalated events are in the outbox
  }
  return n;
}

void CaseWorker::Loop(bool deliver) {
  const auto poll = std::chrono::milliseconds(options_.poll_ms);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (deliver) notified_ = false;
    lock.unlock();
    Result<std::uint32_t> n = deliver ? DeliverDue() : EscalateDue();
    lock.lock();
    if (!n.ok()) {
      std::cerr << "canvass-server: " << (deliver ? "webhook delivery" : "case escalation") << ": "
                << n.status().ToString() << " (will retry)" << std::endl;
      wake_.wait_for(lock, kErrorBackoff, [&] { return stopping_; });
      continue;
    }
    if (deliver && *n == kDeliveryBatch) continue;  // a full batch: more may be due now
    wake_.wait_for(lock, poll, [&] { return stopping_ || (deliver && notified_); });
  }
}

}  // namespace canvass::server
