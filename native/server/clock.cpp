#include "clock.h"

#include <chrono>

namespace canvass::server {

std::int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t TestClock::NowMs() { return real_.NowMs() + offset_ms_.load(); }

std::int64_t TestClock::Advance(std::int64_t ms) {
  if (ms > 0) offset_ms_ += ms;
  return NowMs();
}

}  // namespace canvass::server
