#include "log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "canvass/interchange.h"

namespace canvass::server {
namespace {

std::atomic<bool> g_access_log{true};
std::mutex g_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void Append(std::string* out, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\\") == std::string_view::npos &&
                     std::none_of(value.begin(), value.end(), [](char c) {
                       return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                     });
  if (plain) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out->append(hex);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

}  // namespace

std::string LogLine(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = "level=";
  line += LevelName(level);
  line += " msg=";
  Append(&line, msg);
  for (const LogField& f : fields) {
    if (f.value.empty()) continue;
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    Append(&line, f.value);
  }
  return line;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::string line = "time=" + FormatIsoTime(now) + " " + LogLine(level, msg, fields) + "\n";
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void SetAccessLog(bool on) { g_access_log = on; }
bool AccessLogOn() { return g_access_log; }

}  // namespace canvass::server
