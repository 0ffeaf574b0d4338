#include "static_files.h"

#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace canvass::server {
namespace {

const char* ContentType(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript"},
      {".mjs", "text/javascript"},
      {".wasm", "application/wasm"},
      {".css", "text/css"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".ttf", "font/ttf"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"}};
  for (const auto& [ext, type] : kTypes) {
    const std::string e = ext;
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) {
      return type;
    }
  }
  return "application/octet-stream";
}

// Our own pages (kiosk, dashboard, index) load scripts only from files of this server, talk only
// to it, and may not be framed. WebAssembly compilation needs 'wasm-unsafe-eval'; the widget and
// the dashboard add <style> elements (they also run inside customers' pages), hence the inline
// styles. embed-demo.html stands in for a customer's website, which loads the loader from
// wherever the server is: it keeps no policy of ours.
constexpr const char* kPagePolicy =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

bool IsOurPage(const std::string& path) {
  const std::string html = ".html";
  return path.size() >= html.size() &&
         path.compare(path.size() - html.size(), html.size(), html) == 0 &&
         path != "/embed-demo.html";
}

bool AcceptsGzip(const HttpRequest& r) {
  auto it = r.headers.find("accept-encoding");
  return it != r.headers.end() && it->second.find("gzip") != std::string::npos;
}

}  // namespace

std::string Gzip(const std::string& data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer rather than a zlib one.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::string();
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

std::optional<std::string> NormalStaticPath(const std::string& request_path) {
  // One spelling per file: "/a/b.js". No NUL (it would cut the name short at the file system),
  // no empty, "." or ".." segment; a final "/" names the folder's index.html.
  if (request_path.empty() || request_path[0] != '/' ||
      request_path.find('\0') != std::string::npos ||
      request_path.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string path = request_path;
  if (path.back() == '/') path += "index.html";  // /kiosk/ -> /kiosk/index.html
  for (std::size_t at = 1; at <= path.size();) {
    std::size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment(path.data() + at, end - at);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    at = end + 1;
  }
  return path;
}

StaticFiles::StaticFiles(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(dir_, ec);
  root_ = ec ? dir_ : real.string();
}

bool StaticFiles::Inside(const std::string& file) const {
  // Symlinks may point anywhere inside the folder, never out of it.
  std::error_code ec;
  const std::string real = std::filesystem::canonical(file, ec).string();
  if (ec) return false;
  return real == root_ || (real.size() > root_.size() &&
                           real.compare(0, root_.size(), root_) == 0 && real[root_.size()] == '/');
}

std::size_t StaticFiles::CachedEntries() {
  std::lock_guard lock(mu_);
  return cache_.size();
}

HttpResponse StaticFiles::Get(const HttpRequest& r) {
  std::optional<std::string> normal = NormalStaticPath(r.path);
  if (r.method != "GET" || !normal) return ErrorResponse(404, "not_found", "nothing at " + r.path);
  const std::string& path = *normal;
  const std::string file = dir_ + path;
  if (!Inside(file)) return ErrorResponse(404, "not_found", "nothing at " + r.path);
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    // /kiosk -> /kiosk/ so that the page's relative URLs resolve inside the folder.
    HttpResponse moved;
    moved.status = 301;
    moved.headers = {{"Location", r.path + "/"}};
    return moved;
  }
  struct stat st {};
  if (stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return ErrorResponse(404, "not_found", "nothing at " + r.path);
  }
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  const std::string etag =
      "\"" + std::to_string(st.st_size) + "-" + std::to_string(mtime_ns) + "\"";

  HttpResponse out;
  out.content_type = ContentType(path);
  // Revalidate every time (a new widget version must reach kiosks the same day); the kiosk's
  // service worker keeps its own copy for offline use.
  out.headers = {{"ETag", etag}, {"Cache-Control", "no-cache"}, {"Vary", "Accept-Encoding"}};
  if (IsOurPage(path)) {
    out.headers.emplace_back("Content-Security-Policy", kPagePolicy);
    out.headers.emplace_back("Referrer-Policy", "no-referrer");
    out.headers.emplace_back("X-Frame-Options", "DENY");
  }
  if (auto inm = r.headers.find("if-none-match"); inm != r.headers.end() && inm->second == etag) {
    out.status = 304;
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in) return ErrorResponse(404, "not_found", "nothing at " + r.path);
  out.body = body.str();
  if (!AcceptsGzip(r) || out.body.size() < 256) return out;

  std::shared_ptr<const std::string> gz;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(path);
    if (it != cache_.end() && it->second.etag == etag) gz = it->second.gzip;
    if (it != cache_.end() && it->second.etag == etag && !gz) return out;  // does not shrink
  }
  if (!gz) {
    std::string packed = Gzip(out.body);  // outside the lock: a big file takes a moment
    if (!packed.empty() && packed.size() < out.body.size()) {
      gz = std::make_shared<const std::string>(std::move(packed));
    }
    std::lock_guard lock(mu_);
    // Keyed by the one spelling of an existing file, so the cache holds at most one entry per
    // file; the bounds are for a folder far bigger than ours (it starts over past them).
    Entry entry{mtime_ns, static_cast<std::uint64_t>(st.st_size), etag, gz};
    auto old = cache_.find(path);
    if (old != cache_.end()) {
      cached_bytes_ -= old->second.gzip ? old->second.gzip->size() : 0;
      cache_.erase(old);
    }
    const std::uint64_t bytes = gz ? gz->size() : 0;
    if (cache_.size() >= kMaxCachedFiles || cached_bytes_ + bytes > kMaxCachedBytes) {
      cache_.clear();
      cached_bytes_ = 0;
    }
    cache_.emplace(path, std::move(entry));
    cached_bytes_ += bytes;
  }
  if (gz) {
    out.body = *gz;
    out.headers.emplace_back("Content-Encoding", "gzip");
  }
  return out;
}

}  // namespace canvass::server
