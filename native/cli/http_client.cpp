#include "http_client.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <fstream>
#include <iostream>

#include "canvass/sync_client.h"

namespace canvass::cli {
namespace {

std::string& CaCertFile() {
  static std::string path;
  return path;
}

// Why a TLS handshake failed, in words a person can act on.
Status Untrusted(const std::string& server, long verify_result) {
  const std::string reason = verify_result == X509_V_OK
                                 ? "it does not name the host in " + server
                                 : std::string(X509_verify_cert_error_string(verify_result));
  const std::string fix =
      CaCertFile().empty()
          ? "if it is your own (self-signed) certificate or CA, pass --cacert FILE.pem (or set "
            "SSL_CERT_FILE)"
          : "--cacert " + CaCertFile() + " does not hold the CA that signed it";
  return Status::Unauthenticated("certificate not trusted: " + server +
                                 " presented a TLS certificate this machine does not trust (" +
                                 reason + "); " + fix);
}

Result<HttpReply> Convert(const httplib::Result& res, const std::string& server,
                          long verify_result) {
  if (!res) {
    if (res.error() == httplib::Error::SSLServerVerification) {
      return Untrusted(server, verify_result);
    }
    return Status::Unavailable("cannot reach " + server + " (" + httplib::to_string(res.error()) +
                               "); is canvass-server running there?");
  }
  HttpReply reply;
  reply.status = res->status;
  reply.body = res->body;
  for (const auto& [k, v] : res->headers) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[lower] = v;
  }
  return reply;
}

httplib::Headers ToHeaders(const std::map<std::string, std::string>& headers) {
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  return h;
}

std::unique_ptr<httplib::Client> Connect(const std::string& server) {
  auto client = std::make_unique<httplib::Client>(server);
  if (!CaCertFile().empty()) client->set_ca_cert_path(CaCertFile());
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(60, 0);
  client->set_write_timeout(60, 0);
  return client;
}

}  // namespace

Status UseCaCertFile(const std::string& path) {
  if (!path.empty()) {
    std::ifstream in(path);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) return Status::InvalidArgument("--cacert: cannot read " + path);
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Status::InvalidArgument("--cacert: " + path + " holds no PEM certificate");
    }
  }
  CaCertFile() = path;
  return Status::Ok();
}

const std::string& CaCertFileInUse() { return CaCertFile(); }

bool TakeCaCertOption(std::vector<std::string>* args, const std::string& who) {
  for (std::size_t i = 0; i < args->size(); ++i) {
    if ((*args)[i] != "--cacert") continue;
    if (i + 1 >= args->size()) {
      std::cerr << who << ": --cacert needs a PEM file\n";
      return false;
    }
    Status s = UseCaCertFile((*args)[i + 1]);
    if (!s.ok()) {
      std::cerr << who << ": " << s.message() << "\n";
      return false;
    }
    args->erase(args->begin() + static_cast<std::ptrdiff_t>(i),
                args->begin() + static_cast<std::ptrdiff_t>(i) + 2);
    --i;
  }
  return true;
}

Result<HttpReply> HttpGet(const std::string& server, const std::string& path,
                          const std::map<std::string, std::string>& headers) {
  auto client = Connect(server);
  if (!client->is_valid()) return Status::InvalidArgument("not a server URL: " + server);
  httplib::Result res = client->Get(path, ToHeaders(headers));
  return Convert(res, server, client->get_openssl_verify_result());
}

Result<HttpReply> HttpPost(const std::string& server, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           const std::map<std::string, std::string>& headers) {
  auto client = Connect(server);
  if (!client->is_valid()) return Status::InvalidArgument("not a server URL: " + server);
  httplib::Result res = client->Post(path, ToHeaders(headers), body, content_type);
  return Convert(res, server, client->get_openssl_verify_result());
}

std::string DescribeError(const HttpReply& reply) {
  return sync::DescribeError(reply.status, reply.body);
}

}  // namespace canvass::cli
