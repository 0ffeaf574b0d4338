#include "projector.h"

#include <chrono>
#include <iostream>

namespace canvass::server {
namespace {
constexpr auto kPollInterval = std::chrono::seconds(2);
constexpr auto kErrorBackoff = std::chrono::seconds(5);
}  // namespace

std::string BatchName(const std::vector<StoredRecord>& records) {
  if (records.empty()) return std::string();
  return std::to_string(records.size()) + ":" + records.front().device_id + "#" +
         std::to_string(records.front().seq) + ".." + records.back().device_id + "#" +
         std::to_string(records.back().seq);
}

Projector::Projector(ServerStore* store, std::vector<std::unique_ptr<Projection>> projections)
    : store_(store), projections_(std::move(projections)) {
  for (std::size_t i = 0; i < projections_.size(); ++i) {
    running_.push_back(std::make_unique<std::mutex>());
  }
}

Projector::~Projector() { Stop(); }

Status Projector::Start() {
  for (const auto& p : projections_) {
    Status s = store_->RegisterProjection(p->Name());
    if (!s.ok()) return s.WithContext("projection " + p->Name());
  }
  if (!projections_.empty()) thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Projector::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Projector::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  wake_.notify_one();
}

Status Projector::CatchUp() {
  for (std::size_t i = 0; i < projections_.size(); ++i) {
    const std::unique_ptr<Projection>& p = projections_[i];
    // Also makes a CatchUp wait for the loop's batch in flight, so that it returns only when
    // what was queued before it is applied.
    std::lock_guard running(*running_[i]);
    // Prepare only when there is work: the queue count is cheaper than what Prepare may read.
    Result<std::uint64_t> queued = store_->CountPending(p->Name());
    if (!queued.ok()) return queued.status().WithContext("projection " + p->Name());
    if (*queued == 0) continue;
    if (Status s = p->Prepare(); !s.ok()) return s.WithContext("projection " + p->Name());
    for (;;) {
      Result<std::uint32_t> n = store_->ProjectPending(
          p->Name(), kBatch,
          [&](const std::vector<StoredRecord>& records, DerivedTxn& txn) {
            return p->Apply(records, txn);
          },
          [&](const std::vector<StoredRecord>& records) { return p->Digest(records); });
      if (!n.ok()) return n.status().WithContext("projection " + p->Name());
      if (*n > 0) p->Committed();
      if (*n == 0) break;
      {
        std::lock_guard lock(mu_);
        projected_ += *n;
        if (stopping_) return Status::Ok();
      }
      advanced_.notify_all();
    }
  }
  return Status::Ok();
}

bool Projector::WaitProjected(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return advanced_.wait_until(lock, deadline, [&] { return projected_ != seen || stopping_; }) &&
         !stopping_;
}

std::vector<std::pair<std::string, std::uint64_t>> Projector::Pending() {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& p : projections_) {
    Result<std::uint64_t> n = store_->CountPending(p->Name());
    if (n.ok()) out.emplace_back(p->Name(), *n);
  }
  return out;
}

void Projector::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    notified_ = false;
    lock.unlock();
    Status s = CatchUp();
    lock.lock();
    if (!s.ok()) {
      // The records stay queued; say so once per attempt and try again later.
      std::cerr << "canvass-server: " << s.ToString() << " (will retry)" << std::endl;
      wake_.wait_for(lock, kErrorBackoff, [&] { return stopping_; });
      continue;
    }
    wake_.wait_for(lock, kPollInterval, [&] { return stopping_ || notified_; });
  }
}

}  // namespace canvass::server
