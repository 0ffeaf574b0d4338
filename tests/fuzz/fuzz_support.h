// Shared helpers of the fuzz targets (tests/fuzz/README.md): a property check that stops the run
// with a readable reason, and access to files of the source tree for fixtures.
//
// A failed property aborts, so libFuzzer saves the input as crash-<sha1> exactly as for a
// sanitizer report; the message says which property broke.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "canvass/crypto.h"

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

inline std::string_view AsView(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
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
