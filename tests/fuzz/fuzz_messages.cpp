// The signed protocol messages on untrusted bytes: DecodeSignedMessage, and the bodies it carries
// (DecodeCertificate, DecodeReceipt, DecodeBundle). A device decodes all of them from the
// network before it checks a signature, so each must refuse garbage without crashing.
// The first byte picks the decoder (0 signed message, 1 certificate, 2 receipt, 3 bundle); the
// rest is its input. Property: every accepted message re-encodes to exactly the input.
#include <cstdint>

#include "canvass/messages.h"
#include "fuzz_support.h"

namespace {

template <typename T, typename Decode, typename Encode>
void RoundTrip(std::string_view input, Decode decode, Encode encode, const char* what) {
  using namespace canvass;
  Result<T> value = decode(input);
  if (!value.ok()) {
    FUZZ_CHECK(value.status().code() == StatusCode::kCorruption, value.status().ToString());
    return;
  }
  FUZZ_CHECK(encode(*value) == input, std::string(what) + " encoding is not canonical");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  canvass::fuzz::InitOrDie();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace canvass;
  if (size == 0) return 0;
  const std::string_view input = fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      RoundTrip<SignedMessage>(input, DecodeSignedMessage, EncodeSignedMessage, "signed message");
      // What a device does next: verify, then decode the body as each kind it may be.
      Result<SignedMessage> m = DecodeSignedMessage(input);
      if (m.ok()) {
        (void)DecodeCertificate(m->body);
        (void)DecodeReceipt(m->body);
        (void)DecodeBundle(m->body);
      }
      break;
    }
    case 1:
      RoundTrip<DeviceCertificate>(input, DecodeCertificate, EncodeCertificate, "certificate");
      break;
    case 2:
      RoundTrip<SyncReceipt>(input, DecodeReceipt, EncodeReceipt, "receipt");
      break;
    case 3:
      RoundTrip<SurveyBundle>(input, DecodeBundle, EncodeBundle, "bundle");
      break;
  }
  return 0;
}
