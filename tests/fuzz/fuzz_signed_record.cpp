// DecodeSignedRecord on untrusted bytes (each envelope of a pushed batch).
// Property: an accepted envelope re-encodes to exactly the input (canonical form).
#include <cstdint>

#include "canvass/record.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  canvass::fuzz::InitOrDie();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace canvass;
  const std::string_view input = fuzz::AsView(data, size);
  Result<SignedRecord> envelope = DecodeSignedRecord(input);
  if (!envelope.ok()) {
    FUZZ_CHECK(envelope.status().code() == StatusCode::kCorruption, envelope.status().ToString());
    return 0;
  }
  FUZZ_CHECK(EncodeSignedRecord(*envelope) == input, "envelope encoding is not canonical");
  FUZZ_CHECK(envelope->record_bytes.size() <= kMaxRecordBytes, "record bytes over the limit");
  // The server verifies before it decodes the record; a random signature must not verify.
  const PublicKey zero_key{};
  FUZZ_CHECK(!VerifyDomain(kRecordDomain, envelope->record_bytes, envelope->signature, zero_key),
             "a signature verified under the all-zero public key");
  (void)DecodeRecord(envelope->record_bytes);  // the nested decode must not crash either
  return 0;
}
