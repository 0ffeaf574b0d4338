// Executor: how the core runs independent pieces of work side by side. shared/ has no threads of
// its own (DESIGN §1), so a native caller that wants parallel work passes one in
// (native/common/thread_executor.h); with none, and always in the wasm build, the work runs on the
// caller's thread, in order.
//
// Contract: Run(count, task) calls task(0) .. task(count - 1) exactly once each, in any order and
// possibly at the same time, and returns when every call has returned. Tasks touch only what
// their index gives them. Run is called from one thread at a time.
#pragma once

#include <functional>

namespace canvass {

class Executor {
 public:
  virtual ~Executor() = default;
  // How many tasks can usefully run at once (>= 1): the work is split into this many parts.
  virtual unsigned Concurrency() const = 0;
  virtual void Run(unsigned count, const std::function<void(unsigned)>& task) = 0;
};

}  // namespace canvass
