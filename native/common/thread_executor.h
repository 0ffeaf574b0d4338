// ThreadExecutor: the native Executor (canvass/executor.h). Run() starts count - 1 threads for the
// tasks 1.., runs task 0 on the calling thread and joins them: a report runs for tens of
// milliseconds, so starting threads per call costs nothing worth a pool.
// Thread-safety: one Run() at a time per executor; separate executors are independent.
#pragma once

#include "canvass/executor.h"

namespace canvass {

class ThreadExecutor final : public Executor {
 public:
  // threads == 0: one per hardware thread (std::thread::hardware_concurrency, at least 1).
  explicit ThreadExecutor(unsigned threads = 0);
  unsigned Concurrency() const override { return threads_; }
  void Run(unsigned count, const std::function<void(unsigned)>& task) override;

 private:
  unsigned threads_;
};

}  // namespace canvass
