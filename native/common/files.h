// File helpers shared by the native binaries (server and CLI): whole-file reads and owner-only
// writes for keys, tokens and device state.
#pragma once

#include <string>

#include "canvass/status.h"

namespace canvass::native {

// Whole file, or NotFound naming the path.
Result<std::string> ReadWholeFile(const std::string& path);
// Writes `contents` to `path` with mode 0600 and fsync; `exclusive` fails if the file exists.
Status WriteFileMode0600(const std::string& path, const std::string& contents, bool exclusive);
// Writes through a temporary file and rename(), so readers see the old or the new contents.
Status ReplaceFileMode0600(const std::string& path, const std::string& contents);
// mkdir with mode 0700; an existing directory is fine.
Status MakePrivateDir(const std::string& dir);

}  // namespace canvass::native
