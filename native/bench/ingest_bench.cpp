// Ingest benchmark (a program, not a test): N native devices push signed records to a real
// canvass-server over HTTP on loopback. Prints accepted records/s end to end and, measured in the
// same run on the same cores, the machine's Ed25519 verifications/s — every record's signature
// must be checked, so that is the ceiling — plus the server's RSS idle and under load.
//
//   canvass-ingest-bench [--server-bin PATH] [--devices 16] [--records 20000] [--batch 500]
//                        [--db sqlite|postgresql://...] [--survey examples/restaurant.json]
//
// The server publishes the survey and every record answers it in full (NPS, reason, the five CSI
// attributes; a detractor in ten leaves sealed contact details), so the server's projections (the
// dashboard's statistics, follow-up cases) have their real work to do. They run behind the
// receipts; the benchmark also says how long after the last receipt they had caught up.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "canvass/response_log.h"

using namespace canvass;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string server_bin = "build/native/native/canvass-server";
  int devices = 16;
  int records = 20000;  // in total
  int batch = 500;
  std::string db = "sqlite";
  std::string survey = "examples/restaurant.json";
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

long RssKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t end = stat.rfind(')');  // the command name may hold spaces
  if (end == std::string::npos) return -1;
  std::istringstream fields(stat.substr(end + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Ed25519 verifications per second with `threads` threads, over ~1 s.
double VerifyRate(int threads) {
  SigningKey key = SigningKey::Generate();
  std::string body(200, 'x');
  Signature sig = key.SignDomain(kRecordDomain, body);
  std::atomic<long> total{0};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      long n = 0;
      while (Seconds(start, Clock::now()) < 1.0) {
        for (int i = 0; i < 100; ++i) n += VerifyDomain(kRecordDomain, body, sig, key.public_key());
      }
      total += n;
    });
  }
  for (auto& t : pool) t.join();
  return total / Seconds(start, Clock::now());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--server-bin")
      o.server_bin = next();
    else if (a == "--devices")
      o.devices = std::atoi(next().c_str());
    else if (a == "--records")
      o.records = std::atoi(next().c_str());
    else if (a == "--batch")
      o.batch = std::atoi(next().c_str());
    else if (a == "--db")
      o.db = next();
    else if (a == "--survey")
      o.survey = next();
    else {
      std::cout << "usage: canvass-ingest-bench [--server-bin PATH] [--devices N] [--records N] "
                   "[--batch N] [--db sqlite|postgresql://...] [--survey FILE]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  if (!InitCrypto().ok()) return 1;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());

  std::printf("ed25519 verify ceiling: measuring on %d core(s)...\n", cores);
  const double ceiling = VerifyRate(cores);
  std::printf("  %.0f verifications/s (%d threads)\n", ceiling, cores);

  // Start the server on a free port in a fresh data directory.
  char tmpl[] = "/tmp/canvass-bench-XXXXXX";
  std::string data = mkdtemp(tmpl);
  const int port = 20000 + static_cast<int>(getpid() % 20000);
  pid_t server = fork();
  if (server == 0) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execl(o.server_bin.c_str(), o.server_bin.c_str(), "--data", data.c_str(), "--listen",
          listen.c_str(), "--db", o.db.c_str(), "--publish", o.survey.c_str(),
          static_cast<char*>(nullptr));
    std::perror("exec canvass-server");
    _exit(127);
  }
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(60, 0);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    auto r = http.Get("/healthz");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!up) {
    std::fprintf(stderr, "server did not start (%s)\n", o.server_bin.c_str());
    kill(server, SIGKILL);
    return 1;
  }
  std::string token;
  std::ifstream(data + "/initial-admin-token") >> token;
  if (token.empty()) {
    std::fprintf(stderr,
                 "no initial admin token: the database already has an admin; give the "
                 "benchmark an empty database (--db)\n");
    kill(server, SIGKILL);
    return 1;
  }
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};

  // The survey's version hash, which every record carries.
  std::ifstream survey_file(o.survey, std::ios::binary);
  std::stringstream survey_text;
  survey_text << survey_file.rdbuf();
  if (!survey_file) {
    std::fprintf(stderr, "cannot read %s (--survey)\n", o.survey.c_str());
    kill(server, SIGKILL);
    return 1;
  }
  const Hash256 version = SurveyVersion(survey_text.str());

  // Enroll the devices and sign every record up front (not timed).
  struct Device {
    std::string id;
    std::vector<std::string> bodies;  // push bodies, in order
    std::vector<long> counts;         // records in each body
  };
  std::vector<Device> devices(static_cast<std::size_t>(o.devices));
  const int per_device = o.records / o.devices;
  for (auto& d : devices) {
    auto code =
        http.Post("/v1/admin/enroll-codes", auth, R"({"location":"bench"})", "application/json");
    std::string c = code->body.substr(code->body.find("\"code\":\"") + 8, 19);
    SigningKey key = SigningKey::Generate();
    auto enrolled = http.Post(
        "/v1/enroll", "{\"code\":\"" + c + "\",\"public_key\":\"" + ToHex(key.public_key()) + "\"}",
        "application/json");
    if (!enrolled || enrolled->status != 200) {
      std::fprintf(stderr, "enroll failed\n");
      kill(server, SIGKILL);
      return 1;
    }
    d.id = enrolled->body.substr(enrolled->body.find("\"device_id\":\"") + 13, 16);
    const std::size_t box_at = enrolled->body.find("\"org_box_key\":\"") + 15;
    Result<PublicKey> box = ArrayFromHex<32>(enrolled->body.substr(box_at, 64));
    if (!box.ok()) {
      std::fprintf(stderr, "enroll answer without org_box_key\n");
      kill(server, SIGKILL);
      return 1;
    }
    ChainHead head;
    RecordBatch batch;
    batch.device_id = d.id;
    for (int i = 0; i < per_device; ++i) {
      ResponseRecord r;
      r.survey_id = "restaurant";
      r.device_id = d.id;
      r.device_time_ms = 1795000000000 + i;
      r.survey_version = version;
      r.answers["recommend"] = ScaleAnswer{i % 11};
      r.answers["reason"] = TextAnswer{"bench"};
      int k = 0;
      for (const char* attribute : {"price", "staff", "place", "product", "promotion"}) {
        r.answers[attribute] = CsiAnswer{(i + k) % 2, 1 + (i + 2 * k) % 5};
        ++k;
      }
      if (i % 11 <= 6 && i % 10 == 0) {  // a detractor who asks to be called back
        r.answers["contact"] = ContactAnswer{true, ""};
        r.sealed_contact = SealTo(*box, "name: Bench\nphone: +380000000" + std::to_string(i));
      }
      r.tags = {
          {"location", "bench"}, {"channel", "kiosk"}, {"staff", "s" + std::to_string(i % 7)}};
      LogEntry e = *SignNext(head, r, key);
      head = {e.seq, e.hash};
      batch.envelopes.push_back(std::move(e.envelope));
      if (static_cast<int>(batch.envelopes.size()) == o.batch || i + 1 == per_device) {
        d.bodies.push_back(EncodeBatch(batch));
        d.counts.push_back(static_cast<long>(batch.envelopes.size()));
        batch.envelopes.clear();
      }
    }
  }
  const long rss_idle = RssKb(server, "VmRSS:");
  const double cpu_before = CpuSeconds(server);

  std::printf("pushing %d records from %d devices in batches of %d...\n", per_device * o.devices,
              o.devices, o.batch);
  std::atomic<long> accepted{0}, failures{0};
  auto start = Clock::now();
  std::vector<std::thread> pushers;
  for (auto& d : devices) {
    pushers.emplace_back([&, &d = d] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      for (std::size_t i = 0; i < d.bodies.size(); ++i) {
        auto r = c.Post("/v1/records", d.bodies[i], "application/octet-stream");
        if (!r || r->status != 200) {
          std::fprintf(stderr, "push refused: %s\n",
                       r ? (std::to_string(r->status) + " " + r->body).c_str() : "no answer");
          ++failures;
          return;
        }
        accepted += d.counts[i];
      }
    });
  }
  for (auto& t : pushers) t.join();
  const Clock::time_point pushed = Clock::now();
  const double elapsed = Seconds(start, pushed);
  // The projections work behind the receipts: how long until nothing is queued for them.
  double caught_up = -1;
  for (int i = 0; i < 1200; ++i) {
    auto m = http.Get("/metrics");
    if (m && m->status == 200) {
      long pending = 0;
      std::istringstream lines(m->body);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.rfind("canvass_projection_pending{", 0) == 0) {
          pending += std::atol(line.c_str() + line.rfind(' ') + 1);
        }
      }
      if (pending == 0) {
        caught_up = Seconds(pushed, Clock::now());
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const long rss_peak = RssKb(server, "VmHWM:");
  const double server_cpu = CpuSeconds(server) - cpu_before;

  kill(server, SIGTERM);
  int status = 0;
  waitpid(server, &status, 0);
  std::string cleanup = "rm -rf " + data;
  if (std::system(cleanup.c_str()) != 0)
    std::fprintf(stderr, "could not remove %s\n", data.c_str());

  const double rate = accepted / elapsed;
  std::printf("\nstore:                 %s\n",
              o.db.rfind("postgres", 0) == 0 ? "postgresql" : "sqlite");
  std::printf("accepted:              %ld records in %.2f s (%ld failed batches)\n",
              accepted.load(), elapsed, failures.load());
  std::printf("ingest:                %.0f records/s end to end\n", rate);
  std::printf("verification ceiling:  %.0f verifications/s\n", ceiling);
  std::printf("ratio:                 %.0f%% of the ceiling\n", 100.0 * rate / ceiling);
  std::printf("server RSS:            %.1f MB idle, %.1f MB peak under load\n", rss_idle / 1024.0,
              rss_peak / 1024.0);
  // CPU time is steadier than wall time on a shared machine: what the server spent per record
  // (push, store, projections), beside what one verification costs on one core in this run.
  std::printf(
      "server CPU:            %.1f s, %.1f us per record (one verification: %.1f us of a "
      "core)\n",
      server_cpu, 1e6 * server_cpu / static_cast<double>(accepted.load()), 1e6 * cores / ceiling);
  if (caught_up >= 0) {
    std::printf(
        "projections:           caught up %.2f s after the last receipt (%.0f records/s "
        "through push and projections)\n",
        caught_up, accepted / (elapsed + caught_up));
  } else {
    std::printf("projections:           still behind 30 s after the last receipt\n");
  }
  // A refused batch, or projections that never caught up, fail the run (its short form runs in
  // CTest: ingest_bench_short).
  return failures == 0 && caught_up >= 0 ? 0 : 1;
}
