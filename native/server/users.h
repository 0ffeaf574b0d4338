// Admin API users (docs/protocol.md, "Users and roles"): who is calling, what role they have and
// which locations they may see.
//
// - owner: everything (surveys, devices, exports, users, webhooks, the root-cause list, every
//   case). The initial admin token and the admin password act as the owner "admin".
// - manager: the cases of their locations, and the escalations of overdue ones.
// - staff: the cases of their locations.
// Managers and staff also read the surveys and the statistics of their locations (the dashboard).
// Passwords are stored only as crypto_pwhash_str (Argon2id, interactive limits) hashes.
// Thread-safe: every function is pure or calls libsodium only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/status.h"

namespace canvass::server {

enum class Role { kOwner, kManager, kStaff };
const char* RoleName(Role role);  // "owner", "manager", "staff"
std::optional<Role> ParseRole(std::string_view name);

// Who made an admin request.
struct Principal {
  std::string name;  // the user, or "admin" for the initial token and the admin password
  Role role = Role::kOwner;
  std::vector<std::string> locations;  // manager, staff
  bool admin = false;                  // the initial token or the admin password, not a user
};

// Owners see every location; managers and staff the ones they work at.
bool CanAccess(const Principal& who, std::string_view location);
// Whether something published for `locations` (a survey; empty: every location) concerns `who`:
// the owner always, others when it is for every location or one of theirs.
bool CanAccessAny(const Principal& who, const std::vector<std::string>& locations);

// The name of the owner behind the initial token and the admin password; no user may take it.
inline constexpr std::string_view kAdminName = "admin";
constexpr std::size_t kMinPasswordLength = 10;

// InvalidArgument (saying what is allowed) unless `name` is 1-64 of [a-z0-9._-] and not "admin".
Status CheckUserName(std::string_view name);

// Password hashing runs at most PasswordHashingSlots() Argon2id computations (64 MiB each) at
// once; more callers wait. The default comes from the machine's memory and cores.
std::uint32_t DefaultPasswordHashingSlots();
void SetPasswordHashingSlots(std::uint32_t slots);
std::uint32_t PasswordHashingSlots();
std::uint32_t PasswordHashingPeak();  // most at once since the last SetPasswordHashingSlots

// The Argon2id hash of `*password`; wipes `*password` on every path. InvalidArgument if it is
// shorter than kMinPasswordLength, Unavailable if there is not enough memory to hash it.
Result<std::string> HashPassword(std::string* password);
// True if `password` matches `hash` (a crypto_pwhash_str string). With no hash (an unknown user)
// it still spends the time of one check, so that timing does not tell which names exist.
bool VerifyPassword(const std::optional<std::string>& hash, std::string_view password);

}  // namespace canvass::server
