// UserStore (storage/modules.h): user accounts; changing or deleting one can end its sessions.
#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {
namespace {

using A = SqlArg;

Status EndSessions(SqlConn& c, const std::string& user) {
  return c.Exec("DELETE FROM sessions WHERE user_name = ?", {A::Text(user)}, "end sessions")
      .status();
}

}  // namespace

Status UserStore::AddUser(const UserRow& u) {
  const std::string locations = JoinLocations(u.locations);
  Result<std::uint64_t> added =
      db_.Exec(std::string("INSERT INTO users(") + kUserColumns +
                   ") VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
               {A::Text(u.name), A::Text(u.role), A::Text(locations), A::Text(u.password_hash),
                A::Int(u.created_ms)},
               "add user");
  if (!added.ok()) return added.status();
  if (*added == 0) return Status::Conflict("a user named '" + u.name + "' exists");
  return Status::Ok();
}

Status UserStore::UpdateUser(const UserRow& u, bool end_sessions) {
  if (!IsStorableText(u.name)) return Status::NotFound("no user '" + u.name + "'");
  const std::string locations = JoinLocations(u.locations);
  return db_.Transact("update user", [&](SqlConn& c, bool& commit) -> Status {
    Result<std::uint64_t> r =
        c.Exec("UPDATE users SET role = ?, locations = ?, password_hash = ? WHERE name = ?",
               {A::Text(u.role), A::Text(locations), A::Text(u.password_hash), A::Text(u.name)},
               "update user");
    if (!r.ok()) return r.status();
    if (*r == 0) return Status::NotFound("no user '" + u.name + "'");
    if (end_sessions) {
      if (Status s = EndSessions(c, u.name); !s.ok()) return s;
    }
    commit = true;
    return Status::Ok();
  });
}

Status UserStore::DeleteUser(const std::string& name) {
  if (!IsStorableText(name)) return Status::NotFound("no user '" + name + "'");
  return db_.Transact("delete user", [&](SqlConn& c, bool& commit) -> Status {
    Result<std::uint64_t> r =
        c.Exec("DELETE FROM users WHERE name = ?", {A::Text(name)}, "delete user");
    if (!r.ok()) return r.status();
    if (*r == 0) return Status::NotFound("no user '" + name + "'");
    if (Status s = EndSessions(c, name); !s.ok()) return s;
    commit = true;
    return Status::Ok();
  });
}

Result<std::optional<UserRow>> UserStore::FindUser(const std::string& name) {
  if (!IsStorableText(name)) return std::optional<UserRow>();
  return QueryOne(db_, std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?",
                  {A::Text(name)}, "find user", ReadUser);
}

Result<std::vector<UserRow>> UserStore::ListUsers() {
  return QueryAll(db_, std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name", {},
                  "list users", ReadUser);
}

}  // namespace canvass::server
