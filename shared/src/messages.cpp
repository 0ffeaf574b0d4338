#include "canvass/messages.h"

#include "canvass/record.h"
#include "wire.h"

namespace canvass {
namespace {

constexpr std::uint8_t kSignedMessageVersion = 1;
constexpr std::uint8_t kCertificateVersion = 1;
constexpr std::uint8_t kReceiptVersion = 1;
constexpr std::uint8_t kBundleVersion = 1;
constexpr std::uint8_t kBatchVersion = 1;
constexpr std::uint32_t kMaxLocations = 1024;

void ExpectVersion(wire::Reader& r, std::uint8_t expected, const char* what) {
  std::uint8_t version = r.U8();
  if (version != expected) {
    throw wire::DecodeError(std::string("unknown ") + what + " version " + std::to_string(version) +
                            " (this build reads version " + std::to_string(expected) + ")");
  }
}

}  // namespace

std::string EncodeSignedMessage(const SignedMessage& message) {
  wire::Writer w;
  w.U8(kSignedMessageVersion);
  w.Str(message.body);
  w.Fixed(message.signature);
  return w.Finish();
}

Result<SignedMessage> DecodeSignedMessage(std::string_view bytes) {
  return wire::DecodeWith<SignedMessage>("signed message", bytes, [](wire::Reader& r) {
    ExpectVersion(r, kSignedMessageVersion, "signed message");
    SignedMessage m;
    m.body = r.Str("message body", kMaxSignedMessageBytes);
    m.signature = r.Fixed<64>("signature");
    return m;
  });
}

SignedMessage SignMessage(std::string_view domain, std::string body, const SigningKey& key) {
  SignedMessage m;
  m.signature = key.SignDomain(domain, body);
  m.body = std::move(body);
  return m;
}

Status VerifyMessage(std::string_view domain, const SignedMessage& message, const PublicKey& key) {
  if (!VerifyDomain(domain, message.body, message.signature, key)) {
    return Status::Unauthenticated(std::string(domain) +
                                   ": signature does not verify with the organisation key");
  }
  return Status::Ok();
}

std::string EncodeCertificate(const DeviceCertificate& c) {
  wire::Writer w;
  w.U8(kCertificateVersion);
  w.Str(c.device_id);
  w.Str(c.location);
  w.Str(c.channel);
  w.Fixed(c.device_key);
  w.I64(c.valid_from_ms);
  w.I64(c.valid_until_ms);
  w.U8(c.web ? 1 : 0);
  return w.Finish();
}

Result<DeviceCertificate> DecodeCertificate(std::string_view bytes) {
  return wire::DecodeWith<DeviceCertificate>("device certificate", bytes, [](wire::Reader& r) {
    ExpectVersion(r, kCertificateVersion, "device certificate");
    DeviceCertificate c;
    c.device_id = r.Str("device id", kMaxIdLength);
    c.location = r.Str("location", kMaxTextLength);
    c.channel = r.Str("channel", kMaxIdLength);
    c.device_key = r.Fixed<32>("device key");
    c.valid_from_ms = r.I64();
    c.valid_until_ms = r.I64();
    c.web = r.Bool("web");
    return c;
  });
}

std::string EncodeReceipt(const SyncReceipt& receipt) {
  wire::Writer w;
  w.U8(kReceiptVersion);
  w.Str(receipt.device_id);
  w.U64(receipt.last_seq);
  w.Fixed(receipt.head_hash);
  w.I64(receipt.server_time_ms);
  return w.Finish();
}

Result<SyncReceipt> DecodeReceipt(std::string_view bytes) {
  return wire::DecodeWith<SyncReceipt>("receipt", bytes, [](wire::Reader& r) {
    ExpectVersion(r, kReceiptVersion, "receipt");
    SyncReceipt s;
    s.device_id = r.Str("device id", kMaxIdLength);
    s.last_seq = r.U64();
    s.head_hash = r.Fixed<32>("head hash");
    s.server_time_ms = r.I64();
    return s;
  });
}

std::string EncodeBundle(const SurveyBundle& bundle) {
  wire::Writer w;
  w.U8(kBundleVersion);
  w.Str(bundle.survey_id);
  w.Str(bundle.definition_json);
  w.I64(bundle.published_ms);
  w.U32(static_cast<std::uint32_t>(bundle.locations.size()));
  for (const auto& l : bundle.locations) w.Str(l);
  return w.Finish();
}

Result<SurveyBundle> DecodeBundle(std::string_view bytes) {
  return wire::DecodeWith<SurveyBundle>("survey bundle", bytes, [](wire::Reader& r) {
    ExpectVersion(r, kBundleVersion, "survey bundle");
    SurveyBundle b;
    b.survey_id = r.Str("survey id", kMaxIdLength);
    b.definition_json = r.Str("survey definition");
    b.published_ms = r.I64();
    std::uint32_t n = r.Count("location", 4);
    if (n > kMaxLocations) throw wire::DecodeError("too many locations");
    for (std::uint32_t i = 0; i < n; ++i) b.locations.push_back(r.Str("location", kMaxTextLength));
    return b;
  });
}

std::string EncodeBatch(const RecordBatch& batch) {
  wire::Writer w;
  w.U8(kBatchVersion);
  w.U32(batch.protocol);
  w.Str(batch.device_id);
  w.U32(static_cast<std::uint32_t>(batch.envelopes.size()));
  for (const std::string& e : batch.envelopes) w.Str(e);
  return w.Finish();
}

Result<RecordBatch> DecodeBatch(std::string_view bytes) {
  if (bytes.size() > kMaxBatchBytes) {
    return Status::InvalidArgument("batch is " + std::to_string(bytes.size()) +
                                   " bytes, over the limit of " + std::to_string(kMaxBatchBytes));
  }
  // The protocol number sits at a fixed place (after marker and version) so that a peer of
  // another protocol gets told so by name, whatever follows.
  if (bytes.size() >= 6 && bytes[0] == 1 && bytes[1] == kBatchVersion) {
    std::uint32_t protocol = 0;
    for (int i = 0; i < 4; ++i) {
      protocol |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[2 + i])) << (8 * i);
    }
    if (protocol != kProtocolVersion) {
      return Status::InvalidArgument("wrong protocol version " + std::to_string(protocol) +
                                     " (this server speaks protocol " +
                                     std::to_string(kProtocolVersion) + ")");
    }
  }
  return wire::DecodeWith<RecordBatch>("record batch", bytes, [](wire::Reader& r) {
    ExpectVersion(r, kBatchVersion, "record batch");
    RecordBatch b;
    b.protocol = r.U32();
    b.device_id = r.Str("device id", kMaxIdLength);
    std::uint32_t n = r.Count("record", 4);
    if (n == 0) throw wire::DecodeError("batch holds no records");
    if (n > kMaxBatchRecords) {
      throw wire::DecodeError("batch holds " + std::to_string(n) + " records, over the limit of " +
                              std::to_string(kMaxBatchRecords));
    }
    b.envelopes.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      b.envelopes.push_back(r.Str("record envelope", kMaxRecordBytes + 128));
    }
    return b;
  });
}

std::optional<std::uint32_t> PeekBatchCount(std::string_view bytes) {
  // marker, version, u32 protocol, u32 device id length, device id, u32 count
  auto u32 = [&](std::size_t at) -> std::optional<std::uint32_t> {
    if (bytes.size() < at + 4) return std::nullopt;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    }
    return v;
  };
  if (bytes.size() < 2 || bytes[0] != 1 || bytes[1] != kBatchVersion) return std::nullopt;
  std::optional<std::uint32_t> id_length = u32(6);
  if (!id_length || *id_length > kMaxIdLength) return std::nullopt;
  return u32(10 + *id_length);
}

}  // namespace canvass
