// Internal: the primitives of every canonical encoding (docs/encoding.md).
//
// Writer and Reader wrap cereal's portable binary archives, fixed to little endian, and add the
// few shapes our messages use: fixed-width integers, length-prefixed strings (u32 length) and
// fixed-size byte arrays. The Reader checks every length against the bytes that remain and against
// a limit before it allocates, so hostile input cannot make it allocate more than it was given.
// cereal throws; DecodeWith() turns any throw into a Corruption status, so exceptions never leave
// this layer.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <cereal/archives/portable_binary.hpp>

#include "canvass/status.h"

namespace canvass::wire {

// The longest string any message may carry (a survey definition is the longest).
constexpr std::uint32_t kMaxString = 1u << 20;

class Writer {
 public:
  Writer() : archive_(stream_, cereal::PortableBinaryOutputArchive::Options::LittleEndian()) {}
  void U8(std::uint8_t v) { archive_(v); }
  void U32(std::uint32_t v) { archive_(v); }
  void I32(std::int32_t v) { archive_(v); }
  void U64(std::uint64_t v) { archive_(v); }
  void I64(std::int64_t v) { archive_(v); }
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    archive_(cereal::binary_data(s.data(), s.size()));
  }
  template <std::size_t N>
  void Fixed(const std::array<std::uint8_t, N>& bytes) {
    archive_(cereal::binary_data(bytes.data(), N));
  }
  // Unsigned LEB128 in the fewest bytes (1 to 10), for counts that are mostly small.
  void Var(std::uint64_t v) {
    do {
      std::uint8_t byte = static_cast<std::uint8_t>(v & 0x7f);
      v >>= 7;
      if (v != 0) byte |= 0x80;
      U8(byte);
    } while (v != 0);
  }
  // Zigzag (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), then Var.
  void SignedVar(std::int64_t v) {
    Var((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  std::string Finish() { return stream_.str(); }

 private:
  std::ostringstream stream_;
  cereal::PortableBinaryOutputArchive archive_;
};

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads what Writer wrote. Built only by DecodeWith(), which has checked the marker byte.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : stream_(std::string(bytes)),
        remaining_(bytes.size() - 1),  // the archive reads the marker byte itself
        archive_(stream_, cereal::PortableBinaryInputArchive::Options::LittleEndian()) {}
  std::uint8_t U8() { return Get<std::uint8_t>(); }
  std::uint32_t U32() { return Get<std::uint32_t>(); }
  std::int32_t I32() { return Get<std::int32_t>(); }
  std::uint64_t U64() { return Get<std::uint64_t>(); }
  std::int64_t I64() { return Get<std::int64_t>(); }
  bool Bool(const char* what) {
    std::uint8_t v = U8();
    if (v > 1) throw DecodeError(std::string(what) + " flag is neither 0 nor 1");
    return v == 1;
  }
  std::string Str(const char* what, std::uint32_t max = kMaxString) {
    std::uint32_t n = U32();
    if (n > max) {
      throw DecodeError(std::string(what) + " is " + std::to_string(n) +
                        " bytes, over the limit of " + std::to_string(max));
    }
    Need(n, what);
    std::string s(n, '\0');
    archive_(cereal::binary_data(s.data(), n));
    return s;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(const char* what) {
    Need(N, what);
    std::array<std::uint8_t, N> out{};
    archive_(cereal::binary_data(out.data(), N));
    return out;
  }
  // What Writer::Var wrote; refuses a longer spelling of the same number (canonical bytes).
  std::uint64_t Var(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const std::uint8_t byte = U8();
      if (shift == 63 && byte > 1) throw DecodeError(std::string(what) + " is over 64 bits");
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (byte == 0 && shift > 0) {
          throw DecodeError(std::string(what) + " is not in its shortest form");
        }
        return v;
      }
    }
  }
  std::int64_t SignedVar(const char* what) {
    const std::uint64_t z = Var(what);
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  // A count of items that each take at least `min_item_bytes`: refused if the input cannot hold it.
  std::uint32_t Count(const char* what, std::uint32_t min_item_bytes) {
    std::uint32_t n = U32();
    if (static_cast<std::uint64_t>(n) * min_item_bytes > remaining_) {
      throw DecodeError(std::string(what) + " count " + std::to_string(n) +
                        " is more than the input holds");
    }
    return n;
  }
  void ExpectEnd() {
    if (remaining_ != 0) {
      throw DecodeError(std::to_string(remaining_) + " unexpected bytes after the message");
    }
  }

 private:
  void Need(std::uint64_t n, const char* what) {
    if (n > remaining_) throw DecodeError(std::string("truncated in ") + what);
    remaining_ -= n;
  }
  template <typename T>
  T Get() {
    Need(sizeof(T), "a number");
    T v{};
    archive_(v);
    return v;
  }

  std::istringstream stream_;
  std::uint64_t remaining_;
  cereal::PortableBinaryInputArchive archive_;
};

// Runs `decode` over `bytes`; any throw becomes Corruption("<what>: <reason>").
template <typename T>
Result<T> DecodeWith(std::string_view what, std::string_view bytes,
                     const std::function<T(Reader&)>& decode) {
  try {
    if (bytes.empty()) return Status::Corruption(std::string(what) + ": empty input");
    if (bytes[0] != 1) {
      return Status::Corruption(std::string(what) +
                                ": first byte is not the little-endian marker 0x01");
    }
    Reader reader(bytes);
    T value = decode(reader);
    reader.ExpectEnd();
    return value;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": " + e.what());
  }
}

}  // namespace canvass::wire
