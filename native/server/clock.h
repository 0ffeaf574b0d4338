// Clock: where canvass-server takes the time of day from (sessions, certificates, enrollment
// codes, receipts, case deadlines, webhook retries), so that tests can move it.
//
// SystemClock is the real one and the default. TestClock is the real time plus an offset that
// only moves forward; the server uses one only when started with --test-clock (test-only, see
// --help), and then POST /v1/test/clock moves it (docs/protocol.md). Both are thread-safe.
// Durations measured for metrics and timeouts use std::chrono::steady_clock, never a Clock.
#pragma once

#include <atomic>
#include <cstdint>

namespace canvass::server {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t NowMs() = 0;  // milliseconds since 1970-01-01T00:00:00Z
};

class SystemClock : public Clock {
 public:
  std::int64_t NowMs() override;
};

class TestClock : public Clock {
 public:
  std::int64_t NowMs() override;
  // Moves the time forward by `ms` (0 or more); returns the new time.
  std::int64_t Advance(std::int64_t ms);

 private:
  SystemClock real_;
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace canvass::server
