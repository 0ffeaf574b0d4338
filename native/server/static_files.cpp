#include "static_files.h"

#include <brotli/encode.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
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

bool Accepts(const HttpRequest& r, const std::string& coding) {
  auto it = r.headers.find("accept-encoding");
  return it != r.headers.end() && AcceptsEncoding(it->second, coding);
}

// A content-hashed folder's files (/canvass/v-<16 or more hex digits>/...): a new version of the
// widget is a new folder, so a file never changes under such a name.
bool IsImmutable(const std::string& path) {
  const std::string prefix = "/canvass/v-";
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t slash = path.find('/', prefix.size());
  if (slash == std::string::npos || slash - prefix.size() < 16) return false;
  for (std::size_t i = prefix.size(); i < slash; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(path[i]))) return false;
  }
  return true;
}

const char* CacheControl(const std::string& path) {
  if (IsImmutable(path)) return "public, max-age=31536000, immutable";
  // The loader names the current hashed folder: a new version reaches visitors within minutes.
  // The embed demo stands in for a customer's page, cached as a shop's pages commonly are (and as
  // the SurveyJS page of tests/browser/bench-load.mjs is), so that a warm load compares like with
  // like.
  if (path == "/canvass.js" || path == "/embed-demo.html" || path == "/embed-demo.js") {
    return "public, max-age=300";
  }
  // Revalidate every time (a new widget version must reach kiosks the same day); the kiosk's
  // service worker keeps its own copy for offline use.
  return "no-cache";
}

}  // namespace

bool AcceptsEncoding(const std::string& accept_encoding, const std::string& coding) {
  std::size_t at = 0;
  while (at <= accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', at);
    if (end == std::string::npos) end = accept_encoding.size();
    std::string item = accept_encoding.substr(at, end - at);
    at = end + 1;
    std::string q;
    if (const std::size_t semi = item.find(';'); semi != std::string::npos) {
      q = item.substr(semi + 1);
      item.resize(semi);
    }
    auto trim = [](std::string& t) {
      while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
      std::size_t i = 0;
      while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
      t.erase(0, i);
    };
    trim(item);
    trim(q);
    if (item.size() != coding.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < item.size(); ++i) {
      same = same && std::tolower(static_cast<unsigned char>(item[i])) == coding[i];
    }
    if (!same) continue;
    // "q=0", "q=0.0", "q=0.000": refused.
    if (q.size() >= 3 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=' &&
        q.find_first_not_of("0.", 2) == std::string::npos) {
      return false;
    }
    return true;
  }
  return false;
}

std::string Brotli(const std::string& data) {
  std::size_t size = BrotliEncoderMaxCompressedSize(data.size());
  if (size == 0) return std::string();
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, BROTLI_MAX_WINDOW_BITS, BROTLI_MODE_GENERIC,
                             data.size(), reinterpret_cast<const std::uint8_t*>(data.data()), &size,
                             reinterpret_cast<std::uint8_t*>(out.data()))) {
    return std::string();
  }
  out.resize(size);
  return out;
}

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
  std::lock_guard lock(cache_->mu);
  return cache_->entries.size();
}

void StaticFiles::Cache::Put(const std::string& path, const std::string& etag, bool br,
                             std::shared_ptr<const std::string> data) {
  auto it = entries.find(path);
  if (it != entries.end() && it->second.etag != etag) {
    // Another version of the file: its compressed forms go.
    bytes -= (it->second.gzip ? it->second.gzip->size() : 0) +
             (it->second.br ? it->second.br->size() : 0);
    entries.erase(it);
    it = entries.end();
  }
  const std::uint64_t add = data ? data->size() : 0;
  // Keyed by the one spelling of an existing file, so the cache holds at most one entry per file;
  // the bounds are for a folder far bigger than ours (it starts over past them).
  if ((it == entries.end() && entries.size() >= kMaxCachedFiles) || bytes + add > kMaxCachedBytes) {
    entries.clear();
    bytes = 0;
    it = entries.end();
  }
  if (it == entries.end()) {
    Entry fresh;
    fresh.etag = etag;
    it = entries.emplace(path, std::move(fresh)).first;
  }
  auto& slot = br ? it->second.br : it->second.gzip;
  bytes -= slot ? slot->size() : 0;
  slot = std::move(data);
  (br ? it->second.br_done : it->second.gzip_done) = true;
  bytes += add;
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
  out.headers = {
      {"ETag", etag}, {"Cache-Control", CacheControl(path)}, {"Vary", "Accept-Encoding"}};
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
  const bool br = Accepts(r, "br");
  if ((!br && !Accepts(r, "gzip")) || out.body.size() < 256) return out;

  std::shared_ptr<const std::string> packed;
  bool gzip_done = false;
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->entries.find(path);
    const Entry* entry =
        it != cache_->entries.end() && it->second.etag == etag ? &it->second : nullptr;
    if (br && entry && entry->br_done && entry->br) {
      out.body = *entry->br;
      out.headers.emplace_back("Content-Encoding", "br");
      return out;
    }
    if (br && !(entry && entry->br_done) && !cache_->compressing.count(path) &&
        cache_->compressing.size() < kMaxBrotliJobs) {
      // Brotli at quality 11 takes seconds for the wasm: this request and the next ones get the
      // gzip until it is done. One job per file, a few at once.
      cache_->compressing.emplace(path, etag);
      std::thread([cache = cache_, path, etag, data = out.body] {
        std::string packed = Brotli(data);
        std::shared_ptr<const std::string> kept;
        if (!packed.empty() && packed.size() < data.size()) {
          kept = std::make_shared<const std::string>(std::move(packed));
        }
        std::lock_guard lock(cache->mu);
        cache->compressing.erase(path);
        auto now = cache->entries.find(path);
        // Not for a version of the file that another request has replaced meanwhile.
        if (now == cache->entries.end() || now->second.etag == etag) {
          cache->Put(path, etag, true, std::move(kept));
        }
      }).detach();
    }
    if (!Accepts(r, "gzip")) return out;
    if (entry && entry->gzip_done) {
      gzip_done = true;
      packed = entry->gzip;
    }
  }
  if (!gzip_done) {
    std::string gz = Gzip(out.body);  // outside the lock: a big file takes a moment
    if (!gz.empty() && gz.size() < out.body.size()) {
      packed = std::make_shared<const std::string>(std::move(gz));
    }
    std::lock_guard lock(cache_->mu);
    cache_->Put(path, etag, false, packed);
  }
  if (packed) {
    out.body = *packed;
    out.headers.emplace_back("Content-Encoding", "gzip");
  }
  return out;
}

}  // namespace canvass::server
