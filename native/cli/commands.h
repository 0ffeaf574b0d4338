// The subcommands of the `canvass` tool. Each takes the arguments after its name and returns the
// process exit code: 0 ok, 1 refused or invalid input, 2 usage error, 3 server unreachable.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "canvass/status.h"
#include "canvass/survey.h"
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

// A survey definition file, read and parsed (survey_command.cpp).
struct SurveyFile {
  std::string definition;  // the bytes, whose hash is the survey's version
  Survey survey;
};
// nullopt after printing why to stderr: "<command>: <why>" if the file cannot be read, "<path>:
// <why>" if it is not a valid survey (the path and the core's field path say where to look).
std::optional<SurveyFile> LoadSurveyFile(const std::string& path, const std::string& command);

}  // namespace canvass::cli
