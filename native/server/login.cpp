// Logging in and out, and changing a password (docs/protocol.md, "Admin API"): the admin
// requests that make or end a session, and Authenticate, which tells who holds a token.
//
// Failed logins are limited per address (5 a minute) and per account, from any address (10 in
// 15 minutes lock it for the rest of those 15 minutes); a locked account says so before the
// password is checked, so a lock tells nothing about a guess, and unknown names lock alike.
// Passwords are wiped from memory on every path.
#include "api.h"

namespace canvass::server {
namespace {

using Json = JsonWriter;

constexpr std::int64_t kSessionMs = 12LL * 3600 * 1000;

std::string BearerToken(const HttpRequest& r) {
  auto it = r.headers.find("authorization");
  if (it == r.headers.end() || it->second.rfind("Bearer ", 0) != 0) return std::string();
  return it->second.substr(7);
}

}  // namespace

Result<Principal> Api::Authenticate(const HttpRequest& r) {
  const Status refused = Status::Unauthenticated(
      "admin calls need 'Authorization: Bearer <token>' (the initial token from "
      "DATA/initial-admin-token, or one from POST /v1/admin/login)");
  const std::string token = BearerToken(r);
  if (token.empty() || token.size() > 256) return refused;
  const Principal admin{std::string(kAdminName), Role::kOwner, {}, true};
  const std::string hash = ToHex(Blake2b256(token));
  Result<std::optional<std::string>> initial = store_->GetSetting("admin_token_hash");
  if (!initial.ok()) return initial.status();
  if (*initial && ConstantTimeEqual(hash, **initial)) return admin;
  Result<std::optional<std::string>> session = store_->FindSession(Blake2b256(token), now_ms_());
  if (!session.ok()) return session.status();
  if (!*session) return refused;
  if ((*session)->empty()) return admin;  // a session of the admin password
  Result<std::optional<UserRow>> user = store_->FindUser(**session);
  if (!user.ok()) return user.status();
  std::optional<Role> role = *user ? ParseRole((*user)->role) : std::nullopt;
  if (!role) return Status::Unauthenticated("this session's user no longer exists; log in again");
  return Principal{(*user)->name, *role, (*user)->locations, false};
}

HttpResponse Api::Login(const AdminCall& call) {
  const HttpRequest& r = call.request;
  std::string* actor = call.actor;
  const std::int64_t now = now_ms_();
  if (!login_failures_.Allow(r.remote_address + "#check", now)) {
    return ErrorResponse(429, "rate_limited",
                         "too many failed logins from this address; wait a minute");
  }
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  std::string password = StringField(*doc, "password");
  // With "user": that user's password; without: the admin password (the owner "admin").
  const std::string user = StringField(*doc, "user");
  // Locked before the password is checked, so that a locked account tells nothing about a
  // guess. Unknown names lock as well: a lock says nothing about which names exist.
  const std::string account = user.empty() ? std::string("admin:") : "user:" + user;
  *actor = user.empty() ? std::string(kAdminName) : user;
  if (std::int64_t wait_ms = 0; account_failures_.Exhausted(account, now, &wait_ms)) {
    SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
    const std::int64_t minutes = (wait_ms + 59999) / 60000;
    return ErrorResponse(
        429, "locked",
        "this account is locked for " + std::to_string(minutes) +
            " more minute(s) after 10 failed logins; sessions already open keep working, "
            "and restarting the server lifts the lock");
  }
  Result<std::optional<std::string>> stored = std::optional<std::string>();
  if (user.empty()) {
    stored = store_->GetSetting("admin_password_hash");
  } else if (Result<std::optional<UserRow>> found = store_->FindUser(user); !found.ok()) {
    stored = found.status();
  } else if (*found) {
    stored = std::optional<std::string>((*found)->password_hash);
  }
  if (!stored.ok()) {
    SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
    return StatusResponse(stored.status());
  }
  const bool ok = VerifyPassword(*stored, password);
  SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
  if (!ok) {
    (void)account_failures_.Allow(account, now);
    return ErrorResponse(401, "unauthenticated",
                         !user.empty() ? "wrong user name or password"
                         : *stored     ? "wrong password"
                                       : "no admin password is set yet; use the initial "
                                         "admin token to set one");
  }
  login_failures_.Reset(r.remote_address + "#check");
  account_failures_.Reset(account);
  std::string token = RandomHex(32);
  Status s = store_->AddSession(Blake2b256(token), now + kSessionMs, user);
  if (!s.ok()) return StatusResponse(s);
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("token");
    WriteString(w, token);
    w.EndObject();
  });
}

HttpResponse Api::Logout(const AdminCall& call) {
  // Ends this session on the server (a copied token stops working too). The initial token is
  // no session: it ends when a password is set.
  if (Status s = store_->EndSession(Blake2b256(BearerToken(call.request))); !s.ok())
    return StatusResponse(s);
  return NoContent();
}

HttpResponse Api::ChangePassword(const AdminCall& call) {
  const HttpRequest& r = call.request;
  const Principal& who = call.who;
  const std::int64_t now = now_ms_();
  const Hash256 caller_token = Blake2b256(BearerToken(r));
  // The password of whoever is logged in: the admin password, or the user's own. It takes the
  // current one (but for the admin's first), and ends every other session of that account.
  Result<rapidjson::Document> doc = ParseJsonBody(r.body);
  if (!doc.ok()) return StatusResponse(doc.status());
  std::string password = StringField(*doc, "password");
  std::string current = StringField(*doc, "current_password");
  const auto wipe = [&] {
    SecureWipe(password.data(), static_cast<std::uint32_t>(password.size()));
    SecureWipe(current.data(), static_cast<std::uint32_t>(current.size()));
  };
  Result<std::optional<UserRow>> user = std::optional<UserRow>();
  Result<std::optional<std::string>> stored = std::optional<std::string>();
  if (who.admin) {
    stored = store_->GetSetting("admin_password_hash");
  } else {
    user = store_->FindUser(who.name);
    if (user.ok() && !*user) user = Status::NotFound("no user '" + who.name + "'");
    if (user.ok()) stored = std::optional<std::string>((*user)->password_hash);
  }
  if (!user.ok() || !stored.ok()) {
    wipe();
    return StatusResponse(!user.ok() ? user.status() : stored.status());
  }
  if (*stored && !(*stored)->empty()) {
    const std::string account = who.admin ? std::string("admin:") : "user:" + who.name;
    if (account_failures_.Exhausted(account, now)) {
      wipe();
      return ErrorResponse(429, "locked",
                           "this account is locked after 10 failed password checks; wait 15 "
                           "minutes");
    }
    if (current.empty() || !VerifyPassword(*stored, current)) {
      wipe();
      (void)account_failures_.Allow(account, now);
      return ErrorResponse(401, "unauthenticated",
                           current.empty()
                               ? "current_password: give the current password to change it"
                               : "current_password is wrong; the password is unchanged");
    }
  }
  SecureWipe(current.data(), static_cast<std::uint32_t>(current.size()));
  Result<std::string> hash = HashPassword(&password);  // wipes it on every path
  if (!hash.ok()) return StatusResponse(hash.status());
  Status s;
  if (who.admin) {
    s = store_->PutSetting("admin_password_hash", *hash);
    if (s.ok()) s = store_->PutSetting("admin_token_hash", "");  // the initial token stops
    if (s.ok() && options_.on_password_set) options_.on_password_set();
  } else {
    (*user)->password_hash = *hash;
    s = store_->UpdateUser(**user, /*end_sessions=*/false);
  }
  // Whoever else holds a session of this account (a stolen token, another browser) is out.
  if (s.ok()) s = store_->EndSessionsBut(who.admin ? "" : who.name, caller_token);
  if (!s.ok()) return StatusResponse(s);
  return NoContent();
}

}  // namespace canvass::server
