#include "users.h"

#include <sodium.h>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "canvass/crypto.h"

namespace canvass::server {

namespace {

// Every Argon2id computation takes crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB): a flood of logins
// must not run hundreds at once. Callers wait for a slot (the wait is bounded by the HTTP layer's
// connection limit; a login is rate-limited per address and per account before it gets here).
class HashingSlots {
 public:
  void Enter() {
    std::unique_lock lock(mu_);
    free_.wait(lock, [&] { return busy_ < slots_; });
    ++busy_;
    peak_ = std::max(peak_, busy_);
  }
  void Leave() {
    {
      std::lock_guard lock(mu_);
      --busy_;
    }
    free_.notify_one();
  }
  void Set(std::uint32_t slots) {
    {
      std::lock_guard lock(mu_);
      slots_ = std::max<std::uint32_t>(1, slots);
      peak_ = 0;
    }
    free_.notify_all();
  }
  std::uint32_t slots() {
    std::lock_guard lock(mu_);
    return slots_;
  }
  std::uint32_t peak() {
    std::lock_guard lock(mu_);
    return peak_;
  }

 private:
  std::mutex mu_;
  std::condition_variable free_;
  std::uint32_t slots_ = DefaultPasswordHashingSlots();
  std::uint32_t busy_ = 0;
  std::uint32_t peak_ = 0;
};

HashingSlots& Slots() {
  static HashingSlots slots;
  return slots;
}

struct SlotGuard {
  SlotGuard() { Slots().Enter(); }
  ~SlotGuard() { Slots().Leave(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;
};

}  // namespace

std::uint32_t DefaultPasswordHashingSlots() {
  // An eighth of the memory, at most two per core (more would only queue for the CPU).
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  std::uint64_t by_memory = 1;
  if (pages > 0 && page_size > 0) {
    by_memory = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 8 /
                crypto_pwhash_MEMLIMIT_INTERACTIVE;
  }
  const std::uint64_t by_cpu = 2 * std::max(1u, std::thread::hardware_concurrency());
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(std::min(by_memory, by_cpu), 1, 64));
}

void SetPasswordHashingSlots(std::uint32_t slots) { Slots().Set(slots); }
std::uint32_t PasswordHashingSlots() { return Slots().slots(); }
std::uint32_t PasswordHashingPeak() { return Slots().peak(); }

const char* RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kManager:
      return "manager";
    case Role::kStaff:
      return "staff";
  }
  return "staff";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kOwner, Role::kManager, Role::kStaff}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

bool CanAccess(const Principal& who, std::string_view location) {
  if (who.role == Role::kOwner) return true;
  return std::find(who.locations.begin(), who.locations.end(), location) != who.locations.end();
}

bool CanAccessAny(const Principal& who, const std::vector<std::string>& locations) {
  if (who.role == Role::kOwner || locations.empty()) return true;
  return std::any_of(locations.begin(), locations.end(),
                     [&](const std::string& l) { return CanAccess(who, l); });
}

Status CheckUserName(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      });
  if (!ok) return Status::InvalidArgument("name: 1 to 64 of a-z, 0-9, '.', '_' and '-'");
  if (name == kAdminName) {
    return Status::InvalidArgument(
        "name: 'admin' is the owner behind the initial token and the admin password; pick "
        "another name");
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string* password) {
  if (password->size() < kMinPasswordLength) {
    SecureWipe(password->data(), static_cast<std::uint32_t>(password->size()));
    return Status::InvalidArgument("password: use at least " + std::to_string(kMinPasswordLength) +
                                   " characters");
  }
  char hash[crypto_pwhash_STRBYTES];
  SlotGuard slot;
  const int hashed =
      crypto_pwhash_str(hash, password->data(), password->size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
  SecureWipe(password->data(), static_cast<std::uint32_t>(password->size()));
  if (hashed != 0) return Status::Unavailable("not enough memory to hash the password; retry");
  return std::string(hash);
}

bool VerifyPassword(const std::optional<std::string>& hash, std::string_view password) {
  SlotGuard slot;
  if (hash) return crypto_pwhash_str_verify(hash->c_str(), password.data(), password.size()) == 0;
  // A hash of a random password, made once: checking against it costs what a real check costs.
  static std::once_flag once;
  static char dummy[crypto_pwhash_STRBYTES] = {};
  std::call_once(once, [] {
    std::uint8_t random[16];
    RandomBytes(random, sizeof random);
    if (crypto_pwhash_str(dummy, reinterpret_cast<const char*>(random), sizeof random,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      dummy[0] = '\0';
    }
  });
  if (dummy[0] != '\0') {
    [[maybe_unused]] const int spent =
        crypto_pwhash_str_verify(dummy, password.data(), password.size());
  }
  return false;
}

}  // namespace canvass::server
