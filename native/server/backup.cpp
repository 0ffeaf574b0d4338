// Backup and restore of a data directory (backup.h; the format is in docs/operations.md).
//
// The database copy is SQLite's VACUUM INTO: it reads the database in one read transaction, so it
// is consistent while the server keeps writing (WAL lets the writer go on), and the copy is a
// plain database file with nothing to replay. The container is written to a temporary file and
// renamed, so an interrupted backup never leaves a half file under the final name; a BLAKE2b-256
// over the whole container lets restore refuse a truncated or damaged file before it touches the
// data directory.
#include "backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "files.h"

namespace canvass::server {
namespace {

constexpr char kMagic[8] = {'C', 'N', 'V', 'S', 'B', 'A', 'K', '1'};
constexpr char kDatabase[] = "canvass.db";
constexpr char kTokenFile[] = "initial-admin-token";
// Keys a data directory must have; every other file in keys/ (a key added by a later version) is
// carried too.
const char* const kKeyFiles[] = {"keys/org-sign.key", "keys/org-box.key", "keys/customer.key"};
constexpr std::uint32_t kMaxEntries = 64;
constexpr std::uint32_t kMaxNameLength = 128;
constexpr std::uint64_t kMaxSmallFile = 4096;  // keys and token; the database is streamed
constexpr std::size_t kChunk = 1 << 20;

// The only names a backup may hold: the database, the token and plain file names under keys/.
// Restore writes nothing else, so a crafted file cannot write outside the data directory.
bool AllowedName(const std::string& name) {
  if (name == kDatabase || name == kTokenFile) return true;
  if (name.rfind("keys/", 0) != 0 || name.size() == 5) return false;
  const std::string file = name.substr(5);
  if (file[0] == '.') return false;
  for (char c : file) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Errno() { return std::strerror(errno); }

// Writes to a file descriptor while hashing every byte written.
class HashedWriter {
 public:
  explicit HashedWriter(int fd) : fd_(fd) { crypto_generichash_init(&state_, nullptr, 0, 32); }
  Status Write(const void* data, std::size_t n) {
    crypto_generichash_update(&state_, static_cast<const unsigned char*>(data), n);
    return WriteRaw(data, n);
  }
  Status U32(std::uint32_t v) {
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return Write(b, 4);
  }
  Status U64(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return Write(b, 8);
  }
  // Appends the hash of everything written so far (not itself hashed).
  Status Finish() {
    Hash256 h{};
    crypto_generichash_final(&state_, h.data(), h.size());
    return WriteRaw(h.data(), h.size());
  }

 private:
  Status WriteRaw(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::IoError("write: " + Errno());
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return Status::Ok();
  }
  int fd_;
  crypto_generichash_state state_;
};

// Reads a stream while hashing every byte read.
class HashedReader {
 public:
  explicit HashedReader(std::istream& in) : in_(in) {
    crypto_generichash_init(&state_, nullptr, 0, 32);
  }
  bool Read(void* out, std::size_t n) {
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n) return false;
    crypto_generichash_update(&state_, static_cast<const unsigned char*>(out), n);
    return true;
  }
  bool U32(std::uint32_t* v) {
    unsigned char b[4];
    if (!Read(b, 4)) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<std::uint32_t>(b[i]) << (8 * i);
    return true;
  }
  bool U64(std::uint64_t* v) {
    unsigned char b[8];
    if (!Read(b, 8)) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    return true;
  }
  Hash256 Digest() {
    Hash256 h{};
    crypto_generichash_final(&state_, h.data(), h.size());
    return h;
  }

 private:
  std::istream& in_;
  crypto_generichash_state state_;
};

struct Args {
  std::string data_dir, file;
  bool force = false;
};

// Parses "--data DIR --out|--in FILE [--force]"; prints the reason and returns false if wrong.
bool ParseArgs(int argc, char** argv, const char* command, const char* file_flag, bool allow_force,
               Args* out) {
  const std::string usage = std::string("usage: canvass-server ") + command + " --data DIR " +
                            file_flag + " FILE" + (allow_force ? " [--force]" : "");
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage << "\n(see docs/operations.md)\n";
      std::exit(0);
    } else if ((a == "--data" || a == file_flag) && i + 1 < argc) {
      (a == "--data" ? out->data_dir : out->file) = argv[++i];
    } else if (allow_force && a == "--force") {
      out->force = true;
    } else {
      std::cerr << "canvass-server " << command << ": unexpected '" << a << "'\n" << usage << "\n";
      return false;
    }
  }
  if (out->data_dir.empty() || out->file.empty()) {
    std::cerr << "canvass-server " << command << ": --data and " << file_flag << " are required\n"
              << usage << "\n";
    return false;
  }
  return true;
}

// Runs a statement with one bound text parameter (or none) on `db`; returns the first column of
// the first row as text, if any.
Result<std::optional<std::string>> Query(sqlite3* db, const char* sql,
                                         const std::string* param = nullptr) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::IoError(std::string(sql) + ": " + sqlite3_errmsg(db));
  }
  if (param) {
    sqlite3_bind_text(stmt, 1, param->data(), static_cast<int>(param->size()), SQLITE_TRANSIENT);
  }
  int rc = sqlite3_step(stmt);
  std::optional<std::string> value;
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    value = text ? reinterpret_cast<const char*>(text) : "";
  }
  Status s = (rc == SQLITE_ROW || rc == SQLITE_DONE)
                 ? Status::Ok()
                 : Status::IoError(std::string(sql) + ": " + sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
  if (!s.ok()) return s;
  return value;
}

// Opens `path` (which must exist), checks it with PRAGMA quick_check, and counts its records.
Result<std::uint64_t> CheckDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  Result<std::optional<std::string>> check = Query(db, "PRAGMA quick_check");
  Status s;
  std::uint64_t records = 0;
  if (!check.ok()) {
    s = check.status();
  } else if (!*check || **check != "ok") {
    s = Status::Corruption(path + " fails PRAGMA quick_check: " + check->value_or("no answer"));
  } else {
    Result<std::optional<std::string>> count = Query(db, "SELECT COUNT(*) FROM records");
    if (!count.ok()) {
      s = count.status().WithContext(path + " is not a canvass-server database");
    } else if (*count) {
      records = std::stoull(**count);
    }
  }
  sqlite3_close(db);
  if (!s.ok()) return s;
  return records;
}

// A consistent copy of the live database at `db_path` into the new file `copy_path`.
Status SnapshotDatabase(const std::string& db_path, const std::string& copy_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IoError("cannot open " + db_path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 30000);  // a server's write transaction is short; wait it out
  Result<std::optional<std::string>> done = Query(db, "VACUUM INTO ?", &copy_path);
  sqlite3_close(db);
  return done.ok() ? Status::Ok() : done.status().WithContext("copying the database");
}

Status CopyFileInto(HashedWriter& w, const std::string& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path);
  std::vector<char> buf(kChunk);
  std::uint64_t left = size;
  while (left > 0) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    in.read(buf.data(), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) {
      return Status::IoError(path + " changed size while it was copied");
    }
    Status s = w.Write(buf.data(), n);
    if (!s.ok()) return s;
    left -= n;
  }
  return Status::Ok();
}

struct Entry {
  std::string name;
  std::string source;  // file to read (backup)
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // in the backup file (restore)
  std::string contents{};    // small files, read in the first pass (restore)
};

Status WriteBackup(const std::vector<Entry>& entries, const std::string& out_path) {
  const std::string tmp = out_path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + tmp + ": " + Errno());
  HashedWriter w(fd);
  Status s = w.Write(kMagic, sizeof kMagic);
  if (s.ok()) s = w.U32(static_cast<std::uint32_t>(entries.size()));
  for (const Entry& e : entries) {
    if (s.ok()) s = w.U32(static_cast<std::uint32_t>(e.name.size()));
    if (s.ok()) s = w.Write(e.name.data(), e.name.size());
    if (s.ok()) s = w.U64(e.size);
    if (s.ok()) s = CopyFileInto(w, e.source, e.size);
  }
  if (s.ok()) s = w.Finish();
  if (s.ok() && fsync(fd) != 0) s = Status::IoError("fsync " + tmp + ": " + Errno());
  if (close(fd) != 0 && s.ok()) s = Status::IoError("close " + tmp + ": " + Errno());
  if (s.ok() && rename(tmp.c_str(), out_path.c_str()) != 0) {
    s = Status::IoError("cannot rename " + tmp + " to " + out_path + ": " + Errno());
  }
  if (!s.ok()) unlink(tmp.c_str());
  return s.WithContext("writing " + out_path);
}

// Reads and checks the whole container: names, sizes, the trailing hash. Small files are kept in
// memory; the database is only located (offset, size) for the second pass.
Result<std::vector<Entry>> ReadBackupIndex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  HashedReader r(in);
  const Status truncated = Status::Corruption(path + " is truncated (an interrupted copy?)");
  char magic[sizeof kMagic];
  if (!r.Read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return Status::Corruption(path + " is not a canvass-server backup (wrong magic bytes)");
  }
  std::uint32_t count = 0;
  if (!r.U32(&count)) return truncated;
  if (count > kMaxEntries) return Status::Corruption(path + ": too many entries");
  std::vector<Entry> entries;
  std::vector<char> buf(kChunk);
  for (std::uint32_t i = 0; i < count; ++i) {
    Entry e;
    std::uint32_t name_length = 0;
    if (!r.U32(&name_length)) return truncated;
    if (name_length > kMaxNameLength) return Status::Corruption(path + ": entry name too long");
    e.name.resize(name_length);
    if (!r.Read(e.name.data(), name_length) || !r.U64(&e.size)) return truncated;
    if (!AllowedName(e.name)) {
      return Status::Corruption(path + ": unexpected entry '" + e.name + "'");
    }
    for (const Entry& seen : entries) {
      if (seen.name == e.name) return Status::Corruption(path + ": '" + e.name + "' twice");
    }
    e.offset = static_cast<std::uint64_t>(in.tellg());
    if (e.name != kDatabase) {
      if (e.size > kMaxSmallFile) return Status::Corruption(path + ": '" + e.name + "' too big");
      e.contents.resize(static_cast<std::size_t>(e.size));
      if (!r.Read(e.contents.data(), e.contents.size())) return truncated;
    } else {
      for (std::uint64_t left = e.size; left > 0;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
        if (!r.Read(buf.data(), n)) return truncated;
        left -= n;
      }
    }
    entries.push_back(std::move(e));
  }
  const Hash256 computed = r.Digest();
  Hash256 stored{};
  in.read(reinterpret_cast<char*>(stored.data()), stored.size());
  if (static_cast<std::size_t>(in.gcount()) != stored.size()) return truncated;
  if (in.peek() != std::char_traits<char>::eof()) {
    return Status::Corruption(path + " has bytes after its checksum");
  }
  if (!ConstantTimeEqual(std::string_view(reinterpret_cast<const char*>(computed.data()), 32),
                         std::string_view(reinterpret_cast<const char*>(stored.data()), 32))) {
    return Status::Corruption(path + " is damaged: its checksum does not match its contents");
  }
  for (const char* k : kKeyFiles) {
    bool found = false;
    for (Entry& e : entries) {
      if (e.name != k) continue;
      found = true;
      std::string hex = e.contents.substr(0, e.contents.find_first_of("\r\n"));
      Result<Seed> seed = ArrayFromHex<32>(hex);
      SecureWipe(hex.data(), static_cast<std::uint32_t>(hex.size()));
      if (!seed.ok()) return Status::Corruption(path + ": key " + k + " is damaged");
      SecureWipe(seed->data(), static_cast<std::uint32_t>(seed->size()));
    }
    if (!found) return Status::Corruption(path + " holds no " + k);
  }
  return entries;
}

// Names in `dir` other than "." and ".."; empty if it does not exist.
std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

Status RestoreDatabase(const std::string& backup_path, const Entry& e, const std::string& dir) {
  const std::string target = dir + "/" + kDatabase;
  const std::string tmp = target + ".restore." + std::to_string(getpid());
  std::ifstream in(backup_path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(e.offset));
  int fd = open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (!in || fd < 0) return Status::IoError("cannot create " + tmp + ": " + Errno());
  std::vector<char> buf(kChunk);
  Status s;
  for (std::uint64_t left = e.size; left > 0 && s.ok();) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    in.read(buf.data(), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in.gcount()) != n) {
      s = Status::IoError(backup_path + " changed while it was restored");
      break;
    }
    for (std::size_t done = 0; done < n && s.ok();) {
      ssize_t w = write(fd, buf.data() + done, n - done);
      if (w < 0 && errno != EINTR) s = Status::IoError("write " + tmp + ": " + Errno());
      if (w > 0) done += static_cast<std::size_t>(w);
    }
    left -= n;
  }
  if (s.ok() && fsync(fd) != 0) s = Status::IoError("fsync " + tmp + ": " + Errno());
  close(fd);
  if (s.ok()) {
    // A WAL or shared-memory file left from the old database would be replayed into the
    // restored one and corrupt it: they go first.
    unlink((target + "-wal").c_str());
    unlink((target + "-shm").c_str());
    if (rename(tmp.c_str(), target.c_str()) != 0) {
      s = Status::IoError("cannot rename " + tmp + " to " + target + ": " + Errno());
    }
  }
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

}  // namespace

int BackupCommand(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, "backup", "--out", true, &args)) return 2;
  // Said before anything is copied: SQLite would only say "unable to open database".
  const std::size_t slash = args.file.find_last_of('/');
  const std::string folder =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : args.file.substr(0, slash));
  struct stat folder_st {};
  if (stat(folder.c_str(), &folder_st) != 0 || !S_ISDIR(folder_st.st_mode)) {
    std::cerr << "canvass-server backup: no such folder: " << folder
              << " (make it first, e.g. mkdir -p " << folder << ")\n";
    return 1;
  }
  struct stat out_st {};
  if (stat(args.file.c_str(), &out_st) == 0) {
    if (!S_ISREG(out_st.st_mode)) {
      std::cerr << "canvass-server backup: " << args.file << " exists and is not a file\n";
      return 1;
    }
    if (!args.force) {
      std::cerr << "canvass-server backup: " << args.file
                << " already exists; backup refuses to overwrite it. Choose another name (e.g. "
                   "with the date) or add --force to replace it; nothing was changed\n";
      return 1;
    }
  }
  umask(077);  // the backup holds the organisation's secret keys: owner only
  if (!InitCrypto().ok()) {
    std::cerr << "canvass-server backup: libsodium failed to initialise\n";
    return 1;
  }
  std::vector<Entry> entries;
  for (const char* k : kKeyFiles) {
    if (!FileExists(args.data_dir + "/" + k)) {
      std::cerr << "canvass-server backup: " << args.data_dir << "/" << k << " is missing: is "
                << args.data_dir << " a canvass-server data directory?\n";
      return 1;
    }
  }
  std::vector<std::string> key_names = DirectoryEntries(args.data_dir + "/keys");
  std::sort(key_names.begin(), key_names.end());
  for (const std::string& name : key_names) {
    const std::string path = args.data_dir + "/keys/" + name;
    struct stat st {};
    // Temporary files of a key being created (NAME.tmp.PID) are not keys.
    if (!FileExists(path) || name.find(".tmp.") != std::string::npos ||
        !AllowedName("keys/" + name) || stat(path.c_str(), &st) != 0) {
      continue;
    }
    entries.push_back({"keys/" + name, path, static_cast<std::uint64_t>(st.st_size)});
  }
  const std::string token = args.data_dir + "/" + kTokenFile;
  if (FileExists(token)) {
    struct stat st {};
    stat(token.c_str(), &st);
    entries.push_back({kTokenFile, token, static_cast<std::uint64_t>(st.st_size)});
  }
  const std::string db = args.data_dir + "/" + kDatabase;
  const std::string snapshot = args.file + ".db." + std::to_string(getpid());
  std::uint64_t records = 0;
  bool has_db = FileExists(db);
  if (has_db) {
    unlink(snapshot.c_str());  // VACUUM INTO refuses an existing file
    Status s = SnapshotDatabase(db, snapshot);
    Result<std::uint64_t> checked = s.ok() ? CheckDatabase(snapshot) : Result<std::uint64_t>(s);
    struct stat st {};
    if (checked.ok() && stat(snapshot.c_str(), &st) != 0) {
      checked = Status::IoError("cannot stat " + snapshot + ": " + Errno());
    }
    if (!checked.ok()) {
      unlink(snapshot.c_str());
      std::cerr << "canvass-server backup: " << checked.status().message() << "\n";
      return 1;
    }
    records = *checked;
    entries.push_back({kDatabase, snapshot, static_cast<std::uint64_t>(st.st_size)});
  }
  Status s = WriteBackup(entries, args.file);
  if (has_db) unlink(snapshot.c_str());
  if (!s.ok()) {
    std::cerr << "canvass-server backup: " << s.message() << "\n";
    return 1;
  }
  std::cout << "backup of " << args.data_dir << " written to " << args.file << ": keys";
  std::cout << " (" << std::count_if(entries.begin(), entries.end(), [](const Entry& e) {
    return e.name.rfind("keys/", 0) == 0;
  }) << " files)";
  if (FileExists(token)) std::cout << ", initial admin token";
  if (has_db) {
    std::cout << ", SQLite database (" << records << " records)\n";
  } else {
    std::cout << "\nno SQLite database in " << args.data_dir
              << ": with PostgreSQL, back the database up with pg_dump (docs/operations.md)\n";
  }
  return 0;
}

int RestoreCommand(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, "restore", "--in", true, &args)) return 2;
  umask(077);
  if (!InitCrypto().ok()) {
    std::cerr << "canvass-server restore: libsodium failed to initialise\n";
    return 1;
  }
  // Everything is checked before the data directory is touched.
  Result<std::vector<Entry>> entries = ReadBackupIndex(args.file);
  if (!entries.ok()) {
    std::cerr << "canvass-server restore: " << entries.status().message()
              << "; nothing was changed\n";
    return 1;
  }
  std::vector<std::string> existing = DirectoryEntries(args.data_dir);
  if (!existing.empty() && !args.force) {
    std::cerr << "canvass-server restore: " << args.data_dir << " is not empty (it holds "
              << existing.front() << (existing.size() > 1 ? ", ..." : "")
              << "); restore refuses to overwrite a data directory. Stop the server that uses it "
                 "and add --force to replace its keys and database, or restore into a new "
                 "directory; nothing was changed\n";
    return 1;
  }
  Status s = native::MakePrivateDir(args.data_dir);
  if (s.ok()) s = native::MakePrivateDir(args.data_dir + "/keys");
  bool has_token = false, has_db = false;
  for (Entry& e : *entries) {
    if (!s.ok()) break;
    if (e.name == kDatabase) {
      has_db = true;
      s = RestoreDatabase(args.file, e, args.data_dir);
    } else {
      has_token = has_token || e.name == kTokenFile;
      s = native::ReplaceFileMode0600(args.data_dir + "/" + e.name, e.contents);
      SecureWipe(e.contents.data(), static_cast<std::uint32_t>(e.contents.size()));
    }
  }
  // A token file from before would not match the restored database's token hash.
  if (s.ok() && !has_token) unlink((args.data_dir + "/" + kTokenFile).c_str());
  Result<std::uint64_t> records = std::uint64_t{0};
  if (s.ok() && has_db) records = CheckDatabase(args.data_dir + "/" + kDatabase);
  if (!s.ok() || !records.ok()) {
    std::cerr << "canvass-server restore: " << (s.ok() ? records.status() : s).message()
              << "; the data directory may be incomplete: restore again\n";
    return 1;
  }
  std::cout << "restored " << args.data_dir << " from " << args.file << ": keys"
            << (has_token ? ", initial admin token" : "");
  if (has_db) {
    std::cout << ", SQLite database (" << *records << " records)\n";
  } else {
    std::cout << " (no database in the backup: restore PostgreSQL with pg_restore)\n";
  }
  return 0;
}

}  // namespace canvass::server
