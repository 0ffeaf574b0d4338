// StaticFiles: the widget, kiosk and dashboard files canvass-server serves from --static DIR.
//
// Every visitor of a website that embeds the widget downloads these before the first question, so
// they go out compressed and revalidated: a file is gzipped once (zlib, level 9) and kept in memory
// until it changes on disk, and every answer carries an ETag (size and modification time) so a
// browser's second visit costs a 304 instead of the bytes. A request path has one spelling per
// file (NormalStaticPath: no NUL, no empty, "." or ".." segment), and a file's real path must lie
// inside DIR (symlinks are followed only inside it). The gzip cache is keyed by that spelling and
// bounded. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api.h"

namespace canvass::server {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir);
  // The answer to GET `request.path`: the file (gzipped if the client accepts it and that is
  // smaller; with Content-Encoding, which the HTTP layer must send as it is), 304 for a matching
  // If-None-Match, 301 from a folder to its "/", or 404. Each file is gzipped once per version.
  HttpResponse Get(const HttpRequest& request);
  std::size_t CachedEntries();  // for tests and /metrics

  static constexpr std::size_t kMaxCachedFiles = 4096;
  static constexpr std::uint64_t kMaxCachedBytes = 256ull << 20;

 private:
  bool Inside(const std::string& file) const;
  struct Entry {
    std::int64_t mtime_ns = 0;
    std::uint64_t size = 0;
    std::string etag;
    std::shared_ptr<const std::string> gzip;  // null: not smaller than the file
  };
  std::string dir_;
  std::string root_;  // the real path of dir_
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // normal path -> gzip of its current content
  std::uint64_t cached_bytes_ = 0;
};

// The one spelling of a static file's request path ("/" + segments, "/x/" -> "/x/index.html"), or
// nullopt for a path no file is served under (NUL, backslash, empty, "." or ".." segments).
std::optional<std::string> NormalStaticPath(const std::string& request_path);

// gzip (RFC 1952) of `data` at zlib's best compression; empty on failure.
std::string Gzip(const std::string& data);

}  // namespace canvass::server
