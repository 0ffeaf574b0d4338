// DecodeBatch on untrusted bytes (the body of POST /v1/records).
// Properties: an accepted batch re-encodes to exactly the input, holds 1..kMaxBatchRecords
// envelopes, and speaks our protocol; refusals are Corruption or (protocol) InvalidArgument.
#include <cstdint>

#include "canvass/messages.h"
#include "canvass/record.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  canvass::fuzz::InitOrDie();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace canvass;
  const std::string_view input = fuzz::AsView(data, size);
  Result<RecordBatch> batch = DecodeBatch(input);
  if (!batch.ok()) {
    const StatusCode code = batch.status().code();
    FUZZ_CHECK(code == StatusCode::kCorruption || code == StatusCode::kInvalidArgument,
               batch.status().ToString());
    return 0;
  }
  FUZZ_CHECK(batch->protocol == kProtocolVersion, "a batch of another protocol was accepted");
  FUZZ_CHECK(!batch->envelopes.empty() && batch->envelopes.size() <= kMaxBatchRecords,
             "envelope count out of bounds: " + std::to_string(batch->envelopes.size()));
  FUZZ_CHECK(batch->device_id.size() <= kMaxIdLength, "device id over the limit");
  FUZZ_CHECK(EncodeBatch(*batch) == input, "batch encoding is not canonical");
  for (const std::string& e : batch->envelopes) {
    Result<SignedRecord> envelope = DecodeSignedRecord(e);
    if (envelope.ok()) (void)DecodeRecord(envelope->record_bytes);
  }
  return 0;
}
