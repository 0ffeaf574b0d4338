// CaseWorker: the closed loop's background work in canvass-server — delivering webhook events
// from the outbox (webhooks.h) and escalating overdue cases (cases.h, EscalateOverdue).
//
// Each runs in a thread of its own, so a slow webhook receiver never delays an escalation, and
// neither touches ingest: a push only ever writes the outbox rows, in its own transaction. Both
// wake every `poll_ms` (another server sharing the database may have queued work) and at Notify().
// Several servers may run one each: deliveries are leased and escalation re-checks under a lock.
// Thread-safe: Notify may be called from any thread; Start and Stop from one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "canvass/crypto.h"
#include "store.h"

namespace canvass::server {

class CaseWorker {
 public:
  struct Options {
    std::int64_t backoff_base_ms = 10000;  // first retry after 5-10 s, then doubling
    std::int64_t poll_ms = 1000;
    std::function<std::int64_t()> now_ms;  // the clock (the server's; tests may inject one)
  };

  CaseWorker(ServerStore* store, SigningKey key, Options options);
  ~CaseWorker();
  CaseWorker(const CaseWorker&) = delete;
  CaseWorker& operator=(const CaseWorker&) = delete;

  void Start();
  void Stop();    // waits for the delivery in flight (at most its timeouts)
  void Notify();  // an event was queued: deliver without waiting for the next poll

  // One round each in the caller's thread: how many deliveries were attempted / cases escalated.
  Result<std::uint32_t> DeliverDue();
  Result<std::uint32_t> EscalateDue();

 private:
  void Loop(bool deliver);

  ServerStore* store_;
  SigningKey key_;
  Options options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool notified_ = false;
  bool stopping_ = false;
  std::thread sender_, sweeper_;
};

}  // namespace canvass::server
