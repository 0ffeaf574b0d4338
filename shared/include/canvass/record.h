// Response records: what a device writes every time it offers a survey (DESIGN.md §3), and their
// canonical bytes (docs/encoding.md).
//
// A ResponseRecord is a plain value. EncodeRecord() gives its one canonical byte string (the same
// on every target); DecodeRecord() accepts only canonical bytes, so decode(encode(r)) == r and
// encode(decode(b)) == b for every accepted b. A SignedRecord is those bytes plus the device's
// Ed25519 signature over (kRecordDomain || BLAKE2b-256(bytes)).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/status.h"

namespace canvass {

enum class Outcome : std::uint8_t {
  kCompleted = 0,  // every required question answered
  kPartial = 1,    // some answers, then the customer left
  kDeclined = 2,   // "no thanks" or the widget was closed
  kIgnored = 3,    // offered, no interaction until the timeout
};
const char* OutcomeName(Outcome outcome);  // "completed", "partial", ...
Result<Outcome> ParseOutcome(std::string_view name);

// Answer values, one alternative per question kind family.
struct ScaleAnswer {  // nps, rating
  std::int32_t value = 0;
  bool operator==(const ScaleAnswer&) const = default;
};
struct TextAnswer {  // text
  std::string text;
  bool operator==(const TextAnswer&) const = default;
};
struct ChoiceAnswer {            // single_choice, multi_choice
  std::vector<std::string> ids;  // sorted, unique (canonical)
  std::string other;             // the "other: ..." text, empty if none
  bool operator==(const ChoiceAnswer&) const = default;
};
struct CsiAnswer {  // csi_attribute
  std::int32_t importance = 0;
  std::int32_t satisfaction = 0;
  bool operator==(const CsiAnswer&) const = default;
};
struct ContactAnswer {  // contact
  bool consent = false;
  // Never encoded in a record: BuildRecord seals it into ResponseRecord::sealed_contact.
  std::string details;
  bool operator==(const ContactAnswer&) const = default;
};
using AnswerValue = std::variant<ScaleAnswer, TextAnswer, ChoiceAnswer, CsiAnswer, ContactAnswer>;
using Answers = std::map<std::string, AnswerValue>;

struct ResponseRecord {
  std::string survey_id;
  Hash256 survey_version{};  // BLAKE2b-256 of the survey definition's bytes
  std::string device_id;
  std::uint64_t seq = 0;            // 1, 2, 3 ... per device
  Hash256 prev_hash{};              // hash of record seq-1; all zero for seq 1
  std::int64_t device_time_ms = 0;  // Unix time in milliseconds, device clock
  Outcome outcome = Outcome::kCompleted;
  Answers answers;                            // question id -> value
  std::map<std::string, std::string> tags;    // location, staff, channel, segment, ...
  std::string customer_key;                   // pseudonymous key (CustomerKey), empty if none
  std::optional<std::string> sealed_contact;  // SealTo(organisation box key, details)
  std::optional<Hash256> attachment_hash;     // e.g. a photo, stored elsewhere

  bool operator==(const ResponseRecord&) const = default;
};

// Limits that every encoder and decoder enforces.
constexpr std::uint32_t kMaxIdLength = 128;     // survey, device, question, tag key ids
constexpr std::uint32_t kMaxTextLength = 4096;  // free text, tag values, "other"
constexpr std::uint32_t kMaxAnswers = 256;
constexpr std::uint32_t kMaxTags = 32;
constexpr std::uint32_t kMaxChoices = 64;
constexpr std::uint32_t kMaxRecordBytes = 64 * 1024;
constexpr std::uint8_t kRecordVersion = 1;

// Canonical bytes. InvalidArgument if the record breaks a limit or holds unsealed contact details.
Result<std::string> EncodeRecord(const ResponseRecord& record);
// Corruption (with the reason) unless `bytes` are canonical record bytes of a known version.
Result<ResponseRecord> DecodeRecord(std::string_view bytes);
inline Hash256 RecordHash(std::string_view record_bytes) { return Blake2b256(record_bytes); }

// Where a record comes from is its device's certificate, never its own tags (DESIGN §5): its
// location and channel are the ones the device enrolled with.
//
// The tags a host page, a POS or a person at a CLI may set on a record: these, and the context
// tags the survey declares (`declared`), but never `location` or `channel`, which the device
// writes itself from its certificate.
inline constexpr std::string_view kHostTags[] = {"segment", "staff", "receipt"};
bool IsHostTag(std::string_view key, const std::vector<std::string>& declared);
// The tags of a new record: the allowed host tags of `host`, then `location` and `channel` from
// the device's certificate. The names of the host tags left out go to `dropped` (if given), so
// that the caller can say so.
std::map<std::string, std::string> DeviceTags(const std::map<std::string, std::string>& host,
                                              const std::vector<std::string>& declared,
                                              const std::string& location,
                                              const std::string& channel,
                                              std::vector<std::string>* dropped = nullptr);
// InvalidArgument (saying what to do) if `record` claims a location other than `location`, the
// one its device enrolled for. A record without a location tag is the device's own.
Status CheckRecordLocation(const ResponseRecord& record, const std::string& location);
// What the server counts a stored record as: `location` and `channel` set from the certificate
// of its device (no change where the device is not known: both empty).
void AttributeToDevice(ResponseRecord* record, const std::string& location,
                       const std::string& channel);

struct SignedRecord {
  std::string record_bytes;  // canonical bytes of a ResponseRecord
  Signature signature{};     // device key over (kRecordDomain || RecordHash(record_bytes))
  bool operator==(const SignedRecord&) const = default;
};
constexpr std::uint8_t kSignedRecordVersion = 1;
std::string EncodeSignedRecord(const SignedRecord& signed_record);
Result<SignedRecord> DecodeSignedRecord(std::string_view bytes);

}  // namespace canvass
