#include "bench_executor.h"

namespace canvass::bench {

Executor* ParallelExecutor() { return nullptr; }

}  // namespace canvass::bench
