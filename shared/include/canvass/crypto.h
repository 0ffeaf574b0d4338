// Crypto primitives of Canvass, all from libsodium, with sizes as named types.
//
// - Blake2b256: the hash of canonical bytes (records, survey definitions).
// - SignDomain / VerifyDomain: Ed25519 over (domain tag || BLAKE2b-256(body)); every signed
//   message type has its own domain tag, so a signature over one kind can never pass as another.
// - SealTo / OpenSealed: crypto_box_seal, for contact details sealed on the device to the
//   organisation's box key.
// - CustomerKey: keyed BLAKE2b of a loyalty-card number, the only form of it that is stored.
// Secret keys zero themselves on destruction. InitCrypto() must succeed once before any other call;
// after that every function is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "canvass/status.h"

namespace canvass {

constexpr std::string_view kRecordDomain = "canvass/record/v1";
constexpr std::string_view kSurveyDomain = "canvass/survey/v1";
constexpr std::string_view kReceiptDomain = "canvass/receipt/v1";
constexpr std::string_view kDeviceDomain = "canvass/device/v1";
// Webhook events of the server's closed loop (docs/protocol.md, "Webhooks"): the signature over
// the JSON body that a receiver checks with the organisation's public signing key.
constexpr std::string_view kWebhookDomain = "canvass/webhook/v1";

using Hash256 = std::array<std::uint8_t, 32>;
using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;
using Seed = std::array<std::uint8_t, 32>;

// Initialises libsodium. Safe to call more than once.
Status InitCrypto();

Hash256 Blake2b256(std::string_view bytes);

// An Ed25519 key pair. The secret half is wiped when the object dies.
class SigningKey {
 public:
  static SigningKey FromSeed(const Seed& seed);  // deterministic: same seed, same key
  static SigningKey Generate();
  SigningKey(const SigningKey& other);
  SigningKey& operator=(const SigningKey& other);
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed, for storing the key; the caller must wipe its copy.
  Seed seed() const;
  Signature SignDomain(std::string_view domain, std::string_view body) const;

 private:
  SigningKey() = default;
  std::array<std::uint8_t, 64> secret_{};
  PublicKey public_key_{};
};

// True only if `signature` is `key`'s signature over (domain || BLAKE2b-256(body)).
[[nodiscard]] bool VerifyDomain(std::string_view domain, std::string_view body,
                                const Signature& signature, const PublicKey& key);

// The same check when the caller already holds BLAKE2b-256(body) (saves hashing twice).
[[nodiscard]] bool VerifyDomainHash(std::string_view domain, const Hash256& body_hash,
                                    const Signature& signature, const PublicKey& key);

// An X25519 key pair for sealed boxes. The secret half is wiped when the object dies.
class BoxKey {
 public:
  static BoxKey FromSeed(const Seed& seed);
  static BoxKey Generate();
  BoxKey(const BoxKey& other);
  BoxKey& operator=(const BoxKey& other);
  ~BoxKey();
  const PublicKey& public_key() const { return public_key_; }
  // Opens a box made by SealTo(public_key(), ...). Corruption if it was not sealed to us.
  Result<std::string> OpenSealed(std::string_view sealed) const;

 private:
  BoxKey() = default;
  std::array<std::uint8_t, 32> secret_{};
  PublicKey public_key_{};
};

// Anonymous sealed box to `recipient`: only the holder of the matching BoxKey can open it.
std::string SealTo(const PublicKey& recipient, std::string_view plaintext);

// Pseudonymous customer key: hex of keyed BLAKE2b-256(card number) under the organisation's key.
std::string CustomerKey(const Seed& organisation_key, std::string_view card_number);

// Equality in constant time, for tokens, codes and hashes an attacker can probe.
[[nodiscard]] bool ConstantTimeEqual(std::string_view a, std::string_view b);

void RandomBytes(std::uint8_t* out, std::uint32_t size);
void SecureWipe(void* data, std::uint32_t size);

std::string ToHex(const std::uint8_t* data, std::uint32_t size);
template <std::size_t N>
std::string ToHex(const std::array<std::uint8_t, N>& bytes) {
  return ToHex(bytes.data(), static_cast<std::uint32_t>(N));
}
inline std::string ToHex(std::string_view bytes) {
  return ToHex(reinterpret_cast<const std::uint8_t*>(bytes.data()),
               static_cast<std::uint32_t>(bytes.size()));
}
// Decodes lower- or upper-case hex; InvalidArgument on odd length or a non-hex character.
Result<std::string> FromHex(std::string_view hex);
// Decodes hex of exactly N bytes.
template <std::size_t N>
Result<std::array<std::uint8_t, N>> ArrayFromHex(std::string_view hex) {
  Result<std::string> bytes = FromHex(hex);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != N) {
    return Status::InvalidArgument("expected " + std::to_string(N * 2) + " hex digits, got " +
                                   std::to_string(hex.size()));
  }
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>((*bytes)[i]);
  return out;
}

}  // namespace canvass
