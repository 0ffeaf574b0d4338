// DecodeRecord on untrusted bytes (the record inside every envelope a device pushes).
// Properties: an accepted record re-encodes to exactly the input (canonical form), and its export
// line (ToJsonLine) reads back with ParseJsonLine when its time is one the export format can
// spell (years 0000-9999), since `canvass report` reads the server's export.
#include <cstdint>

#include "canvass/interchange.h"
#include "canvass/record.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

namespace {
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
constexpr std::int64_t kMinIsoMs = -62167219200000;
constexpr std::int64_t kMaxIsoMs = 253402300799999;
}  // namespace

void Run(std::string_view input) {
  Result<ResponseRecord> record = DecodeRecord(input);
  if (!record.ok()) {
    FUZZ_CHECK(record.status().code() == StatusCode::kCorruption, record.status().ToString());
    return;
  }
  Result<std::string> again = EncodeRecord(*record);
  FUZZ_CHECK(again.ok(), "a decoded record does not encode: " + again.status().ToString());
  FUZZ_CHECK(*again == input, "decode/encode is not the identity: the encoding is not canonical");
  FUZZ_CHECK(RecordHash(*again) == RecordHash(input), "hash differs after a round trip");

  const std::string line = ToJsonLine(*record);  // must not crash for any time value
  if (record->device_time_ms >= kMinIsoMs && record->device_time_ms <= kMaxIsoMs) {
    Result<ResponseRecord> parsed = ParseJsonLine(line);
    FUZZ_CHECK(parsed.ok(), "export line does not read back: " + parsed.status().ToString() +
                                "\n  line: " + line);
    FUZZ_CHECK(parsed->device_time_ms == record->device_time_ms, "time changed in export: " + line);
    FUZZ_CHECK(parsed->seq == record->seq, "seq changed in export: " + line);
  }
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
