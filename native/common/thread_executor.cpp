#include "thread_executor.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace canvass {

ThreadExecutor::ThreadExecutor(unsigned threads)
    : threads_(threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

void ThreadExecutor::Run(unsigned count, const std::function<void(unsigned)>& task) {
  if (count == 0) return;
  std::vector<std::thread> others;
  others.reserve(count - 1);
  for (unsigned i = 1; i < count; ++i) others.emplace_back([&task, i] { task(i); });
  task(0);
  for (std::thread& t : others) t.join();
}

}  // namespace canvass
