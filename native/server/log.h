// Log: the server's access log and events, one line each, in logfmt on stdout
// ("time=2026-12-08T10:00:00.123Z level=info msg=request method=POST path=/v1/records status=200
// ..."), which journald keeps as it is and `journalctl -u canvass | grep device=dev-3f9c` searches.
// Values with spaces, quotes or '=' are quoted; control characters are escaped, so a client cannot
// forge a line. Thread-safe: a line is written whole.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace canvass::server {

enum class LogLevel { kInfo, kWarn, kError };

struct LogField {
  std::string_view key;
  std::string value;
};

// One line: time, level, msg, then `fields` (empty values are left out).
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields);
// The line Log writes, without the time and the newline (for tests).
std::string LogLine(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields);
// Turns the access log (msg=request lines) off or on; events are always written.
void SetAccessLog(bool on);
bool AccessLogOn();

}  // namespace canvass::server
