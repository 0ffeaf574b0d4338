#include "bench_executor.h"
#include "thread_executor.h"

namespace canvass::bench {

Executor* ParallelExecutor() {
  static ThreadExecutor executor;
  return &executor;
}

}  // namespace canvass::bench
