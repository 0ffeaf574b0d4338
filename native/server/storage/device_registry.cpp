// DeviceRegistry (storage/modules.h): enrollment codes and devices.
#include "storage/modules.h"
#include "storage/readers.h"

namespace canvass::server {
namespace {

using A = SqlArg;

// On a SqlDb or inside a transaction (SqlConn).
template <typename On>
Status InsertDevice(On& c, const DeviceRow& d) {
  return c
      .Exec(
          "INSERT INTO devices(device_id, location, channel, public_key, web, certificate, "
          "enrolled_ms, head_seq, head_hash) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
          {A::Text(d.device_id), A::Text(d.location), A::Text(d.channel), A::Blob(d.public_key),
           A::Bool(d.web), A::Blob(d.certificate), A::Int(d.enrolled_ms), A::Blob(Hash256{})},
          "add device")
      .status();
}

}  // namespace

Status DeviceRegistry::AddEnrollCode(const EnrollCodeRow& c) {
  return db_
      .Exec(
          "INSERT INTO enroll_codes(code_hash, location, channel, expires_ms) "
          "VALUES (?, ?, ?, ?)",
          {A::Blob(c.code_hash), A::Text(c.location), A::Text(c.channel), A::Int(c.expires_ms)},
          "add enrollment code")
      .status();
}

Result<DeviceRow> DeviceRegistry::Enroll(
    const Hash256& code_hash, std::int64_t now_ms,
    const std::function<DeviceRow(const EnrollCodeRow&)>& make_device) {
  DeviceRow device;
  Status s = db_.Transact("enroll", [&](SqlConn& c, bool& commit) -> Status {
    struct Code {
      EnrollCodeRow row;
      bool used = false;
    };
    std::optional<Code> code;
    Status q =
        c.Query(std::string("SELECT location, channel, expires_ms, used_ms FROM enroll_codes "
                            "WHERE code_hash = ?") +
                    db_.dialect().for_update,
                {A::Blob(code_hash)}, "enroll", [&](const SqlRow& row) {
                  code = Code{{code_hash, row.Text(0), row.Text(1), row.Int(2)}, !row.IsNull(3)};
                });
    if (!q.ok()) return q;
    if (!code) {
      return Status::Unauthenticated(
          "enrollment code is unknown: check it, or ask an admin for a new one");
    }
    if (code->used) {
      return Status::Unauthenticated(
          "enrollment code was already used: ask an admin for a new one");
    }
    if (code->row.expires_ms <= now_ms) {
      return Status::Unauthenticated("enrollment code has expired: ask an admin for a new one");
    }
    Result<std::uint64_t> used = c.Exec("UPDATE enroll_codes SET used_ms = ? WHERE code_hash = ?",
                                        {A::Int(now_ms), A::Blob(code_hash)}, "enroll");
    if (!used.ok()) return used.status();
    device = make_device(code->row);
    if (Status added = InsertDevice(c, device); !added.ok()) return added;
    commit = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return device;
}

Status DeviceRegistry::AddDevice(const DeviceRow& d) { return InsertDevice(db_, d); }

Result<std::optional<DeviceRow>> DeviceRegistry::FindDevice(const std::string& device_id) {
  if (!IsStorableText(device_id)) return std::optional<DeviceRow>();
  return QueryOne(db_,
                  std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE device_id = ?",
                  {A::Text(device_id)}, "find device", ReadDevice);
}

Result<std::vector<DeviceRow>> DeviceRegistry::ListDevices(const std::string& after,
                                                           std::uint32_t limit, bool revoked_only) {
  if (!IsStorableText(after)) return std::vector<DeviceRow>();
  return QueryAll(db_,
                  std::string("SELECT ") + kDeviceColumns +
                      " FROM devices WHERE device_id > ? AND (? = 0 OR revoked_ms IS NOT NULL) "
                      "ORDER BY device_id LIMIT ?",
                  {A::Text(after), A::Int(revoked_only ? 1 : 0), A::Int(limit)}, "list devices",
                  ReadDevice);
}

Status DeviceRegistry::RevokeDevice(const std::string& device_id, std::int64_t now_ms) {
  if (!IsStorableText(device_id)) return Status::NotFound("no device '" + device_id + "'");
  Result<std::uint64_t> changed =
      db_.Exec("UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?) WHERE device_id = ?",
               {A::Int(now_ms), A::Text(device_id)}, "revoke device");
  if (!changed.ok()) return changed.status();
  if (*changed == 0) return Status::NotFound("no device '" + device_id + "'");
  return Status::Ok();
}

Result<std::string> DeviceRegistry::Location(SqlConn& txn, const std::string& device_id) {
  if (!IsStorableText(device_id)) return std::string();
  Result<std::optional<std::string>> found =
      QueryOne(txn, "SELECT location FROM devices WHERE device_id = ?", {A::Text(device_id)},
               "read device location", ReadText0);
  if (!found.ok()) return found.status();
  return found->value_or(std::string());
}

}  // namespace canvass::server
