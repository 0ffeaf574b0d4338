// `canvass import surveyjs`: SurveyJS definitions to Canvass surveys.
#include <iostream>

#include "canvass/surveyjs.h"
#include "commands.h"

namespace canvass::cli {

int RunImport(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] != "surveyjs") {
    std::cout
        << "Usage: canvass import surveyjs FILE.json [--out SURVEY.json] [--id ID]\n\n"
           "Converts a SurveyJS definition to a Canvass survey (docs/surveyjs-import.md).\n"
           "Every element that cannot be mapped is listed on stderr by name with the reason.\n"
           "Without --out the survey is written to standard output.\n";
    return !args.empty() && args[0] == "--help" ? 0 : 2;
  }
  std::string file, out, id;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--out" && i + 1 < args.size()) {
      out = args[++i];
    } else if (args[i] == "--id" && i + 1 < args.size()) {
      id = args[++i];
    } else if (file.empty()) {
      file = args[i];
    } else {
      std::cerr << "canvass import surveyjs: unexpected argument '" << args[i] << "'\n";
      return 2;
    }
  }
  if (file.empty()) {
    std::cerr << "canvass import surveyjs: name the SurveyJS file\n";
    return 2;
  }
  Result<std::string> json = ReadFile(file);
  if (!json.ok()) {
    std::cerr << "canvass import surveyjs: " << json.status().message() << "\n";
    return 1;
  }
  Result<SurveyJsImport> imported = ImportSurveyJs(*json, id);
  if (!imported.ok()) {
    std::cerr << "canvass import surveyjs: " << file << ": " << imported.status().message() << "\n";
    return 1;
  }
  for (const SurveyJsIssue& issue : imported->unmapped) {
    std::cerr << "not imported: " << issue.element << ": " << issue.reason << "\n";
  }
  if (out.empty()) {
    std::cout << imported->definition;
    return 0;
  }
  Status s = native::ReplaceFileMode0600(out, imported->definition);
  if (!s.ok()) {
    std::cerr << "canvass import surveyjs: " << s.message() << "\n";
    return 1;
  }
  std::cerr << "wrote " << out << " (" << imported->unmapped.size()
            << " element(s) not imported)\n";
  return 0;
}

}  // namespace canvass::cli
