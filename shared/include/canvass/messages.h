// Signed messages of the sync protocol other than records (DESIGN.md §4–§5, docs/encoding.md):
// device certificates, sync receipts and survey bundles. Each has canonical bytes, and travels as
// a SignedMessage: those bytes plus the organisation's signature over
// (domain tag || BLAKE2b-256(bytes)), with the domain tag of its type.
//
// The protocol version lives here: a peer that speaks another version is refused by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/status.h"

namespace canvass {

constexpr std::uint32_t kProtocolVersion = 1;

struct SignedMessage {
  std::string body;  // canonical bytes of a certificate, receipt or bundle
  Signature signature{};
  bool operator==(const SignedMessage&) const = default;
};
constexpr std::uint32_t kMaxSignedMessageBytes = 2u << 20;
std::string EncodeSignedMessage(const SignedMessage& message);
Result<SignedMessage> DecodeSignedMessage(std::string_view bytes);
SignedMessage SignMessage(std::string_view domain, std::string body, const SigningKey& key);
// Unauthenticated unless `key` signed `message` under `domain`.
[[nodiscard]] Status VerifyMessage(std::string_view domain, const SignedMessage& message,
                                   const PublicKey& key);

// What the organisation says about a device it enrolled.
struct DeviceCertificate {
  std::string device_id;
  std::string location;
  std::string channel;  // kiosk, web, sms, ...
  PublicKey device_key{};
  std::int64_t valid_from_ms = 0;
  std::int64_t valid_until_ms = 0;
  bool web = false;  // a public web-channel key: one per browser, rate-limited
  bool operator==(const DeviceCertificate&) const = default;
};
std::string EncodeCertificate(const DeviceCertificate& certificate);
Result<DeviceCertificate> DecodeCertificate(std::string_view bytes);

// The server's word that it stored a device's log up to last_seq, whose hash is head_hash.
struct SyncReceipt {
  std::string device_id;
  std::uint64_t last_seq = 0;
  Hash256 head_hash{};
  std::int64_t server_time_ms = 0;
  bool operator==(const SyncReceipt&) const = default;
};
std::string EncodeReceipt(const SyncReceipt& receipt);
Result<SyncReceipt> DecodeReceipt(std::string_view bytes);

// A published survey definition, as distributed to devices.
struct SurveyBundle {
  std::string survey_id;
  std::string definition_json;  // the exact bytes whose hash is the survey version
  std::int64_t published_ms = 0;
  std::vector<std::string> locations;  // empty: every location
  bool operator==(const SurveyBundle&) const = default;
};
std::string EncodeBundle(const SurveyBundle& bundle);
Result<SurveyBundle> DecodeBundle(std::string_view bytes);
// What a device pushes: signed-record envelopes of one device, in seq order.
struct RecordBatch {
  std::uint32_t protocol = kProtocolVersion;
  std::string device_id;
  std::vector<std::string> envelopes;  // EncodeSignedRecord(...) each
  bool operator==(const RecordBatch&) const = default;
};
constexpr std::uint32_t kMaxBatchRecords = 500;
constexpr std::uint32_t kMaxBatchBytes = 4u << 20;
std::string EncodeBatch(const RecordBatch& batch);
// Corruption for bad bytes; InvalidArgument naming the versions for a protocol mismatch.
Result<RecordBatch> DecodeBatch(std::string_view bytes);
// The record count a batch claims, read from its header without decoding it (nullopt if the
// header is unreadable): lets a server answer "too large" before doing any work.
std::optional<std::uint32_t> PeekBatchCount(std::string_view bytes);

// The survey version hash that records carry: BLAKE2b-256 of the definition's bytes.
inline Hash256 SurveyVersion(std::string_view definition_json) {
  return Blake2b256(definition_json);
}

}  // namespace canvass
