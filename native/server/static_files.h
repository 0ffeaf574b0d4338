// StaticFiles: the widget, kiosk and dashboard files canvass-server serves from --static DIR.
//
// Every visitor of a website that embeds the widget downloads these before the first question, so
// they go out compressed: Brotli when the request accepts `br`, gzip otherwise. A file is gzipped
// once (zlib, level 9) in the request that first asks, and compressed with Brotli (quality 11,
// seconds for the widget's wasm) once, on a thread of its own, while the requests meanwhile get
// the gzip; both are kept in memory until the file changes on disk. Every answer carries an ETag
// (size and modification time), so a revalidation costs a 304 instead of the bytes. Files in a
// content-hashed folder (/canvass/v-<hex>/, built by wasm/CMakeLists.txt) never change under their
// name: they are cached for a year, `immutable`, and a warm visit asks nothing for them; the
// loader (/canvass.js), which names that folder, is cached for a few minutes; everything else is
// revalidated every time. A request path has one spelling per file (NormalStaticPath: no NUL, no
// empty, "." or ".." segment), and a file's real path must lie inside DIR (symlinks are followed
// only inside it). The compression cache is keyed by that spelling and bounded. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http_message.h"

namespace canvass::server {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir);
  // The answer to GET `request.path`: the file (Brotli or gzip if the client accepts it and that
  // is smaller; with Content-Encoding, which the HTTP layer must send as it is), 304 for a
  // matching If-None-Match, 301 from a folder to its "/", or 404. Each file is compressed once per
  // version and encoding.
  HttpResponse Get(const HttpRequest& request);
  std::size_t CachedEntries();  // for tests and /metrics

  static constexpr std::size_t kMaxCachedFiles = 4096;
  static constexpr std::uint64_t kMaxCachedBytes = 256ull << 20;
  static constexpr std::size_t kMaxBrotliJobs = 4;  // files compressed with Brotli at once

 private:
  bool Inside(const std::string& file) const;
  struct Entry {
    std::string etag;
    bool gzip_done = false;
    bool br_done = false;
    std::shared_ptr<const std::string> gzip;  // null: not done, or not smaller than the file
    std::shared_ptr<const std::string> br;    // the same for Brotli
  };
  // Shared with the Brotli threads, which may outlive a request (and, detached, the object).
  struct Cache {
    std::mutex mu;
    std::map<std::string, Entry> entries;  // normal path -> compressed forms of its current content
    std::uint64_t bytes = 0;
    std::map<std::string, std::string> compressing;  // path -> etag, Brotli under way
    // Stores one encoding of `path` at version `etag` (null: not smaller). Locked by the caller.
    void Put(const std::string& path, const std::string& etag, bool br,
             std::shared_ptr<const std::string> data);
  };
  std::string dir_;
  std::string root_;  // the real path of dir_
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

// The one spelling of a static file's request path ("/" + segments, "/x/" -> "/x/index.html"), or
// nullopt for a path no file is served under (NUL, backslash, empty, "." or ".." segments).
std::optional<std::string> NormalStaticPath(const std::string& request_path);

// gzip (RFC 1952) of `data` at zlib's best compression; empty on failure.
std::string Gzip(const std::string& data);

// Brotli (RFC 7932) of `data` at the best compression (quality 11, 16 MB window); empty on failure.
std::string Brotli(const std::string& data);

// Whether an Accept-Encoding value accepts `coding` ("br", "gzip"): a listed token whose q is not
// 0.
bool AcceptsEncoding(const std::string& accept_encoding, const std::string& coding);

}  // namespace canvass::server
