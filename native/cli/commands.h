// The subcommands of the `canvass` tool. Each takes the arguments after its name and returns the
// process exit code: 0 ok, 1 refused or invalid input, 2 usage error, 3 server unreachable.
#pragma once

#include <string>
#include <vector>

#include "canvass/status.h"
#include "files.h"

namespace canvass::cli {

int RunSurvey(const std::vector<std::string>& args);    // survey_command.cpp
int RunAdmin(const std::vector<std::string>& args);     // admin_command.cpp
int RunDevice(const std::vector<std::string>& args);    // device_command.cpp
int RunImport(const std::vector<std::string>& args);    // import_command.cpp
int RunReport(const std::vector<std::string>& args);    // report_command.cpp
int RunDemoData(const std::vector<std::string>& args);  // demo_data_command.cpp

// Whole file, or NotFound naming the path.
inline Result<std::string> ReadFile(const std::string& path) { return native::ReadWholeFile(path); }

}  // namespace canvass::cli
