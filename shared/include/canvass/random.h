// Seeded randomness that gives the same numbers on every target.
//
// SplitMix64 is small, fast and well mixed; Below() maps to a range by rejection, with our own
// code rather than std::uniform_int_distribution (libc++ and libstdc++ map differently), so the
// same seed picks the same question natively and in wasm. Not for secrets: keys and nonces come
// from libsodium.
#pragma once

#include <cstdint>

namespace canvass {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0, without modulo bias.
  std::uint64_t Below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }
  // Uniform 53-bit integer, for probability draws compared with Sampling::threshold53.
  std::uint64_t Next53() { return Next() >> 11; }

 private:
  std::uint64_t state_;
};

// Mixes two values into one seed (e.g. a device seed and a round number).
inline std::uint64_t MixSeed(std::uint64_t a, std::uint64_t b) {
  SplitMix64 m(a ^ (b * 0xD1B54A32D192ED03ull));
  return m.Next();
}

}  // namespace canvass
