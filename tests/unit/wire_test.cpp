// The encoding primitives (shared/src/wire.h) against cereal's portable binary archive, the format
// docs/encoding.md specifies: the same values give the same bytes, and cereal's bytes read back.
// wire.h writes the bytes itself (to keep iostreams out of the widget), so this test is what ties
// our encodings to cereal's. Runs natively and in wasm.
#include <catch2/catch.hpp>

#include <cereal/archives/portable_binary.hpp>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "../../shared/src/wire.h"

namespace canvass {

TEST_CASE("wire::Writer writes cereal's little-endian portable binary bytes", "[wire]") {
  const std::array<std::uint8_t, 4> fixed{0xde, 0xad, 0xbe, 0xef};
  const std::string text = "Привіт, «світ»\0x";
  std::ostringstream stream;
  {
    cereal::PortableBinaryOutputArchive cereal_out(
        stream, cereal::PortableBinaryOutputArchive::Options::LittleEndian());
    cereal_out(std::uint8_t{0}, std::uint8_t{255});
    cereal_out(std::uint32_t{0}, std::uint32_t{0x01020304},
               std::numeric_limits<std::uint32_t>::max());
    cereal_out(std::int32_t{-1}, std::numeric_limits<std::int32_t>::min());
    cereal_out(std::uint64_t{0x0102030405060708ULL}, std::numeric_limits<std::uint64_t>::max());
    cereal_out(std::int64_t{-2}, std::numeric_limits<std::int64_t>::min());
    cereal_out(static_cast<std::uint32_t>(text.size()));
    cereal_out(cereal::binary_data(text.data(), text.size()));
    cereal_out(cereal::binary_data(fixed.data(), fixed.size()));
  }
  wire::Writer w;
  w.U8(0);
  w.U8(255);
  w.U32(0);
  w.U32(0x01020304);
  w.U32(std::numeric_limits<std::uint32_t>::max());
  w.I32(-1);
  w.I32(std::numeric_limits<std::int32_t>::min());
  w.U64(0x0102030405060708ULL);
  w.U64(std::numeric_limits<std::uint64_t>::max());
  w.I64(-2);
  w.I64(std::numeric_limits<std::int64_t>::min());
  w.Str(text);
  w.Fixed(fixed);
  const std::string ours = w.Finish();
  CHECK(ours == stream.str());

  // And cereal's bytes read back through our Reader.
  Result<bool> read = wire::DecodeWith<bool>("test", stream.str(), [&](wire::Reader& r) {
    CHECK(r.U8() == 0);
    CHECK(r.U8() == 255);
    CHECK(r.U32() == 0);
    CHECK(r.U32() == 0x01020304);
    CHECK(r.U32() == std::numeric_limits<std::uint32_t>::max());
    CHECK(r.I32() == -1);
    CHECK(r.I32() == std::numeric_limits<std::int32_t>::min());
    CHECK(r.U64() == 0x0102030405060708ULL);
    CHECK(r.U64() == std::numeric_limits<std::uint64_t>::max());
    CHECK(r.I64() == -2);
    CHECK(r.I64() == std::numeric_limits<std::int64_t>::min());
    CHECK(r.Str("text") == text);
    CHECK(r.Fixed<4>("fixed") == fixed);
    return true;
  });
  REQUIRE(read.ok());
}

TEST_CASE("wire::Reader refuses truncated and trailing bytes", "[wire]") {
  wire::Writer w;
  w.U32(7);
  w.Str("abc");
  const std::string bytes = w.Finish();
  auto decode = [](std::string_view b) {
    return wire::DecodeWith<std::string>("test", b, [](wire::Reader& r) {
      (void)r.U32();
      return r.Str("name");
    });
  };
  CHECK(decode(bytes).ok());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO(n);
    Result<std::string> cut = decode(bytes.substr(0, n));
    CHECK(!cut.ok());
    CHECK(cut.status().code() == StatusCode::kCorruption);
  }
  Result<std::string> longer = decode(bytes + "x");
  CHECK(!longer.ok());
  CHECK(longer.status().message().find("unexpected bytes") != std::string::npos);
  std::string big_endian = bytes;
  big_endian[0] = 0;
  CHECK(!decode(big_endian).ok());
}

}  // namespace canvass
