// The server's data directory: organisation keys and the initial admin token, as files readable
// by the owner only. Several server instances sharing one PostgreSQL share one data directory (or
// a copy of its keys/ folder), so that they sign with the same organisation keys.
#pragma once

#include <string>

#include "canvass/status.h"
#include "org_keys.h"

namespace canvass::server {

// Creates `dir` (0700) if needed, then loads the organisation keys from dir/keys/, creating them
// on first start. Concurrent first starts agree on one set of keys.
Result<OrgKeys> LoadOrCreateKeys(const std::string& dir);

}  // namespace canvass::server
