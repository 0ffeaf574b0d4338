// HttpRequest and HttpResponse: what canvass-server's handlers take and give, with no sockets
// (http_server.h carries them; api.h routes them), and the helpers every handler answers with:
// JSON bodies, the {"error", "message"} refusal (docs/protocol.md lists the codes), the answer for
// a Status, and the parsing of a JSON body and of a list's `limit`.
// Plain values and free functions: thread-safe.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "canvass/status.h"

namespace canvass::server {

struct HttpRequest {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // without the query string
  std::multimap<std::string, std::string> query;  // repeated keys kept (where=..., by=...)
  std::map<std::string, std::string> headers;     // names in lower case
  std::string body;
  std::string remote_address;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A body too big to hold (the export): when set, it replaces `body` and is written piece by
  // piece to `Sink` (which returns false once the client has gone); it returns false if it
  // stopped early. It may run after Handle returned, on the same thread.
  using Sink = std::function<bool(const std::string&)>;
  std::function<bool(const Sink&)> stream;
  // Who asked, for the access log (log.h): the device id of a push, the user of an admin call.
  std::string actor;
};

// {"error": code, "message": message} with `status` (docs/protocol.md lists the codes).
HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message);
// The "error" code of an ErrorResponse body ("" for any other body): for the access log.
std::string ErrorCodeOf(const std::string& body);
// The HTTP answer for a non-OK Status from the store or the core.
HttpResponse StatusResponse(const Status& status);
// 204, no body.
HttpResponse NoContent();
// The `limit` query parameter of a list: `fallback` when absent, InvalidArgument (naming the
// range) unless it is 1..`max`.
Result<std::uint32_t> ListLimit(const HttpRequest& r, std::uint32_t fallback, std::uint32_t max);
// A JSON answer written by `fill`.
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;
HttpResponse JsonResponse(int status, const std::function<void(JsonWriter&)>& fill);
// Writes `s` as a JSON string.
void WriteString(JsonWriter& w, const std::string& s);
// The request body as a JSON object, or InvalidArgument. Iterative: deep nesting cannot
// overflow the stack.
Result<rapidjson::Document> ParseJsonBody(const std::string& body);
// Member `key` of `doc` if it is a string, else "".
std::string StringField(const rapidjson::Document& doc, const char* key);
// The value of query parameter `key` ("" when absent).
std::string QueryValue(const HttpRequest& r, const char* key);

}  // namespace canvass::server
