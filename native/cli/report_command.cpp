// `canvass report`: every index of a survey's responses (JSON Lines) as a table, JSON, CSV or a
// self-contained HTML page.
// The file is streamed line by line into a columnar ResponseTable (report.h); only the columns are
// kept, never the text, so ten million lines fit. Bad lines are counted and named, never fatal
// unless --strict.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "canvass/interchange.h"
#include "canvass/report.h"
#include "canvass/survey.h"
#include "commands.h"
#include "thread_executor.h"

namespace canvass::cli {
namespace {

constexpr char kHelp[] = R"(canvass report - loyalty indices of a survey's responses

Usage:
  canvass report --survey SURVEY.json --input RESPONSES.jsonl [options]

Input:
  --survey FILE          the survey definition the responses answer (docs/survey-format.md);
                         its questions' metric roles say which index each feeds
  --input FILE           responses as JSON Lines, one offer per line (docs/interchange.md);
                         "-" reads standard input. Lines of other surveys are skipped.

Selection:
  --from DATE            keep offers at or after DATE (2026-11-02 or 2026-11-02T09:00:00Z)
  --to DATE              keep offers before DATE (the end is excluded: --to 2026-12-01 keeps
                         all of November)
  --where TAG=VALUE      keep offers tagged TAG=VALUE; repeat to require several (all must hold)

Grouping:
  --by TAG               one group per value of a context tag (location, staff, channel, ...)
  --by period:day|period:week|period:month
                         one group per day, ISO week (2026-W47) or month; each period is
                         compared with the previous one (difference, interval, significant?)
                         Repeat --by to cross dimensions: --by location --by period:week.
                         Groups are ranked by the headline index (NPS if the survey has one),
                         within each period when a period is one of the dimensions.

Rules:
  --nonresponders exclude|as_passive|as_detractor
                         how offers without a score count in NPS (default exclude, the classic
                         NPS); the report always shows the classic NPS and the bounds too
  --min-n N              groups with fewer answers are listed but not ranked (default 30)
  --min-response-rate P  warn when completed/offered is below P percent (default 20)

Output:
  --format table|json|csv|html
                         table for people (default), JSON for programs (docs/report.md),
                         CSV (UTF-8 with BOM) for spreadsheets, or HTML: one self-contained
                         page to forward or print (cards, trend per week - or per day/month
                         with --by period:day/month - score distribution, groups, CSI table)
  --out FILE             write there instead of standard output
  --strict               refuse to report when any line is invalid (exit 1)

Invalid lines (not JSON, unknown question, value outside the scale, wrong type) are counted,
the first 20 are named with their line numbers on stderr and in the report's warnings, and the
rest of the file is used. Exit codes: 0 ok, 1 invalid input, 2 usage error.
)";

int Usage(const std::string& message) {
  std::cerr << "canvass report: " << message << "\n(see canvass report --help)\n";
  return 2;
}

}  // namespace

int RunReport(const std::vector<std::string>& args) {
  std::string survey_path, input_path, format = "table", out_path;
  bool strict = false;
  ReportOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (arg == "--strict") {
      strict = true;
      continue;
    }
    if (i + 1 >= args.size()) return Usage(arg + " needs a value");
    const std::string& value = args[++i];
    if (arg == "--survey") {
      survey_path = value;
    } else if (arg == "--input") {
      input_path = value;
    } else if (arg == "--format") {
      if (value != "table" && value != "json" && value != "csv" && value != "html") {
        return Usage("--format must be table, json, csv or html");
      }
      format = value;
    } else if (arg == "--out") {
      out_path = value;
    } else if (arg == "--from" || arg == "--to") {
      Result<int64_t> t = ParseIsoTime(value);
      if (!t.ok()) return Usage(arg + ": " + t.status().message());
      (arg == "--from" ? options.from_ms : options.to_ms) = *t;
    } else if (arg == "--where") {
      const std::size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return Usage("--where needs TAG=VALUE");
      options.where.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (arg == "--by") {
      Result<GroupBy> by = ParseGroupBy(value);
      if (!by.ok()) return Usage("--by " + by.status().message());
      options.by.push_back(*by);
    } else if (arg == "--nonresponders") {
      if (value == "exclude") {
        options.nonresponders = metrics::NonResponderTreatment::kExclude;
      } else if (value == "as_passive") {
        options.nonresponders = metrics::NonResponderTreatment::kAsPassive;
      } else if (value == "as_detractor") {
        options.nonresponders = metrics::NonResponderTreatment::kAsDetractor;
      } else {
        return Usage("--nonresponders must be exclude, as_passive or as_detractor");
      }
    } else if (arg == "--min-n" || arg == "--min-response-rate") {
      char* end = nullptr;
      const double number = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(number >= 0) || number > 1e9) {
        return Usage(arg + " needs a non-negative number");
      }
      if (arg == "--min-n") {
        options.min_n = static_cast<uint64_t>(number);
      } else {
        if (number > 100) return Usage("--min-response-rate is a percentage, 0..100");
        options.min_response_rate = number;
      }
    } else {
      return Usage("unknown option '" + arg + "'");
    }
  }
  if (survey_path.empty() || input_path.empty()) return Usage("--survey and --input are required");
  if (options.from_ms && options.to_ms && *options.from_ms >= *options.to_ms) {
    return Usage("--from must be before --to");
  }

  std::optional<SurveyFile> file = LoadSurveyFile(survey_path, "canvass report");
  if (!file) return 1;

  ResponseTable table(file->survey);
  {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (input_path != "-") {
      file.open(input_path, std::ios::binary);
      if (!file) {
        std::cerr << "canvass report: cannot open " << input_path << "\n";
        return 1;
      }
      in = &file;
    }
    std::string line;
    uint64_t number = 0;
    while (std::getline(*in, line)) table.AddJsonLine(line, ++number);
    if (in->bad()) {
      std::cerr << "canvass report: reading " << input_path << " failed after line " << number
                << "\n";
      return 1;
    }
  }

  const InputIssues& issues = table.issues();
  if (issues.refused > 0) {
    std::cerr << input_path << ": " << issues.refused << " of " << issues.read << " lines refused";
    for (const auto& [reason, count] : issues.by_reason)
      std::cerr << "; " << count << " " << reason;
    std::cerr << "\n";
    for (const InputIssue& issue : issues.listed) {
      std::cerr << input_path << ":" << issue.line << ": " << issue.message << "\n";
    }
    if (issues.refused > issues.listed.size()) {
      std::cerr << "... and " << issues.refused - issues.listed.size() << " more\n";
    }
    if (strict) {
      std::cerr << "canvass report: --strict: no report from invalid input\n";
      return 1;
    }
  }

  // The table's rows are counted on every core (the report is the same on one).
  ThreadExecutor executor;
  Result<Report> report = BuildReport(table, options, &executor);
  if (!report.ok()) {
    std::cerr << "canvass report: " << report.status().message() << "\n";
    return 1;
  }
  std::string text;
  if (format == "html") {
    // The trend chart needs the same selection per period; a report grouped by one period is
    // its own trend.
    std::optional<Report> trend;
    if (!IsTrendReport(*report)) {
      Result<Report> t = BuildReport(table, TrendOptions(options), &executor);
      if (!t.ok()) {
        std::cerr << "canvass report: " << t.status().message() << "\n";
        return 1;
      }
      trend = std::move(*t);
    }
    text = ReportToHtml(*report, trend ? &*trend : nullptr, file->survey);
  } else {
    text = format == "json"  ? ReportToJson(*report)
           : format == "csv" ? ReportToCsv(*report)
                             : ReportToTable(*report);
  }
  if (out_path.empty()) {
    std::cout << text;
    std::cout.flush();
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream out(out_path, std::ios::binary);
  out << text;
  if (!out.good()) {
    std::cerr << "canvass report: cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace canvass::cli
