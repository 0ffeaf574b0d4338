// ThreadExecutor (native/common/thread_executor.h): every task runs once, and a report counted on
// several threads is byte for byte the report counted on one.
#include "thread_executor.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <sstream>
#include <vector>

#include "canvass/interchange.h"
#include "canvass/report_format.h"
#include "test_support.h"

using namespace canvass;

TEST_CASE("ThreadExecutor runs every task exactly once", "[native]") {
  ThreadExecutor executor(3);
  CHECK(executor.Concurrency() == 3);
  CHECK(ThreadExecutor().Concurrency() >= 1);
  std::vector<std::atomic<int>> calls(7);
  executor.Run(7, [&](unsigned i) { ++calls[i]; });
  for (const std::atomic<int>& c : calls) CHECK(c.load() == 1);
  executor.Run(0, [&](unsigned) { FAIL("no task to run"); });
}

TEST_CASE("A report counted on threads is the report counted on one thread", "[native]") {
  Result<Survey> survey = ParseSurvey(test::ReadSourceFile("examples/restaurant.json"));
  REQUIRE(survey.ok());
  std::vector<ResponseRecord> base;
  std::istringstream in(test::ReadSourceFile("tests/golden/report-input.jsonl"));
  for (std::string line; std::getline(in, line);) {
    Result<ResponseRecord> r = ParseJsonLine(line, &*survey);
    REQUIRE(r.ok());
    base.push_back(*r);
  }
  // 100 copies a day apart, customers recurring across copies: 40,000 offers, several parts.
  ResponseTable table(*survey);
  for (int copy = 0; copy < 100; ++copy) {
    for (ResponseRecord r : base) {
      r.device_time_ms += int64_t{copy} * 86400000;
      if (!r.customer_key.empty()) r.customer_key += std::to_string(copy % 5);
      REQUIRE(table.Add(r).ok());
    }
  }
  ReportOptions options;
  options.by = {*ParseGroupBy("location"), *ParseGroupBy("period:week")};
  const std::string one = ReportToJson(*BuildReport(table, options));
  for (unsigned threads : {2u, 4u}) {
    ThreadExecutor executor(threads);
    Result<Report> report = BuildReport(table, options, &executor);
    REQUIRE(report.ok());
    CHECK(ReportToJson(*report) == one);
    Result<CollectedStats> stats = CollectStats(table, options, &executor);
    REQUIRE(stats.ok());
    CHECK(*stats == *CollectStats(table, options));
  }
}
