#include "canvass/crypto.h"

#include <sodium.h>

#include <cstring>
#include <string>

namespace canvass {
namespace {

// The message actually signed: domain tag followed by the 32-byte hash of the body.
std::string SignedBytesOfHash(std::string_view domain, const Hash256& h) {
  std::string msg(domain);
  msg.append(reinterpret_cast<const char*>(h.data()), h.size());
  return msg;
}

std::string SignedBytes(std::string_view domain, std::string_view body) {
  return SignedBytesOfHash(domain, Blake2b256(body));
}

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return Status::Unavailable("libsodium failed to initialise");
  return Status::Ok();
}

Hash256 Blake2b256(std::string_view bytes) {
  Hash256 out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return out;
}

SigningKey SigningKey::FromSeed(const Seed& seed) {
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(), seed.data());
  return key;
}

SigningKey SigningKey::Generate() {
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  SigningKey key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey::SigningKey(const SigningKey& other) = default;
SigningKey& SigningKey::operator=(const SigningKey& other) = default;
SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

Seed SigningKey::seed() const {
  Seed seed;
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_.data());
  return seed;
}

Signature SigningKey::SignDomain(std::string_view domain, std::string_view body) const {
  std::string msg = SignedBytes(domain, body);
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(msg.data()),
                       msg.size(), secret_.data());
  return sig;
}

bool VerifyDomain(std::string_view domain, std::string_view body, const Signature& signature,
                  const PublicKey& key) {
  return VerifyDomainHash(domain, Blake2b256(body), signature, key);
}

bool VerifyDomainHash(std::string_view domain, const Hash256& body_hash, const Signature& signature,
                      const PublicKey& key) {
  std::string msg = SignedBytesOfHash(domain, body_hash);
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     key.data()) == 0;
}

BoxKey BoxKey::FromSeed(const Seed& seed) {
  BoxKey key;
  crypto_box_seed_keypair(key.public_key_.data(), key.secret_.data(), seed.data());
  return key;
}

BoxKey BoxKey::Generate() {
  BoxKey key;
  crypto_box_keypair(key.public_key_.data(), key.secret_.data());
  return key;
}

BoxKey::BoxKey(const BoxKey& other) = default;
BoxKey& BoxKey::operator=(const BoxKey& other) = default;
BoxKey::~BoxKey() { sodium_memzero(secret_.data(), secret_.size()); }

Result<std::string> BoxKey::OpenSealed(std::string_view sealed) const {
  if (sealed.size() < crypto_box_SEALBYTES) {
    return Status::Corruption("sealed box is shorter than its overhead");
  }
  std::string plain(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                           public_key_.data(), secret_.data()) != 0) {
    return Status::Corruption("sealed box does not open with this organisation's key");
  }
  return plain;
}

std::string SealTo(const PublicKey& recipient, std::string_view plaintext) {
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                  recipient.data());
  return out;
}

std::string CustomerKey(const Seed& organisation_key, std::string_view card_number) {
  Hash256 out{};
  crypto_generichash(out.data(), out.size(),
                     reinterpret_cast<const unsigned char*>(card_number.data()), card_number.size(),
                     organisation_key.data(), organisation_key.size());
  return ToHex(out);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  // Compare hashes so that the time does not depend on where the strings differ, nor on the
  // secret's length.
  Hash256 ha = Blake2b256(a), hb = Blake2b256(b);
  return sodium_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

void RandomBytes(std::uint8_t* out, std::uint32_t size) { randombytes_buf(out, size); }
void SecureWipe(void* data, std::uint32_t size) { sodium_memzero(data, size); }

std::string ToHex(const std::uint8_t* data, std::uint32_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(size * 2u, '0');
  for (std::uint32_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("hex string has an odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("not a hex digit at position " + std::to_string(2 * i));
    }
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace canvass
