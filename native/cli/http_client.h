// A small blocking HTTP client for the CLI (admin and device commands), over cpp-httplib.
// Connection failures come back as Unavailable, so callers can exit with code 3.
#pragma once

#include <map>
#include <string>

#include "canvass/status.h"

namespace canvass::cli {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

// `server` is a base URL: http://host:port or https://host:port.
Result<HttpReply> HttpGet(const std::string& server, const std::string& path,
                          const std::map<std::string, std::string>& headers = {});
Result<HttpReply> HttpPost(const std::string& server, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           const std::map<std::string, std::string>& headers = {});

// "409 conflict: fork at seq 3 ..." from a JSON error answer (or the raw body).
std::string DescribeError(const HttpReply& reply);

}  // namespace canvass::cli
