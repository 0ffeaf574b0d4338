// Shared helpers of the fuzz targets (tests/fuzz/README.md): the one libFuzzer entry point
// (fuzz_main.cpp) and what a target gives it (Target), a property check that stops the run with a
// readable reason, the round-trip property of our canonical decoders, and access to files of the
// source tree for fixtures.
//
// A failed property aborts, so libFuzzer saves the input as crash-<sha1> exactly as for a
// sanitizer report; the message says which property broke.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "canvass/crypto.h"
#include "canvass/status.h"

namespace canvass::fuzz {

[[noreturn]] inline void PropertyFailed(const char* expr, const char* file, int line,
                                        const std::string& detail) {
  std::fprintf(stderr, "fuzz property failed at %s:%d: %s\n  %s\n", file, line, expr,
               detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail)                                                       \
  do {                                                                                 \
    if (!(cond)) ::canvass::fuzz::PropertyFailed(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)

// What a target is: fuzz_main.cpp, linked into every target, initialises libsodium, calls `setup`
// once (may be null) and `run` for every input. Each target defines kTarget.
struct Target {
  void (*setup)();
  void (*run)(std::string_view input);
};
extern const Target kTarget;

// The property of every decoder of our canonical encodings: untrusted bytes are refused with
// `refusal` (or `also`), and accepted ones encode back to exactly the input. Returns the decoded
// value for further checks, nullopt if refused.
template <typename T, typename Decode, typename Encode>
std::optional<T> CheckCanonical(std::string_view input, Decode decode, Encode encode,
                                const char* what, StatusCode refusal = StatusCode::kCorruption,
                                StatusCode also = StatusCode::kCorruption) {
  Result<T> value = decode(input);
  if (!value.ok()) {
    const StatusCode code = value.status().code();
    FUZZ_CHECK(code == refusal || code == also, value.status().ToString());
    return std::nullopt;
  }
  FUZZ_CHECK(encode(*value) == input, std::string(what) + " encoding is not canonical");
  return std::move(*value);
}

// A file of the source tree (CANVASS_SOURCE_DIR is set by tests/fuzz/CMakeLists.txt); aborts if
// it is missing, since a fixture that silently falls back would fuzz something else.
inline std::string ReadSourceFile(const std::string& relative_path) {
  const std::string path = std::string(CANVASS_SOURCE_DIR) + "/" + relative_path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz fixture missing: %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void InitOrDie() {
  if (!InitCrypto().ok()) {
    std::fprintf(stderr, "libsodium failed to initialise\n");
    std::abort();
  }
}

}  // namespace canvass::fuzz
