// A device's ResponseLog kept in a SQLite file (native devices: the CLI device, Linux kiosks).
// Every Append and Drop is one transaction, so a crash leaves either the old or the new state.
#pragma once

#include <memory>
#include <string>

#include "canvass/response_log.h"

namespace canvass::device {

Result<std::unique_ptr<Store>> OpenSqliteLogStore(const std::string& path);

}  // namespace canvass::device
