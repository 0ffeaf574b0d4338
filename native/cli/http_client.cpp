#include "http_client.h"

#include <httplib.h>
#include <rapidjson/document.h>

namespace canvass::cli {
namespace {

Result<HttpReply> Convert(const httplib::Result& res, const std::string& server) {
  if (!res) {
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
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(60, 0);
  client->set_write_timeout(60, 0);
  return client;
}

}  // namespace

Result<HttpReply> HttpGet(const std::string& server, const std::string& path,
                          const std::map<std::string, std::string>& headers) {
  auto client = Connect(server);
  if (!client->is_valid()) return Status::InvalidArgument("not a server URL: " + server);
  return Convert(client->Get(path, ToHeaders(headers)), server);
}

Result<HttpReply> HttpPost(const std::string& server, const std::string& path,
                           const std::string& body, const std::string& content_type,
                           const std::map<std::string, std::string>& headers) {
  auto client = Connect(server);
  if (!client->is_valid()) return Status::InvalidArgument("not a server URL: " + server);
  return Convert(client->Post(path, ToHeaders(headers), body, content_type), server);
}

std::string DescribeError(const HttpReply& reply) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(reply.body.data(), reply.body.size());
  if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("message") &&
      doc["message"].IsString()) {
    std::string code =
        doc.HasMember("error") && doc["error"].IsString() ? doc["error"].GetString() : "";
    return std::to_string(reply.status) + " " + code + ": " + doc["message"].GetString();
  }
  return std::to_string(reply.status) + ": " + reply.body.substr(0, 500);
}

}  // namespace canvass::cli
