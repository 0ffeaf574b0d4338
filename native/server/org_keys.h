// OrgKeys: the organisation's secret keys, which canvass-server loads from its data directory
// (data_dir.h) and signs, seals and derives with (api.h). Owned by the Api; never logged.
#pragma once

#include "canvass/crypto.h"

namespace canvass::server {

struct OrgKeys {
  SigningKey sign;     // signs certificates, receipts, bundles
  BoxKey box;          // contact details are sealed to it
  Seed customer{};     // key of the pseudonymous customer hash
  Seed sms_gateway{};  // the server-side device key that signs SMS answers
};

}  // namespace canvass::server
