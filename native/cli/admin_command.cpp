// `canvass admin`: the admin API from the command line (docs/protocol.md).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include "canvass/crypto.h"
#include "canvass/json.h"
#include "commands.h"
#include "http_client.h"

namespace canvass::cli {
namespace {

constexpr char kUsage[] = R"(canvass admin - administer a canvass-server

Usage:
  canvass admin --server URL [--token TOKEN] [--cacert FILE.pem] COMMAND
  canvass admin login --server URL [--user NAME] [--cacert FILE.pem]
  canvass admin logout

Commands:
  login                   ask for the password (without echo on a terminal; otherwise the first
                          line of standard input), log in, and keep the session token (12 h) in
                          $XDG_CONFIG_HOME/canvass/session.json (~/.config/canvass; file 0600):
                          later commands use it when no --token is given, for that server only;
                          --server may then be left out
  logout                  end that session on the server and delete the file
  enroll-code --location L [--channel kiosk] [--ttl-hours 24]
                          make a one-time enrollment code for a device (printed alone on a line)
  devices                 list devices (JSON)
  revoke DEVICE_ID        revoke a device: its pushes are refused from now on
  publish SURVEY.json [--locations a,b]
                          publish a survey definition (all locations by default)
  export [--format jsonl|csv]
                          every stored response, to standard output
  quarantine              batches refused as forks (JSON)
  cases [--state open|contacted|root_cause_found|resolved] [--location L] [--overdue]
                          follow-up cases the token's user may see, most urgent first (JSON,
                          without contact details: GET /v1/admin/cases/<id> has them)

TOKEN is the initial admin token (DATA/initial-admin-token) or a session token from
POST /v1/admin/login. The environment variable CANVASS_TOKEN may hold it instead of --token;
either wins over the session kept by login.
--cacert trusts the CA certificate(s) in FILE.pem for an https:// server (a self-signed
certificate is its own CA); SSL_CERT_FILE=FILE.pem does the same for every OpenSSL program.
Exit codes: 0 ok, 1 refused by the server, 2 usage error, 3 server unreachable.
)";

int Report(const Result<HttpReply>& reply, int expected, bool print_body) {
  if (!reply.ok()) {
    std::cerr << "canvass admin: " << reply.status().message() << "\n";
    return reply.status().code() == StatusCode::kUnavailable ? 3 : 1;
  }
  if (reply->status != expected) {
    std::cerr << "canvass admin: " << DescribeError(*reply) << "\n";
    return 1;
  }
  if (print_body) {
    std::cout << reply->body;
    if (!reply->body.empty() && reply->body.back() != '\n') std::cout << "\n";
  }
  return 0;
}

std::string PercentEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// Every device, page after page (the server answers at most 10,000 at a time), printed as one
// {"devices": [...]}.
int ListAllDevices(const std::string& server, const std::map<std::string, std::string>& auth) {
  rapidjson::Document all(rapidjson::kObjectType);
  rapidjson::Value devices(rapidjson::kArrayType);
  std::string after;
  for (;;) {
    Result<HttpReply> reply = HttpGet(
        server,
        "/v1/admin/devices?limit=10000" + (after.empty() ? "" : "&after=" + PercentEncode(after)),
        auth);
    if (!reply.ok() || reply->status != 200) return Report(reply, 200, false);
    rapidjson::Document page;
    page.Parse<rapidjson::kParseIterativeFlag>(reply->body.data(), reply->body.size());
    if (page.HasParseError() || !page.IsObject() || !page.HasMember("devices") ||
        !page["devices"].IsArray()) {
      std::cerr << "canvass admin: the server's device list is unreadable\n";
      return 1;
    }
    for (auto& d : page["devices"].GetArray())
      devices.PushBack(rapidjson::Value(d, all.GetAllocator()), all.GetAllocator());
    if (!page.HasMember("next") || !page["next"].IsString()) break;
    const std::string next = page["next"].GetString();
    if (next <= after) break;  // a server that does not move on: stop rather than loop
    after = next;
  }
  all.AddMember("devices", devices, all.GetAllocator());
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  all.Accept(w);
  std::cout << out.GetString() << "\n";
  return 0;
}

// The session kept by `canvass admin login`: one server, one token.
struct SavedSession {
  std::string server, user, token;
  std::string cacert;  // the --cacert of the login, absolute, "" for none
};

std::string ConfigDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/') {
    return std::string(xdg) + "/canvass";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/canvass";
}

std::string SessionFile() { return ConfigDir() + "/session.json"; }

std::optional<SavedSession> LoadSession() {
  Result<std::string> text = ReadFile(SessionFile());
  if (!text.ok()) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text->data(), text->size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto field = [&](const char* key) {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString())
                                                         : std::string();
  };
  SavedSession s{field("server"), field("user"), field("token"), field("cacert")};
  if (s.server.empty() || s.token.empty()) return std::nullopt;
  return s;
}

Status SaveSession(const SavedSession& s) {
  // Both levels owner-only: the token is as good as the password for 12 hours.
  const std::string dir = ConfigDir();
  const std::size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status parent = native::MakePrivateDir(dir.substr(0, slash));  // ~/.config, if missing
    if (!parent.ok()) return parent;
  }
  Status made = native::MakePrivateDir(dir);
  if (!made.ok()) return made;
  chmod(dir.c_str(), 0700);
  const std::string json = Json::Object()
                               .Add("server", Json::Str(s.server))
                               .Add("user", Json::Str(s.user))
                               .Add("token", Json::Str(s.token))
                               .Add("cacert", Json::Str(s.cacert))
                               .Compact();
  return native::ReplaceFileMode0600(SessionFile(), json + "\n");
}

// The password: on a terminal, asked for without echo; otherwise the first line of stdin.
std::optional<std::string> ReadPassword(const std::string& prompt) {
  const bool tty = isatty(STDIN_FILENO) == 1;
  termios old{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!got && line.empty()) return std::nullopt;
  return line;
}

std::string StripSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

int Login(const std::string& server, const std::vector<std::string>& rest) {
  std::string user;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] == "--user" && i + 1 < rest.size()) {
      user = rest[++i];
    } else {
      std::cerr << "canvass admin login: unexpected '" << rest[i]
                << "'; see canvass admin --help\n";
      return 2;
    }
  }
  std::optional<std::string> password = ReadPassword(
      "Password for " + (user.empty() ? std::string("admin") : user) + " at " + server + ": ");
  if (!password || password->empty()) {
    std::cerr << "canvass admin login: no password given (type it, or pipe it on standard input)\n";
    return 2;
  }
  Json login = Json::Object();
  if (!user.empty()) login.Add("user", Json::Str(user));
  login.Add("password", Json::Str(*password));
  std::string body = login.Compact();
  SecureWipe(password->data(), static_cast<std::uint32_t>(password->size()));
  Result<HttpReply> reply = HttpPost(server, "/v1/admin/login", body, "application/json");
  SecureWipe(body.data(), static_cast<std::uint32_t>(body.size()));
  if (int rc = Report(reply, 200, false)) return rc;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(reply->body.data(), reply->body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("token") ||
      !doc["token"].IsString()) {
    std::cerr << "canvass admin login: unexpected answer: " << reply->body.substr(0, 200) << "\n";
    return 1;
  }
  std::string cacert = CaCertFileInUse();
  if (!cacert.empty()) {
    if (char* absolute = realpath(cacert.c_str(), nullptr)) {
      cacert = absolute;
      std::free(absolute);
    }
  }
  Status s = SaveSession({server, user, doc["token"].GetString(), cacert});
  if (!s.ok()) {
    std::cerr << "canvass admin login: logged in, but the session could not be kept: "
              << s.message() << "\n";
    return 1;
  }
  std::cout << "logged in to " << server << " as " << (user.empty() ? "admin" : user)
            << "; session kept in " << SessionFile()
            << " (12 hours; canvass admin logout ends it)\n";
  return 0;
}

int Logout() {
  std::optional<SavedSession> session = LoadSession();
  if (!session) {
    std::cerr << "canvass admin logout: not logged in (no session in " << SessionFile() << ")\n";
    return 1;
  }
  if (CaCertFileInUse().empty() && !session->cacert.empty()) {
    (void)UseCaCertFile(session->cacert);  // unreadable: the logout fails and says why
  }
  Result<HttpReply> reply = HttpPost(session->server, "/v1/admin/logout", "", "text/plain",
                                     {{"Authorization", "Bearer " + session->token}});
  // The file goes whatever the server says: an expired session (401) is over anyway, and an
  // unreachable server should not keep the token on this disk.
  const bool removed = unlink(SessionFile().c_str()) == 0;
  if (!reply.ok()) {
    std::cerr << "canvass admin logout: " << reply.status().message()
              << (removed ? "; the local session file was deleted, but the session may stay "
                            "valid on the server until it expires"
                          : "")
              << "\n";
    return reply.status().code() == StatusCode::kUnavailable ? 3 : 1;
  }
  if (reply->status == 204) {
    std::cout << "logged out of " << session->server << "\n";
    return 0;
  }
  if (reply->status == 401) {
    std::cout << "the session at " << session->server << " had already ended; local file deleted\n";
    return 0;
  }
  std::cerr << "canvass admin logout: " << DescribeError(*reply) << "\n";
  return 1;
}

}  // namespace

int RunAdmin(const std::vector<std::string>& all_args) {
  std::vector<std::string> args = all_args;
  if (!TakeCaCertOption(&args, "canvass admin")) return 2;
  std::string server, token;
  if (const char* env = std::getenv("CANVASS_TOKEN")) token = env;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--server" && i + 1 < args.size()) {
      server = args[++i];
    } else if (args[i] == "--token" && i + 1 < args.size()) {
      token = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  if (!rest.empty() && rest[0] == "logout") return Logout();
  server = StripSlashes(server);
  if (!rest.empty() && rest[0] == "login") {
    if (server.empty()) {
      std::cerr << "canvass admin login: needs --server URL\n";
      return 2;
    }
    return Login(server, rest);
  }
  if (token.empty()) {
    // The session from `canvass admin login`, but only for the server it came from (and with
    // the CA file it was made with, unless --cacert says otherwise).
    if (std::optional<SavedSession> session = LoadSession()) {
      if (server.empty()) server = session->server;
      if (server == session->server) {
        token = session->token;
        if (CaCertFileInUse().empty() && !session->cacert.empty()) {
          if (Status s = UseCaCertFile(session->cacert); !s.ok()) {
            std::cerr << "canvass admin: the session's " << s.message() << "\n";
            return 2;
          }
        }
      }
    }
  }
  if (server.empty() || rest.empty()) {
    std::cerr << "canvass admin: needs --server URL and a command; see canvass admin --help\n";
    return 2;
  }
  if (token.empty()) {
    std::cerr << "canvass admin: needs --token (or CANVASS_TOKEN), or a session from 'canvass "
                 "admin login --server "
              << server << "'; see canvass admin --help\n";
    return 2;
  }
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  const std::string command = rest[0];
  auto option = [&](const std::string& name, const std::string& fallback) {
    for (std::size_t i = 1; i + 1 < rest.size(); ++i) {
      if (rest[i] == name) return rest[i + 1];
    }
    return fallback;
  };

  if (command == "enroll-code") {
    std::string location = option("--location", "");
    if (location.empty()) {
      std::cerr << "canvass admin enroll-code: --location L is required\n";
      return 2;
    }
    std::string ttl = option("--ttl-hours", "24");
    for (char c : ttl) {
      if (c < '0' || c > '9') {
        std::cerr << "canvass admin enroll-code: --ttl-hours takes a whole number\n";
        return 2;
      }
    }
    const std::string body = Json::Object()
                                 .Add("location", Json::Str(location))
                                 .Add("channel", Json::Str(option("--channel", "kiosk")))
                                 .Add("ttl_hours", Json::Raw(ttl))
                                 .Compact();
    Result<HttpReply> reply =
        HttpPost(server, "/v1/admin/enroll-codes", body, "application/json", auth);
    if (int rc = Report(reply, 201, false)) return rc;
    auto start = reply->body.find("\"code\":\"");
    if (start == std::string::npos) {
      std::cerr << "canvass admin: unexpected answer: " << reply->body << "\n";
      return 1;
    }
    start += 8;
    std::cout << reply->body.substr(start, reply->body.find('"', start) - start) << "\n";
    return 0;
  }
  if (command == "devices") return ListAllDevices(server, auth);
  if (command == "quarantine")
    return Report(HttpGet(server, "/v1/admin/quarantine", auth), 200, true);
  if (command == "revoke") {
    if (rest.size() < 2) {
      std::cerr << "canvass admin revoke: name the device id\n";
      return 2;
    }
    int rc =
        Report(HttpPost(server, "/v1/admin/devices/" + rest[1] + "/revoke", "", "text/plain", auth),
               204, false);
    if (rc == 0) std::cout << "revoked " << rest[1] << "\n";
    return rc;
  }
  if (command == "publish") {
    if (rest.size() < 2) {
      std::cerr << "canvass admin publish: name the survey file\n";
      return 2;
    }
    Result<std::string> definition = ReadFile(rest[1]);
    if (!definition.ok()) {
      std::cerr << "canvass admin publish: " << definition.status().message() << "\n";
      return 1;
    }
    std::string locations = option("--locations", "");
    return Report(
        HttpPost(server, "/v1/admin/surveys" + (locations.empty() ? "" : "?locations=" + locations),
                 *definition, "application/json", auth),
        201, true);
  }
  if (command == "export") {
    std::string format = option("--format", "jsonl");
    if (format != "jsonl" && format != "csv") {
      std::cerr << "canvass admin export: --format is jsonl or csv\n";
      return 2;
    }
    Result<HttpReply> reply = HttpGet(server, "/v1/admin/export?format=" + format, auth);
    if (int rc = Report(reply, 200, false)) return rc;
    std::cout << reply->body;
    return 0;
  }
  if (command == "cases") {
    std::string query;
    auto add = [&](const std::string& key, const std::string& value) {
      static const char kHex[] = "0123456789ABCDEF";
      query += (query.empty() ? "?" : "&") + key + "=";
      for (char c : value) {  // percent-encoded: a location may be "Київ, Поділ"
        const auto b = static_cast<unsigned char>(c);
        if (std::isalnum(b) || c == '-' || c == '_' || c == '.' || c == '~') {
          query += c;
        } else {
          query += {'%', kHex[b >> 4], kHex[b & 15]};
        }
      }
    };
    for (const char* key : {"state", "location"}) {
      std::string value = option(std::string("--") + key, "");
      if (!value.empty()) add(key, value);
    }
    if (std::find(rest.begin(), rest.end(), "--overdue") != rest.end()) add("overdue", "true");
    return Report(HttpGet(server, "/v1/admin/cases" + query, auth), 200, true);
  }
  std::cerr << "canvass admin: unknown command '" << command << "'; see canvass admin --help\n";
  return 2;
}

}  // namespace canvass::cli
