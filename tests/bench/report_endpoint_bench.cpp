// Benchmark (c): GET /v1/admin/report over a store of N records (default 1M), natively. Fills a
// SQLite store with the benchmarks' records (bench_records.h) as the chains of 16 devices (one
// per location and channel: the server files a record under its device's), lets
// the statistics projection count them, then times the report two ways on the same store:
//   - "records": an Api without a projector, which decodes every stored record and counts a
//     table (what every report did before the report read the cube);
//   - "cube": an Api with the projector, which reads the projection's cells when the cube can
//     answer (a whole-day range, the cube's tags and periods).
// Both must give the same body (the run fails otherwise). Three runs of each, median printed.
//
//   canvass_bench_report_endpoint [records] [--db FILE] [--no-records-path]
//
// --db puts the store in FILE (replaced) instead of in memory. --no-records-path times the cube
// only (the records path holds every decoded record in memory at once).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api.h"
#include "bench_records.h"
#include "canvass/response_log.h"
#include "projector.h"
#include "stats_projection.h"
#include "store.h"

namespace canvass::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kNow = 1795000000000;
constexpr int kDevices = 16;  // 8 locations x (kiosk, web)

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double MaxRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

// Stores n records as the chains of kDevices devices, in batches of 5,000 per device.
Status Fill(ServerStore* store, uint64_t n) {
  std::vector<SigningKey> keys;
  std::vector<ChainHead> heads(kDevices);
  std::vector<std::vector<VerifiedRecord>> batches(kDevices);
  for (int d = 0; d < kDevices; ++d) {
    keys.push_back(SigningKey::Generate());
    DeviceRow row;
    row.device_id = "bench-" + std::to_string(d);
    row.location = bench::kLocations[d / 2];
    row.channel = d % 2 ? "web" : "kiosk";
    row.enrolled_ms = kNow;
    if (Status s = store->AddDevice(row); !s.ok()) return s;
  }
  auto flush = [&](int d) -> Status {
    if (batches[d].empty()) return Status::Ok();
    Result<AppendResult> stored =
        store->AppendRecords("bench-" + std::to_string(d), batches[d], kNow);
    if (!stored.ok()) return stored.status();
    if (stored->stored != batches[d].size()) return Status::Conflict("a batch was not stored");
    batches[d].clear();
    return Status::Ok();
  };
  SplitMix64 rng(7);
  ResponseRecord r;
  for (uint64_t i = 0; i < n; ++i) {
    bench::NextRecord(rng, i, n, &r);
    const int location = static_cast<int>(
        std::find(std::begin(bench::kLocations), std::end(bench::kLocations), r.tags["location"]) -
        std::begin(bench::kLocations));
    const int d = location * 2 + (r.tags["channel"] == "web" ? 1 : 0);
    r.device_id = "bench-" + std::to_string(d);
    Result<LogEntry> entry = SignNext(heads[d], r, keys[d]);
    if (!entry.ok()) return entry.status();
    batches[d].push_back({entry->seq, entry->hash, heads[d].hash, entry->envelope});
    heads[d] = {entry->seq, entry->hash};
    if (batches[d].size() == 5000) {
      if (Status s = flush(d); !s.ok()) return s;
    }
  }
  for (int d = 0; d < kDevices; ++d) {
    if (Status s = flush(d); !s.ok()) return s;
  }
  return Status::Ok();
}

int Run(uint64_t n, const std::string& db, bool records_path) {
  if (Status s = InitCrypto(); !s.ok()) return Fail("crypto", s);
  if (!db.empty()) std::remove(db.c_str());
  Result<std::unique_ptr<ServerStore>> opened = OpenSqliteStore(db.empty() ? ":memory:" : db);
  if (!opened.ok()) return Fail("store", opened.status());
  ServerStore* store = opened->get();
  SurveyDefinitions definitions;
  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<StatsProjection>(&definitions));
  Projector projector(store, std::move(projections));
  if (Status s = projector.Start(); !s.ok()) return Fail("projector", s);
  ApiOptions with_cube;
  with_cube.projector = &projector;
  with_cube.definitions = &definitions;
  Api cube_api(store, OrgKeys{SigningKey::Generate(), BoxKey::Generate()}, with_cube,
               [] { return kNow; });
  Api records_api(store, OrgKeys{SigningKey::Generate(), BoxKey::Generate()}, ApiOptions{},
                  [] { return kNow; });
  Result<std::string> token = cube_api.CreateInitialAdminToken();
  if (!token.ok()) return Fail("token", token.status());
  Result<SurveyRow> published = cube_api.Publish(bench::kSurvey, {});
  if (!published.ok()) return Fail("publish", published.status());

  const Clock::time_point t0 = Clock::now();
  if (Status s = Fill(store, n); !s.ok()) return Fail("fill", s);
  const Clock::time_point t1 = Clock::now();
  projector.Notify();
  if (Status s = projector.CatchUp(); !s.ok()) return Fail("projection", s);
  const Clock::time_point t2 = Clock::now();
  std::printf("%llu records: signed and stored in %.1f s, projected in %.1f s\n",
              static_cast<unsigned long long>(n), Ms(t0, t1) / 1000, Ms(t1, t2) / 1000);

  const char* const queries[][2] = {
      {"by", "location"},
      {"by", "period:week"},
  };
  // Wall time, and the process's CPU time beside it (on a shared machine the wall clock also
  // counts time spent waiting for a core).
  auto get = [&](Api& api, bool grouped, double* ms, double* cpu_ms) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/v1/admin/report";
    r.query.emplace("survey", "restaurant");
    if (grouped) {
      for (const auto& q : queries) r.query.emplace(q[0], q[1]);
    }
    r.headers["authorization"] = "Bearer " + *token;
    const std::clock_t c = std::clock();
    const Clock::time_point a = Clock::now();
    HttpResponse out = api.Handle(r);
    *ms = Ms(a, Clock::now());
    *cpu_ms = 1000.0 * static_cast<double>(std::clock() - c) / CLOCKS_PER_SEC;
    if (out.status != 200) std::fprintf(stderr, "report: %d %s\n", out.status, out.body.c_str());
    return out.body;
  };
  int failed = 0;
  for (bool grouped : {false, true}) {
    std::vector<double> cube_ms, records_ms, cube_cpu, records_cpu;
    std::string cube_body, records_body;
    for (int run = 0; run < 3; ++run) {
      double ms = 0, cpu = 0;
      cube_body = get(cube_api, grouped, &ms, &cpu);
      cube_ms.push_back(ms);
      cube_cpu.push_back(cpu);
      if (records_path) {
        records_body = get(records_api, grouped, &ms, &cpu);
        records_ms.push_back(ms);
        records_cpu.push_back(cpu);
      }
    }
    for (auto* v : {&cube_ms, &records_ms, &cube_cpu, &records_cpu})
      std::sort(v->begin(), v->end());
    const char* what = grouped ? "by location x ISO week" : "everything";
    if (records_path) {
      std::printf(
          "  %-24s records %9.1f ms (cpu %9.1f)   cube %7.1f ms (cpu %7.1f)   (medians of 3)\n",
          what, records_ms[1], records_cpu[1], cube_ms[1], cube_cpu[1]);
      if (cube_body != records_body) {
        std::fprintf(stderr, "  the two reports differ\n");
        failed = 1;
      }
    } else {
      std::printf("  %-24s cube %7.1f ms (cpu %7.1f)   (medians of 3)\n", what, cube_ms[1],
                  cube_cpu[1]);
    }
  }
  std::printf("peak RSS %.0f MB\n", MaxRssMb());
  projector.Stop();
  return failed;
}

}  // namespace
}  // namespace canvass::server

int main(int argc, char** argv) {
  uint64_t n = 1000000;
  std::string db;
  bool records_path = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else if (arg == "--no-records-path") {
      records_path = false;
    } else {
      n = std::strtoull(arg.c_str(), nullptr, 10);
    }
  }
  return canvass::server::Run(n, db, records_path);
}
