// Counting small values in a byte column: the inner loop of every report (ResponseTable stores
// scale answers as int8 offsets from the scale's minimum, -1 for "no answer").
//
// CountSmallValues(data, n, k, counts) adds to counts[v] the number of bytes equal to v, for v in
// 0..k-1 (a full histogram of a scale), and returns how many bytes were outside that range.
// CountAtLeast(data, n, thresholds, k, counts) counts bytes at or above each of a few thresholds
// (the bands of a scale: NPS's detractors, passives and promoters need three). Both are exact
// integer counting, so they are the same on every target whichever path runs.
//
// Why the functions are `static inline` in a header: each translation unit gets its own copy,
// compiled with its own flags. The wasm build of the core has no -msimd128 (a module with SIMD
// instructions does not load on older tablets' browsers), while the benchmarks build with it; with
// one shared inline definition the linker could pick either copy for both. Vector code is used
// where the compiler says the target has 128-bit vectors (x86-64's baseline SSE2, wasm SIMD,
// NEON); elsewhere a four-way histogram, which is the fastest scalar method.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace canvass {

// Values a vector pass counts at once: one accumulator register per value.
inline constexpr int kMaxVectorValues = 16;

#if defined(__SSE2__) || defined(__wasm_simd128__) || defined(__ARM_NEON)
#define CANVASS_BYTE_COUNTS_VECTOR 1
#endif

namespace byte_counts_detail {

// Scalar: four interleaved 256-entry histograms, so consecutive equal bytes do not wait on each
// other's store.
static inline void Histogram(const int8_t* data, std::size_t n, uint64_t* hist256) {
  uint32_t h[4][256];
  std::memset(h, 0, sizeof h);
  std::size_t i = 0;
  const auto* u = reinterpret_cast<const uint8_t*>(data);
  while (i < n) {
    // Flush before a 32-bit counter could overflow.
    const std::size_t end = n - i > (std::size_t{1} << 30) ? i + (std::size_t{1} << 30) : n;
    for (; i + 4 <= end; i += 4) {
      ++h[0][u[i]];
      ++h[1][u[i + 1]];
      ++h[2][u[i + 2]];
      ++h[3][u[i + 3]];
    }
    for (; i < end; ++i) ++h[0][u[i]];
    for (int v = 0; v < 256; ++v) {
      hist256[v] += uint64_t{h[0][v]} + h[1][v] + h[2][v] + h[3][v];
      h[0][v] = h[1][v] = h[2][v] = h[3][v] = 0;
    }
  }
}

#if defined(CANVASS_BYTE_COUNTS_VECTOR)
typedef int8_t V16 __attribute__((vector_size(16)));
// Lane counters: unsigned, so that counting up to 254 wraps nothing (a signed lane overflowed at
// 128: undefined behaviour, which UBSan reported in `canvass report` on 20,000 offers).
typedef uint8_t U16 __attribute__((vector_size(16)));

// One accumulator register per value, 16 byte lanes each; a lane counts up to 255 matches before
// the accumulators are flushed into 64-bit counts. The per-value steps are expanded by a fold
// expression (not a loop over an array) so that every accumulator stays in a register.
template <int... V>
static inline std::size_t CountVector(std::integer_sequence<int, V...>, const int8_t* data,
                                      std::size_t n, uint64_t* counts) {
  std::size_t i = 0;
  while (n - i >= 32) {
    std::size_t pairs = (n - i) / 32;
    if (pairs > 127) pairs = 127;  // two matches per pair: 254 <= 255
    U16 acc[sizeof...(V)] = {};
    for (std::size_t b = 0; b < pairs; ++b, i += 32) {
      V16 x, y;
      std::memcpy(&x, data + i, 16);
      std::memcpy(&y, data + i + 16, 16);
      // A match is -1 (all ones) in its lane: subtracting the pair's sum as unsigned adds 0..2.
      ((acc[V] -= (U16)((x == static_cast<int8_t>(V)) + (y == static_cast<int8_t>(V)))), ...);
    }
    for (std::size_t v = 0; v < sizeof...(V); ++v) {
      uint8_t lanes[16];
      std::memcpy(lanes, &acc[v], 16);
      uint64_t sum = 0;
      for (int l = 0; l < 16; ++l) sum += lanes[l];
      counts[v] += sum;
    }
  }
  return i;
}

// counts[j] += bytes >= thresholds[j]: one compare and one subtract per threshold, whatever the
// scale, so a few thresholds run at close to memory speed.
template <int... J>
static inline std::size_t AtLeastVector(std::integer_sequence<int, J...>, const int8_t* data,
                                        std::size_t n, const int8_t* thresholds, uint64_t* counts) {
  const V16 above[sizeof...(J)] = {(V16{} + static_cast<int8_t>(thresholds[J] - 1))...};
  std::size_t i = 0;
  while (n - i >= 32) {
    std::size_t pairs = (n - i) / 32;
    if (pairs > 127) pairs = 127;
    U16 acc[sizeof...(J)] = {};
    for (std::size_t b = 0; b < pairs; ++b, i += 32) {
      V16 x, y;
      std::memcpy(&x, data + i, 16);
      std::memcpy(&y, data + i + 16, 16);
      ((acc[J] -= (U16)((x > above[J]) + (y > above[J]))), ...);
    }
    for (std::size_t j = 0; j < sizeof...(J); ++j) {
      uint8_t lanes[16];
      std::memcpy(lanes, &acc[j], 16);
      uint64_t sum = 0;
      for (int l = 0; l < 16; ++l) sum += lanes[l];
      counts[j] += sum;
    }
  }
  return i;
}

template <int K>
static inline std::size_t Dispatch(int k, const int8_t* data, std::size_t n, uint64_t* counts) {
  if constexpr (K > kMaxVectorValues) {
    return 0;
  } else {
    return k == K ? CountVector(std::make_integer_sequence<int, K>(), data, n, counts)
                  : Dispatch<K + 1>(k, data, n, counts);
  }
}
#endif

}  // namespace byte_counts_detail

// counts[v] += number of bytes equal to v (0 <= v < k, k <= 128); returns the number of others.
static inline uint64_t CountSmallValues(const int8_t* data, std::size_t n, int k,
                                        uint64_t* counts) {
  std::size_t done = 0;
  uint64_t counted_before = 0;
  for (int v = 0; v < k; ++v) counted_before += counts[v];
#if defined(CANVASS_BYTE_COUNTS_VECTOR)
  if (k >= 1 && k <= kMaxVectorValues) done = byte_counts_detail::Dispatch<1>(k, data, n, counts);
#endif
  if (done < n) {
    uint64_t hist[256] = {};
    byte_counts_detail::Histogram(data + done, n - done, hist);
    for (int v = 0; v < k; ++v) counts[v] += hist[v];
  }
  uint64_t counted = 0;
  for (int v = 0; v < k; ++v) counted += counts[v];
  return static_cast<uint64_t>(n) - (counted - counted_before);
}

// Cumulative counts: counts[j] += number of bytes >= thresholds[j], for k <= 4 thresholds, each
// above -128. For bands of a scale (NPS: >= 0 answered, >= 7, >= 9) this needs k passes of
// work instead of one per scale point.
static inline void CountAtLeast(const int8_t* data, std::size_t n, const int8_t* thresholds, int k,
                                uint64_t* counts) {
  std::size_t done = 0;
#if defined(CANVASS_BYTE_COUNTS_VECTOR)
  using byte_counts_detail::AtLeastVector;
  switch (k) {
    case 1:
      done = AtLeastVector(std::make_integer_sequence<int, 1>(), data, n, thresholds, counts);
      break;
    case 2:
      done = AtLeastVector(std::make_integer_sequence<int, 2>(), data, n, thresholds, counts);
      break;
    case 3:
      done = AtLeastVector(std::make_integer_sequence<int, 3>(), data, n, thresholds, counts);
      break;
    case 4:
      done = AtLeastVector(std::make_integer_sequence<int, 4>(), data, n, thresholds, counts);
      break;
    default:
      break;
  }
#endif
  if (done < n) {
    uint64_t hist[256] = {};
    byte_counts_detail::Histogram(data + done, n - done, hist);
    for (int j = 0; j < k; ++j) {
      for (int v = thresholds[j]; v <= 127; ++v) counts[j] += hist[static_cast<uint8_t>(v)];
    }
  }
}

}  // namespace canvass
