// A small blocking HTTP client for the CLI (admin and device commands), over cpp-httplib.
// Connection failures come back as Unavailable, so callers can exit with code 3; a server whose
// TLS certificate this machine does not trust comes back as Unauthenticated ("certificate not
// trusted"), which no retry mends.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "canvass/status.h"

namespace canvass::cli {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

// Trust the CA certificate(s) in the PEM file `path` for https:// servers, instead of the
// system's store (which SSL_CERT_FILE / SSL_CERT_DIR also replace). Set once, from --cacert,
// before the first request; "" = the system's store. InvalidArgument if the file is unreadable.
Status UseCaCertFile(const std::string& path);
// The file set by UseCaCertFile, "" for the system's store.
const std::string& CaCertFileInUse();

// Takes "--cacert FILE" out of `args` (anywhere) and applies it; prints why and returns false if
// it is wrong. `who` prefixes the message ("canvass admin").
bool TakeCaCertOption(std::vector<std::string>* args, const std::string& who);

// `server` is a base URL: http://host:port or https://host:port.
Result<HttpReply> HttpGet(const std::string& server, const std::string& path,
                          const std::map<std::string, std::string>& headers = {});
Result<HttpReply> HttpPost(const std::string& server, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           const std::map<std::string, std::string>& headers = {});

// "409 conflict: fork at seq 3 ..." from a JSON error answer (or the raw body).
std::string DescribeError(const HttpReply& reply);

}  // namespace canvass::cli
