// canvass-server: one binary, one data directory, one command to start (DESIGN.md §6).
// This file parses arguments, opens the store and keys, and adapts cpp-httplib to Api.
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api.h"
#include "backup.h"
#include "canvass/crypto.h"
#include "canvass/survey.h"
#include "case_worker.h"
#include "cases.h"
#include "clock.h"
#include "data_dir.h"
#include "files.h"
#include "http_server.h"
#include "log.h"
#include "projector.h"
#include "stats_projection.h"
#include "store.h"
#include "verify_command.h"

namespace canvass::server {
namespace {

constexpr char kUsage[] = R"(canvass-server - the Canvass sync server

Usage:
  canvass-server --data DIR [options]
  canvass-server --config /etc/canvass/canvass.conf [options]
  canvass-server --version
  canvass-server backup --data DIR --out FILE            (while the server runs)
  canvass-server restore --data DIR --in FILE [--force]  (with the server stopped)
  canvass-server verify --data DIR [--db URL]            (re-check every stored record)

Options:
  --config FILE         read options from FILE: one "key = value" a line, keys as the options
                        below without "--" (data, listen, publish, ...), "#" starts a comment;
                        repeatable keys (publish, web-origin, trusted-proxy) may repeat. An
                        option given on the command line replaces the file's (all of a
                        repeatable one's). Secrets never go in it: CANVASS_SMS_SECRET comes
                        from the environment (systemd: EnvironmentFile=/etc/canvass/secrets)
  --data DIR            data directory: organisation keys, SQLite database, initial admin token.
                        Created on first start (mode 0700).
  --listen HOST:PORT    address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --db sqlite|URL       store: "sqlite" (default, DIR/canvass.db) or postgresql://user@host:port/db.
                        Several servers may share one PostgreSQL; give them the same keys
                        (the same DIR, or a copy of DIR/keys).
  --max-db-mb N         SQLite: never let DIR/canvass.db grow past N MiB (default: no limit).
                        When it is full, pushes are refused with 503 and nothing is stored;
                        devices keep their records until a restart with a larger N
  --quarantine-kb PER_DEVICE,TOTAL
                        bounds of the quarantine, where forked batches wait for an admin, in KiB
                        (default 16384,524288: 16 MiB a device, 512 MiB in all); a fork beyond
                        them is refused (409) without being kept, and logged once a minute
  --publish FILE        publish a survey definition at start (repeatable; an unchanged file
                        is not published twice)
  --web-origin ORIGIN   allow the public web channel from this origin, e.g. https://shop.example
                        (repeatable)
  --web-location NAME   location recorded for web-channel devices (default "web")
  --static DIR          serve static files (widget, kiosk, dashboard) from DIR at /
  --threads N           worker threads kept ready (default 16); more start as connections
                        need them, one per connection
  --max-connections N   connections served at once (default 4096); more wait to be accepted.
                        A request's line and headers may take 64 KiB (431 beyond); an idle
                        connection closes after 5 s
  --request-timeout S   a request must arrive whole within S seconds of its first byte
                        (default 60), or it is answered 408 and its connection closed
  --trusted-proxy ADDR  a reverse proxy in front of the server (repeatable): from this address
                        the client's address is read from X-Forwarded-For (for the access log
                        and the per-address limits); from any other it is ignored
  --access-log on|off   one logfmt line per request on stdout (default on): time, method, path
                        (never the query), status, bytes, ms, device or user, client
  --sms-survey ID       turn on the SMS channel (POST /v1/channels/sms) for this survey's NPS
                        question; the gateway's shared secret comes from the environment
                        variable CANVASS_SMS_SECRET (kept off the command line; 16+
                        characters); CANVASS_SMS_URL, if set, is the public URL gateways sign
  --sms-region CC       read SMS numbers without a country code in region CC (default UA)
  --tls-cert FILE --tls-key FILE
                        serve HTTPS with this certificate and key (PEM)
  --case-sla-hours H    a follow-up case is due H hours after it opens (default 24; fractions
                        allowed), then escalated to the location's managers
  --webhook-retry-seconds S
                        first retry of a failed webhook delivery after S/2..S seconds, doubling
                        up to an hour, 10 attempts in all (default 10)
  --test-clock          TEST ONLY, never in production: the server's time can be moved
                        forward by the owner with POST /v1/test/clock (docs/protocol.md), so that
                        tests need not sleep. Command line only (refused in --config files)
  --help                this text

On first start the server creates the organisation keys and an initial admin token, written only
to DIR/initial-admin-token (owner-only; its path is printed, never the token), which works until
an admin sets a password (POST /v1/admin/password). SIGTERM or Ctrl-C stops it gracefully: it stops accepting, finishes
the requests in flight and closes the store. API: docs/protocol.md. Operations: docs/operations.md.
)";

struct Options {
  std::string data_dir;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string db = "sqlite";
  std::vector<std::string> publish;
  std::string static_dir;
  std::string tls_cert, tls_key;
  std::vector<std::string> trusted_proxies;
  int threads = 16;
  int max_connections = 4096;
  double request_timeout_seconds = 60;
  double case_sla_hours = 24;
  double webhook_retry_seconds = 10;
  bool test_clock = false;
  StoreOptions store;
  ApiOptions api;
};

// A positive number of hours or seconds, fractions allowed ("0.001").
bool ParsePositive(const std::string& text, double* out) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !(v > 0) || v > 1e6) return false;
  *out = v;
  return true;
}

// Options that may be given more than once; the rest take one value each.
bool Repeatable(const std::string& key) {
  return key == "publish" || key == "web-origin" || key == "trusted-proxy";
}

// The arguments of a --config file ("key = value" lines), as "--key value" pairs, leaving out the
// keys that `command_line` gives (it overrides the file). InvalidArgument naming FILE:LINE.
Result<std::vector<std::string>> ConfigArgs(const std::string& file,
                                            const std::vector<std::string>& command_line) {
  std::ifstream in(file);
  if (!in) {
    return Status::NotFound("--config: cannot read " + file + " (" + std::strerror(errno) + ")");
  }
  static const char* kKeys[] = {"data",
                                "listen",
                                "db",
                                "max-db-mb",
                                "quarantine-kb",
                                "publish",
                                "web-origin",
                                "web-location",
                                "static",
                                "threads",
                                "max-connections",
                                "request-timeout",
                                "tls-cert",
                                "tls-key",
                                "trusted-proxy",
                                "access-log",
                                "sms-survey",
                                "sms-region",
                                "case-sla-hours",
                                "webhook-retry-seconds"};
  const auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  std::vector<std::string> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = file + ":" + std::to_string(n) + ": ";
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument(where + "expected \"key = value\", got \"" + line + "\"");
    }
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return Status::InvalidArgument(where + "unknown key '" + key +
                                     "' (the keys are the options of canvass-server --help "
                                     "without \"--\")");
    }
    if (value.empty()) return Status::InvalidArgument(where + key + " needs a value");
    const std::string flag = "--" + key;
    if (std::find(command_line.begin(), command_line.end(), flag) != command_line.end()) continue;
    if (!Repeatable(key) && std::find(out.begin(), out.end(), flag) != out.end()) {
      return Status::InvalidArgument(where + key + " is given twice");
    }
    out.push_back(flag);
    out.push_back(value);
  }
  return out;
}

int ParseArgs(int argc, char** argv, Options* o) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--config") continue;
    if (i + 1 >= args.size()) {
      std::cerr << "canvass-server: --config needs a file; see --help\n";
      return 2;
    }
    const std::string file = args[i + 1];
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    Result<std::vector<std::string>> from_file = ConfigArgs(file, args);
    if (!from_file.ok()) {
      std::cerr << "canvass-server: " << from_file.status().message() << "\n";
      return 2;
    }
    args.insert(args.begin(), from_file->begin(), from_file->end());
    break;
  }
  auto need = [&](std::size_t& i) -> const std::string* {
    if (i + 1 >= args.size()) {
      std::cerr << "canvass-server: " << args[i] << " needs a value; see --help\n";
      return nullptr;
    }
    return &args[++i];
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const std::string* v = nullptr;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--version") {
      std::cout << "canvass-server " << CANVASS_VERSION << "\n";
      std::exit(0);
    } else if (a == "--trusted-proxy") {
      if (!(v = need(i))) return 2;
      o->trusted_proxies.push_back(*v);
    } else if (a == "--access-log") {
      if (!(v = need(i))) return 2;
      if (*v != "on" && *v != "off") {
        std::cerr << "canvass-server: --access-log takes on or off\n";
        return 2;
      }
      SetAccessLog(*v == "on");
    } else if (a == "--data") {
      if (!(v = need(i))) return 2;
      o->data_dir = *v;
    } else if (a == "--listen") {
      if (!(v = need(i))) return 2;
      auto colon = v->rfind(':');
      if (colon == std::string::npos) {
        std::cerr << "canvass-server: --listen takes HOST:PORT, e.g. 127.0.0.1:8080\n";
        return 2;
      }
      o->host = v->substr(0, colon);
      o->port = std::atoi(v->c_str() + colon + 1);
    } else if (a == "--db") {
      if (!(v = need(i))) return 2;
      o->db = *v;
    } else if (a == "--max-db-mb") {
      if (!(v = need(i))) return 2;
      char* end = nullptr;
      const long mb = std::strtol(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0' || mb < 1 || mb > (1L << 22)) {
        std::cerr << "canvass-server: --max-db-mb takes a whole number of MiB, 1 or more\n";
        return 2;
      }
      o->store.sqlite_max_db_mb = static_cast<std::uint32_t>(mb);
    } else if (a == "--quarantine-kb") {
      if (!(v = need(i))) return 2;
      char* end = nullptr;
      const long long device_kb = std::strtoll(v->c_str(), &end, 10);
      const long long total_kb = *end == ',' ? std::strtoll(end + 1, &end, 10) : -1;
      if (*end != '\0' || device_kb < 1 || total_kb < device_kb || total_kb > (1LL << 32)) {
        std::cerr << "canvass-server: --quarantine-kb takes PER_DEVICE,TOTAL in KiB, e.g. "
                     "16384,524288 (TOTAL at least PER_DEVICE)\n";
        return 2;
      }
      o->api.quarantine_device_bytes = static_cast<std::uint64_t>(device_kb) * 1024;
      o->api.quarantine_total_bytes = static_cast<std::uint64_t>(total_kb) * 1024;
    } else if (a == "--publish") {
      if (!(v = need(i))) return 2;
      o->publish.push_back(*v);
    } else if (a == "--web-origin") {
      if (!(v = need(i))) return 2;
      o->api.web_origins.push_back(*v);
    } else if (a == "--web-location") {
      if (!(v = need(i))) return 2;
      o->api.web_location = *v;
    } else if (a == "--static") {
      if (!(v = need(i))) return 2;
      o->static_dir = *v;
    } else if (a == "--sms-survey") {
      if (!(v = need(i))) return 2;
      o->api.sms_survey = *v;
    } else if (a == "--sms-region") {
      if (!(v = need(i))) return 2;
      if (Status s = CheckSmsRegion(*v); !s.ok()) {
        std::cerr << "canvass-server: " << s.message() << "\n";
        return 2;
      }
      o->api.sms_region = *v;
    } else if (a == "--threads") {
      if (!(v = need(i))) return 2;
      o->threads = std::max(1, std::atoi(v->c_str()));
    } else if (a == "--max-connections") {
      if (!(v = need(i))) return 2;
      o->max_connections = std::max(1, std::atoi(v->c_str()));
    } else if (a == "--request-timeout") {
      if (!(v = need(i))) return 2;
      o->request_timeout_seconds = std::atof(v->c_str());
      if (!(o->request_timeout_seconds > 0)) {
        std::cerr << "canvass-server: --request-timeout wants a number of seconds above 0\n";
        return 2;
      }
    } else if (a == "--tls-cert") {
      if (!(v = need(i))) return 2;
      o->tls_cert = *v;
    } else if (a == "--tls-key") {
      if (!(v = need(i))) return 2;
      o->tls_key = *v;
    } else if (a == "--case-sla-hours") {
      if (!(v = need(i))) return 2;
      if (!ParsePositive(*v, &o->case_sla_hours)) {
        std::cerr << "canvass-server: --case-sla-hours takes a positive number, e.g. 24 or 0.5\n";
        return 2;
      }
    } else if (a == "--test-clock") {
      o->test_clock = true;
    } else if (a == "--webhook-retry-seconds") {
      if (!(v = need(i))) return 2;
      if (!ParsePositive(*v, &o->webhook_retry_seconds)) {
        std::cerr << "canvass-server: --webhook-retry-seconds takes a positive number, e.g. 10\n";
        return 2;
      }
    } else {
      std::cerr << "canvass-server: unknown option '" << a << "'; see --help\n";
      return 2;
    }
  }
  if (o->data_dir.empty()) {
    std::cerr << "canvass-server: --data DIR is required; see --help\n";
    return 2;
  }
  if (!o->api.sms_survey.empty()) {
    const char* secret = std::getenv("CANVASS_SMS_SECRET");
    if (!secret || std::strlen(secret) < 16) {
      std::cerr << "canvass-server: --sms-survey needs CANVASS_SMS_SECRET (16+ characters) in "
                   "the environment\n";
      return 2;
    }
    o->api.sms_secret = secret;
    if (const char* url = std::getenv("CANVASS_SMS_URL")) o->api.sms_url = url;
  }
  if (o->store.sqlite_max_db_mb != 0 && o->db != "sqlite") {
    std::cerr << "canvass-server: --max-db-mb limits the SQLite store only\n";
    return 2;
  }
  if (o->tls_cert.empty() != o->tls_key.empty()) {
    std::cerr << "canvass-server: --tls-cert and --tls-key go together\n";
    return 2;
  }
  return 0;
}

// The client's address: the peer's, or, when the peer is a trusted proxy, the last address in
// X-Forwarded-For that is not one (each proxy appends the address it heard from).
std::string ClientAddress(const httplib::Request& req, const std::vector<std::string>& trusted) {
  const auto is_trusted = [&](const std::string& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  if (!is_trusted(req.remote_addr)) return req.remote_addr;
  const std::string forwarded = req.get_header_value("X-Forwarded-For");
  std::vector<std::string> hops;
  std::stringstream ss(forwarded);
  for (std::string hop; std::getline(ss, hop, ',');) {
    hop.erase(0, hop.find_first_not_of(' '));
    hop.erase(hop.find_last_not_of(' ') + 1);
    if (!hop.empty()) hops.push_back(hop);
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!is_trusted(*it)) return *it;
  }
  return req.remote_addr;
}

HttpRequest FromHttplib(const httplib::Request& req, const std::vector<std::string>& trusted) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(lower, v);
  }
  r.body = req.body;
  r.remote_address = ClientAddress(req, trusted);
  return r;
}

// The TLS files, checked before anything is created: readable, and a key no one else may read.
Status CheckTlsFiles(const std::string& cert, const std::string& key) {
  for (const std::string& file : {cert, key}) {
    if (access(file.c_str(), R_OK) != 0) {
      return Status::InvalidArgument("cannot read " + file + " (" + std::strerror(errno) +
                                     "); check the path and that the server's user may read it");
    }
  }
  struct stat st {};
  if (stat(key.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument("the TLS key " + key + " may be read by others (mode " + mode +
                                   "); run: chmod 600 " + key +
                                   " (and chown it to the user the server runs as)");
  }
  return Status::Ok();
}

int Run(const Options& o) {
  umask(077);  // the database, its WAL and every file the server writes: owner only
  if (!InitCrypto().ok()) {
    std::cerr << "canvass-server: libsodium failed to initialise\n";
    return 1;
  }
  // Everything that can be checked is checked before the data directory, keys or token are
  // created: a wrong start leaves nothing behind.
  if (!o.tls_cert.empty()) {
    if (Status s = CheckTlsFiles(o.tls_cert, o.tls_key); !s.ok()) {
      std::cerr << "canvass-server: --tls-key/--tls-cert: " << s.message() << "\n";
      return 1;
    }
  }
  if (!o.static_dir.empty() && access((o.static_dir + "/.").c_str(), R_OK | X_OK) != 0) {
    std::cerr << "canvass-server: --static " << o.static_dir
              << ": no such folder, or not readable (the web site: /usr/share/canvass/web "
                 "from the package, build/wasm/site from a build)\n";
    return 1;
  }
  std::vector<std::string> publish_texts;  // read and checked now, published once the store is open
  for (const std::string& file : o.publish) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      std::cerr << "canvass-server: --publish: cannot read " << file << "\n";
      return 1;
    }
    if (Result<Survey> survey = ParseSurvey(text.str()); !survey.ok()) {
      std::cerr << "canvass-server: --publish " << file << ": " << survey.status().message()
                << "\n";
      return 1;
    }
    publish_texts.push_back(text.str());
  }
  RaiseOpenFileLimit();  // a descriptor per connection; the default soft limit is 1024
  ConnectionLimits limits;
  limits.min_threads = static_cast<std::size_t>(o.threads);
  limits.max_threads = std::max(limits.min_threads, static_cast<std::size_t>(o.max_connections));
  limits.request_timeout_ms = static_cast<int>(std::min(o.request_timeout_seconds * 1000, 1e9));
  std::string http_error;
  std::unique_ptr<httplib::Server> http =
      MakeHttpServer(o.tls_cert, o.tls_key, limits, &http_error);
  if (!http) {
    std::cerr << "canvass-server: " << http_error << "\n";
    return 1;
  }
  Result<OrgKeys> keys = LoadOrCreateKeys(o.data_dir);
  if (!keys.ok()) {
    std::cerr << "canvass-server: " << keys.status().message() << "\n";
    return 1;
  }
  Result<std::unique_ptr<ServerStore>> store = OpenStore(o.db, o.data_dir, o.store);
  if (!store.ok()) {
    std::cerr << "canvass-server: cannot open the store: " << store.status().message() << "\n";
    return 1;
  }
  // The time of day: the system's, or under --test-clock one that tests move (clock.h).
  SystemClock system_clock;
  TestClock test_clock;
  Clock* clock = &system_clock;
  if (o.test_clock) {
    clock = &test_clock;
    std::cout << "test clock: POST /v1/test/clock moves this server's time (tests only)\n";
  }
  const std::function<std::int64_t()> now_ms = [clock] { return clock->NowMs(); };
  // Derived state (dashboard statistics, follow-up cases) follows the stored records.
  SurveyDefinitions definitions;  // what the statistics projection counts with
  if (Status s = definitions.Refresh(store->get()); !s.ok()) {
    std::cerr << "canvass-server: cannot read the surveys: " << s.message() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<Projection>> projections;
  projections.push_back(std::make_unique<StatsProjection>(&definitions));
  projections.push_back(std::make_unique<CaseProjection>(
      store->get(), static_cast<std::int64_t>(o.case_sla_hours * 3600 * 1000)));
  Projector projector(store->get(), std::move(projections));
  if (Status s = projector.Start(); !s.ok()) {
    std::cerr << "canvass-server: " << s.message() << "\n";
    return 1;
  }
  // The closed loop's webhook sender and escalation sweep.
  CaseWorker case_worker(store->get(), keys->sign,
                         {static_cast<std::int64_t>(o.webhook_retry_seconds * 1000), 1000, now_ms});
  case_worker.Start();
  const std::string token_file = o.data_dir + "/initial-admin-token";
  ApiOptions api_options = o.api;
  api_options.projector = &projector;
  api_options.definitions = &definitions;
  api_options.on_case_event = [&case_worker] { case_worker.Notify(); };
  api_options.static_dir = o.static_dir;
  api_options.on_password_set = [token_file] { unlink(token_file.c_str()); };
  if (o.test_clock) api_options.test_clock = &test_clock;
  Api api(store->get(), std::move(*keys), api_options, now_ms);

  // First start: an initial admin token, shown once and kept in an owner-only file.
  Result<std::optional<std::string>> token_hash = (*store)->GetSetting("admin_token_hash");
  Result<std::optional<std::string>> password = (*store)->GetSetting("admin_password_hash");
  if (!token_hash.ok() || !password.ok()) {
    std::cerr << "canvass-server: cannot read settings: " << token_hash.status().message() << "\n";
    return 1;
  }
  if (!*token_hash && !*password) {
    Result<std::string> token = api.CreateInitialAdminToken();
    Status s =
        token.ok() ? native::WriteFileMode0600(token_file, *token + "\n", false) : token.status();
    if (!s.ok()) {
      std::cerr << "canvass-server: cannot create the initial admin token: " << s.message() << "\n";
      return 1;
    }
    // Only its path: stdout may be a journal that many can read (systemd), the file is 0600.
    std::cout << "initial admin token: written to " << token_file
              << " (owner-only; it works until you set a password)\n";
  } else if (access(token_file.c_str(), R_OK) == 0) {
    std::cout << "admin token: see " << token_file << "\n";
  }

  for (std::size_t i = 0; i < o.publish.size(); ++i) {
    const std::string& file = o.publish[i];
    Result<SurveyRow> row = api.Publish(publish_texts[i], {});
    if (!row.ok()) {
      std::cerr << "canvass-server: --publish " << file << ": " << row.status().message() << "\n";
      return 1;
    }
    std::cout << "survey " << row->survey_id << " published (revision " << row->revision
              << ", version " << ToHex(row->version).substr(0, 12) << ")\n";
  }

  if (Status s = api.CheckSmsChannel(); !s.ok()) {
    std::cerr << "canvass-server: the SMS channel cannot record: " << s.message() << "\n";
    return 1;
  }

  http->set_payload_max_length(8u << 20);
  const bool tls = !o.tls_cert.empty();
  auto handler = [&api, tls, &o](const httplib::Request& req, httplib::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    const HttpRequest request = FromHttplib(req, o.trusted_proxies);
    HttpResponse out = api.Handle(request);
    if (AccessLogOn()) {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      char took[32];
      std::snprintf(took, sizeof took, "%.1f", ms);
      const bool device = request.path == "/v1/records";
      // The path only: a query may carry what does not belong in a log.
      Log(out.status >= 500 ? LogLevel::kError : LogLevel::kInfo, "request",
          {{"method", req.method},
           {"path", request.path},
           {"status", std::to_string(out.status)},
           {"bytes", out.stream ? std::string("stream") : std::to_string(out.body.size())},
           {"ms", took},
           {"device", device ? out.actor : std::string()},
           {"user", device ? std::string() : out.actor},
           {"client", request.remote_address},
           {"error", out.status >= 400 ? ErrorCodeOf(out.body) : std::string()}});
    }
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    res.set_header("X-Content-Type-Options", "nosniff");
    // Served over TLS: browsers should never come back over plain HTTP (a year; no subdomains,
    // which may be other people's servers).
    if (tls) res.set_header("Strict-Transport-Security", "max-age=31536000");
    if (out.stream) {
      res.set_chunked_content_provider(
          out.content_type, [stream = std::move(out.stream)](size_t, httplib::DataSink& sink) {
            const bool whole = stream([&sink](const std::string& piece) {
              return sink.is_writable() && sink.write(piece.data(), piece.size());
            });
            if (whole) sink.done();
            return whole;  // false: httplib drops the connection, the answer stays unfinished
          });
    } else if (std::any_of(out.headers.begin(), out.headers.end(),
                           [](const auto& h) { return h.first == "Content-Encoding"; })) {
      // Compressed already (a static file, gzipped once and kept): a sized provider, which
      // httplib sends as it is. A plain body it would compress again, with brotli at its
      // slowest setting, on every request (300-700 ms for the widget's glue on a cold load).
      auto body = std::make_shared<const std::string>(std::move(out.body));
      res.set_content_provider(body->size(), out.content_type,
                               [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                 return sink.write(body->data() + offset, length);
                               });
    } else if (out.status != 204 && out.status != 304) {
      res.set_content(out.body, out.content_type);
    }
  };
  // Answers httplib makes itself (413 for a body over the limit, 400 for a malformed request) get
  // the JSON error body of every other refusal (docs/protocol.md).
  http->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const HttpResponse e =
            res.status == 413
                ? ErrorResponse(413, "too_large",
                                "the request body is over the server's limit of 8 MiB; send less")
                : ErrorResponse(res.status, res.status == 404 ? "not_found" : "invalid_argument",
                                "the server could not take this request (HTTP " +
                                    std::to_string(res.status) + ")");
        res.set_content(e.body, e.content_type);
        if (AccessLogOn()) {
          Log(LogLevel::kInfo, "request",
              {{"method", req.method},
               {"path", req.path},
               {"status", std::to_string(res.status)},
               {"client", req.remote_addr},
               {"error", ErrorCodeOf(e.body)}});
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  http->Get(".*", handler);
  http->Post(".*", handler);
  http->Options(".*", handler);
  http->Put(".*", handler);
  http->Delete(".*", handler);

  const int port = Bind(*http, o.host, o.port);
  if (port < 0) {
    std::cerr << "canvass-server: cannot listen on " << o.host << ":" << o.port
              << " (in use? pick another with --listen)\n";
    return 1;
  }
  std::cout << "listening on " << (o.tls_cert.empty() ? "http" : "https") << "://" << o.host << ":"
            << port << std::endl;

  // Graceful stop: a thread waits for SIGTERM/SIGINT (blocked in every other thread).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cout << "stopping (signal " << sig << ")" << std::endl;
    http->stop();
  });
  http->listen_after_bind();
  waiter.detach();
  projector.Stop();    // after the last request: finishes the batch in flight
  case_worker.Stop();  // finishes the delivery in flight
  std::cout << "stopped" << std::endl;
  return 0;
}

}  // namespace
}  // namespace canvass::server

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so that only the waiter receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && std::string(argv[1]) == "backup") {
    return canvass::server::BackupCommand(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string(argv[1]) == "restore") {
    return canvass::server::RestoreCommand(argc - 2, argv + 2);
  }
  if (argc > 1 && std::string(argv[1]) == "verify") {
    return canvass::server::VerifyCommand(argc - 2, argv + 2);
  }
  canvass::server::Options options;
  if (int rc = canvass::server::ParseArgs(argc, argv, &options)) return rc;
  return canvass::server::Run(options);
}
