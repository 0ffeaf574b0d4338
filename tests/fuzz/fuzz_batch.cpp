// DecodeBatch on untrusted bytes (the body of POST /v1/records).
// Properties: an accepted batch re-encodes to exactly the input, holds 1..kMaxBatchRecords
// envelopes, and speaks our protocol; refusals are Corruption or (protocol) InvalidArgument.
#include <cstdint>

#include "canvass/messages.h"
#include "canvass/record.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

void Run(std::string_view input) {
  std::optional<RecordBatch> batch =
      CheckCanonical<RecordBatch>(input, DecodeBatch, EncodeBatch, "batch", StatusCode::kCorruption,
                                  StatusCode::kInvalidArgument);
  if (!batch) return;
  FUZZ_CHECK(batch->protocol == kProtocolVersion, "a batch of another protocol was accepted");
  FUZZ_CHECK(!batch->envelopes.empty() && batch->envelopes.size() <= kMaxBatchRecords,
             "envelope count out of bounds: " + std::to_string(batch->envelopes.size()));
  FUZZ_CHECK(batch->device_id.size() <= kMaxIdLength, "device id over the limit");
  for (const std::string& e : batch->envelopes) {
    Result<SignedRecord> envelope = DecodeSignedRecord(e);
    if (envelope.ok()) (void)DecodeRecord(envelope->record_bytes);
  }
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
