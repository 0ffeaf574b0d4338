// Internal: the primitives of every canonical encoding (docs/encoding.md).
//
// The bytes are those of cereal's portable binary archive fixed to little endian — the marker byte
// 0x01, then each value little endian at its fixed width, byte arrays as they are — with the few
// shapes our messages use: fixed-width integers, length-prefixed strings (u32 length) and
// fixed-size byte arrays. Writer and Reader produce and read those bytes directly rather than
// through cereal's std::stream-based archives: the streams bring libc++'s iostreams and locales
// into the survey widget (about 40 KB gzip a visitor would download), and the format is small
// enough to write down. tests/unit/record_test.cpp checks the bytes against cereal's own archive.
// The Reader checks every length against the bytes that remain and against a limit before it
// allocates, so hostile input cannot make it allocate more than it was given. It throws
// DecodeError; DecodeWith() turns any throw into a Corruption status, so exceptions never leave
// this layer.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "canvass/status.h"

namespace canvass::wire {

// The longest string any message may carry (a survey definition is the longest).
constexpr std::uint32_t kMaxString = 1u << 20;
// The first byte of every encoding: cereal's portable binary "little endian" flag.
constexpr char kLittleEndianMarker = 1;

class Writer {
 public:
  Writer() : bytes_(1, kLittleEndianMarker) {}
  void U8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) { Little(v, 4); }
  void I32(std::int32_t v) { Little(static_cast<std::uint32_t>(v), 4); }
  void U64(std::uint64_t v) { Little(v, 8); }
  void I64(std::int64_t v) { Little(static_cast<std::uint64_t>(v), 8); }
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    bytes_.append(s.data(), s.size());
  }
  template <std::size_t N>
  void Fixed(const std::array<std::uint8_t, N>& bytes) {
    bytes_.append(reinterpret_cast<const char*>(bytes.data()), N);
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
  std::string Finish() { return std::move(bytes_); }

 private:
  void Little(std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string bytes_;
};

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads what Writer wrote. Built only by DecodeWith(), which has checked the marker byte.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes), pos_(1) {}
  std::uint8_t U8() { return static_cast<std::uint8_t>(Little(1)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Little(4)); }
  std::int32_t I32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(Little(4))); }
  std::uint64_t U64() { return Little(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(Little(8)); }
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
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> Fixed(const char* what) {
    Need(N, what);
    std::array<std::uint8_t, N> out{};
    std::memcpy(out.data(), bytes_.data() + pos_, N);
    pos_ += N;
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
    if (static_cast<std::uint64_t>(n) * min_item_bytes > remaining()) {
      throw DecodeError(std::string(what) + " count " + std::to_string(n) +
                        " is more than the input holds");
    }
    return n;
  }
  void ExpectEnd() {
    if (remaining() != 0) {
      throw DecodeError(std::to_string(remaining()) + " unexpected bytes after the message");
    }
  }

 private:
  std::uint64_t remaining() const { return bytes_.size() - pos_; }
  void Need(std::uint64_t n, const char* what) {
    if (n > remaining()) throw DecodeError(std::string("truncated in ") + what);
  }
  std::uint64_t Little(int width) {
    Need(static_cast<std::uint64_t>(width), "a number");
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<std::uint8_t>(bytes_[pos_ + static_cast<std::size_t>(i)]);
    }
    pos_ += static_cast<std::size_t>(width);
    return v;
  }

  std::string_view bytes_;
  std::size_t pos_;
};

// Runs `decode` over `bytes`; any throw becomes Corruption("<what>: <reason>").
template <typename T>
Result<T> DecodeWith(std::string_view what, std::string_view bytes,
                     const std::function<T(Reader&)>& decode) {
  try {
    if (bytes.empty()) return Status::Corruption(std::string(what) + ": empty input");
    if (bytes[0] != kLittleEndianMarker) {
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
