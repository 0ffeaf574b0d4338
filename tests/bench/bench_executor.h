// The executor a benchmark runs its parallel parts on: natively a ThreadExecutor over every core
// (bench_executor_native.cpp), in wasm none (bench_executor_wasm.cpp): the browser build stays
// single-threaded. CMake picks the file, so the benchmark itself has no #ifdef.
#pragma once

#include "canvass/executor.h"

namespace canvass::bench {

// nullptr: run on the calling thread. Owned by the benchmark support code, lives until exit.
Executor* ParallelExecutor();

}  // namespace canvass::bench
