// DecodeSignedRecord on untrusted bytes (each envelope of a pushed batch).
// Property: an accepted envelope re-encodes to exactly the input (canonical form).
#include <cstdint>

#include "canvass/record.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

void Run(std::string_view input) {
  std::optional<SignedRecord> envelope =
      CheckCanonical<SignedRecord>(input, DecodeSignedRecord, EncodeSignedRecord, "envelope");
  if (!envelope) return;
  FUZZ_CHECK(envelope->record_bytes.size() <= kMaxRecordBytes, "record bytes over the limit");
  // The server verifies before it decodes the record; a random signature must not verify.
  const PublicKey zero_key{};
  FUZZ_CHECK(!VerifyDomain(kRecordDomain, envelope->record_bytes, envelope->signature, zero_key),
             "a signature verified under the all-zero public key");
  (void)DecodeRecord(envelope->record_bytes);  // the nested decode must not crash either
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
