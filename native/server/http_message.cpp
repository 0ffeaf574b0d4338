#include "http_message.h"

#include <charconv>

namespace canvass::server {

void WriteString(JsonWriter& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string StringField(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::string();
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string QueryValue(const HttpRequest& r, const char* key) {
  auto it = r.query.find(key);
  return it == r.query.end() ? std::string() : it->second;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

HttpResponse JsonResponse(int status, const std::function<void(JsonWriter&)>& fill) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fill(w);
  HttpResponse r;
  r.status = status;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

Result<rapidjson::Document> ParseJsonBody(const std::string& body) {
  rapidjson::Document doc;
  // Iterative: the recursive parser overflows the stack on deeply nested input, and a 1 MiB
  // body of "[" to the unauthenticated /v1/enroll took the whole server down.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  return doc;
}

Result<std::uint32_t> ListLimit(const HttpRequest& r, std::uint32_t fallback, std::uint32_t max) {
  auto it = r.query.find("limit");
  if (it == r.query.end() || it->second.empty()) return fallback;
  std::uint32_t n = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > max) {
    return Status::InvalidArgument("limit: 1 to " + std::to_string(max));
  }
  return n;
}

HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message) {
  return JsonResponse(status, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("error");
    WriteString(w, code);
    w.Key("message");
    WriteString(w, message);
    w.EndObject();
  });
}

std::string ErrorCodeOf(const std::string& body) {
  if (body.empty() || body.front() != '{' || body.size() > 64 * 1024) return std::string();
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string();
  auto it = doc.FindMember("error");
  return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

HttpResponse StatusResponse(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return HttpResponse{};
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, "invalid_argument", s.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", s.message());
    case StatusCode::kCorruption:
      return ErrorResponse(400, "corruption", s.message());
    case StatusCode::kUnauthenticated:
      return ErrorResponse(401, "unauthenticated", s.message());
    case StatusCode::kConflict:
      return ErrorResponse(409, "conflict", s.message());
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable", s.message());
    case StatusCode::kIoError:
      return ErrorResponse(500, "internal", s.message());
  }
  return ErrorResponse(500, "internal", s.message());
}

}  // namespace canvass::server
