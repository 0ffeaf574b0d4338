// StaticFiles: the widget, kiosk and dashboard files canvass-server serves from --static DIR.
//
// Every visitor of a website that embeds the widget downloads these before the first question, so
// they go out compressed and revalidated: a file is gzipped once (zlib, level 9) and kept in memory
// until it changes on disk, and every answer carries an ETag (size and modification time) so a
// browser's second visit costs a 304 instead of the bytes. Paths never leave DIR ("..", symlinks
// are followed only inside it). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api.h"

namespace canvass::server {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir) : dir_(std::move(dir)) {}
  // The answer to GET `request.path`: the file (gzipped if the client accepts it and that is
  // smaller; with Content-Encoding, which the HTTP layer must send as it is), 304 for a matching
  // If-None-Match, 301 from a folder to its "/", or 404. Each file is gzipped once per version.
  HttpResponse Get(const HttpRequest& request);

 private:
  struct Entry {
    std::int64_t mtime_ns = 0;
    std::uint64_t size = 0;
    std::string etag;
    std::shared_ptr<const std::string> gzip;  // null: not smaller than the file
  };
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // path -> gzip of its current content
};

// gzip (RFC 1952) of `data` at zlib's best compression; empty on failure.
std::string Gzip(const std::string& data);

}  // namespace canvass::server
