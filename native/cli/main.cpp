// canvass: the command-line tool. main() only dispatches; each subcommand lives in its own file
// (commands.h) and calls the shared core for the real work.
#include <iostream>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "commands.h"

namespace canvass::cli {

namespace {

constexpr char kUsage[] = R"(canvass - customer-feedback survey kit

Usage:
  canvass survey check FILE...            validate survey definitions; exit 1 if any is invalid
  canvass survey show FILE [--lang LANG]  print a survey's questions, branching and delivery
  canvass admin --server URL --token T COMMAND    administer a canvass-server (canvass admin --help)
  canvass admin login --server URL [--user NAME]  keep a session, so that --token can be left out
  canvass device --state DIR COMMAND              a native survey device (canvass device --help)
  canvass import surveyjs FILE [--out SURVEY.json] convert a SurveyJS definition
  canvass report --survey S --input R.jsonl [--by TAG|period:week]...  indices, groups, trends
  canvass demo-data --survey S --count N --seed S [--out FILE]       realistic responses (JSONL)
  canvass --help | --version

Survey definitions are JSON (docs/survey-format.md). Errors name the field and the reason, e.g.
  bad.json: questions[2].show_if.question: "x" is not an earlier question of this survey
Exit codes: 0 ok, 1 refused or invalid input, 2 usage error, 3 server unreachable.
)";

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "canvass 0.1.0 (protocol " << kProtocolVersion << ")\n";
    return 0;
  }
  if (!InitCrypto().ok()) {
    std::cerr << "canvass: libsodium failed to initialise\n";
    return 1;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "survey") return RunSurvey(rest);
  if (command == "admin") return RunAdmin(rest);
  if (command == "device") return RunDevice(rest);
  if (command == "import") return RunImport(rest);
  if (command == "report") return RunReport(rest);
  if (command == "demo-data") return RunDemoData(rest);
  std::cerr << "canvass: unknown command '" << command << "'; see canvass --help\n";
  return 2;
}

}  // namespace
}  // namespace canvass::cli

int main(int argc, char** argv) { return canvass::cli::Main(argc, argv); }
