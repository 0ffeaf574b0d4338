// Projector: keeps the server's derived state (the dashboard's statistics, follow-up cases) up to
// date from stored records, through the store's projection queue (store.h, "Projections").
//
// Each Projection has a name and an Apply step. Start() registers every projection with the store
// (a new one first sees every record already stored) and starts one background thread, which
// drains the queues whenever Notify() says records were stored, and every couple of seconds in
// any case (another server sharing the database may have stored some). CatchUp() drains them in
// the caller's thread, for a read that must include every record stored before it;
// WaitProjected waits, without polling, for a batch that another thread is applying.
// Thread-safe: Notify, CatchUp and Pending may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store.h"

namespace canvass::server {

class Projection {
 public:
  virtual ~Projection() = default;
  virtual std::string Name() const = 0;
  // Called before each round of Apply calls, outside any transaction: the place to read from the
  // store what Apply needs (Apply must not call the store), e.g. survey definitions. An error
  // skips the round; the records stay queued.
  virtual Status Prepare() { return Status::Ok(); }
  // Applies `records` through `txn`. May run more than once for the same records (a retried
  // transaction): every effect must go through `txn`, nothing may leave the process from here
  // (send webhooks from what Apply wrote, not from Apply). See ProjectFn for which errors to
  // return.
  virtual Status Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) = 0;
  // What `records` add that needs no stored state (decoding, computing), worked out right before
  // Apply gets the same records, outside the store's lock where the store can (DigestFn). A
  // projection keeps the result for that Apply; Apply must also work without it (tests call it
  // alone).
  virtual Status Digest(const std::vector<StoredRecord>& records) {
    (void)records;
    return Status::Ok();
  }
  // Called after the transaction of the last Apply committed: the place for what may leave the
  // process once (a log line), never from Apply, which may run again.
  virtual void Committed() {}
};

// Names a batch of queued records (how many, the first and the last): how a projection tells
// whether the records Apply gets are those Digest saw.
std::string BatchName(const std::vector<StoredRecord>& records);

class Projector {
 public:
  static constexpr std::uint32_t kBatch = 500;  // records per transaction

  Projector(ServerStore* store, std::vector<std::unique_ptr<Projection>> projections);
  ~Projector();
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  Status Start();
  void Stop();    // waits for the batch in flight
  void Notify();  // records were stored
  Status CatchUp();
  // (name, records still queued) per projection, for /metrics.
  std::vector<std::pair<std::string, std::uint64_t>> Pending();
  std::uint64_t projected() const { return projected_; }
  // Blocks until a batch has been applied since projected() was `seen` (true), or until
  // `deadline` (false). Woken by every commit of this projector, from any thread.
  bool WaitProjected(std::uint64_t seen, std::chrono::steady_clock::time_point deadline);

 private:
  void Loop();

  ServerStore* store_;
  std::vector<std::unique_ptr<Projection>> projections_;
  // One per projection, held across a ProjectPending: a projection keeps what Digest found for
  // its Apply, so two threads (the loop, a CatchUp) must not run it at once.
  std::vector<std::unique_ptr<std::mutex>> running_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable advanced_;  // a batch was applied (WaitProjected)
  bool notified_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> projected_{0};
};

}  // namespace canvass::server
