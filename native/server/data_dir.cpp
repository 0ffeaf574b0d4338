#include "data_dir.h"

#include "files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace canvass::server {
namespace {

// Reads a 32-byte seed stored as hex, or creates it. Creation writes a temporary file and links
// it into place, so that of two processes starting at once exactly one key wins and both use it.
Result<Seed> LoadOrCreateSeed(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::ifstream in(path);
    if (in) {
      std::string hex;
      in >> hex;
      Result<Seed> seed = ArrayFromHex<32>(hex);
      if (!seed.ok()) return seed.status().WithContext(path + " is damaged");
      struct stat st {};
      if (stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
        chmod(path.c_str(), 0600);  // keys are for the owner only, whatever a copy did
      }
      return seed;
    }
    Seed seed;
    RandomBytes(seed.data(), static_cast<std::uint32_t>(seed.size()));
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    std::string hex = ToHex(seed) + "\n";
    Status s = native::WriteFileMode0600(tmp, hex, false);
    SecureWipe(hex.data(), static_cast<std::uint32_t>(hex.size()));
    if (!s.ok()) return s;
    int rc = link(tmp.c_str(), path.c_str());
    unlink(tmp.c_str());
    if (rc == 0) return seed;
    if (errno != EEXIST)
      return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
    // Another process created it first: read theirs.
  }
  return Status::IoError("cannot create or read " + path);
}

}  // namespace

Result<OrgKeys> LoadOrCreateKeys(const std::string& dir) {
  Status s = native::MakePrivateDir(dir);
  if (s.ok()) s = native::MakePrivateDir(dir + "/keys");
  if (!s.ok()) return s;
  Result<Seed> sign = LoadOrCreateSeed(dir + "/keys/org-sign.key");
  if (!sign.ok()) return sign.status();
  Result<Seed> box = LoadOrCreateSeed(dir + "/keys/org-box.key");
  if (!box.ok()) return box.status();
  Result<Seed> customer = LoadOrCreateSeed(dir + "/keys/customer.key");
  if (!customer.ok()) return customer.status();
  Result<Seed> sms = LoadOrCreateSeed(dir + "/keys/sms-gateway.key");
  if (!sms.ok()) return sms.status();
  OrgKeys keys{SigningKey::FromSeed(*sign), BoxKey::FromSeed(*box), *customer, *sms};
  SecureWipe(sign->data(), 32);
  SecureWipe(box->data(), 32);
  return keys;
}

}  // namespace canvass::server
