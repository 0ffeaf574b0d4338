// The libFuzzer entry point of every target (fuzz_support.h's Target): one copy of the
// initialisation and of the byte-to-view step instead of one per target.
#include <cstdint>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  canvass::fuzz::InitOrDie();
  if (canvass::fuzz::kTarget.setup != nullptr) canvass::fuzz::kTarget.setup();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  canvass::fuzz::kTarget.run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
