// The signed protocol messages on untrusted bytes: DecodeSignedMessage, and the bodies it carries
// (DecodeCertificate, DecodeReceipt, DecodeBundle). A device decodes all of them from the
// network before it checks a signature, so each must refuse garbage without crashing.
// The first byte picks the decoder (0 signed message, 1 certificate, 2 receipt, 3 bundle); the
// rest is its input. Property: every accepted message re-encodes to exactly the input.
#include <cstdint>

#include "canvass/messages.h"
#include "fuzz_support.h"

namespace canvass::fuzz {

void Run(std::string_view bytes) {
  if (bytes.empty()) return;
  const std::string_view input = bytes.substr(1);
  switch (static_cast<std::uint8_t>(bytes[0]) % 4) {
    case 0: {
      // What a device does next: verify, then decode the body as each kind it may be.
      std::optional<SignedMessage> m = CheckCanonical<SignedMessage>(
          input, DecodeSignedMessage, EncodeSignedMessage, "signed message");
      if (m) {
        (void)DecodeCertificate(m->body);
        (void)DecodeReceipt(m->body);
        (void)DecodeBundle(m->body);
      }
      break;
    }
    case 1:
      CheckCanonical<DeviceCertificate>(input, DecodeCertificate, EncodeCertificate, "certificate");
      break;
    case 2:
      CheckCanonical<SyncReceipt>(input, DecodeReceipt, EncodeReceipt, "receipt");
      break;
    case 3:
      CheckCanonical<SurveyBundle>(input, DecodeBundle, EncodeBundle, "bundle");
      break;
  }
}

const Target kTarget{nullptr, Run};

}  // namespace canvass::fuzz
