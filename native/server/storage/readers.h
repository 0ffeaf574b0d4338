// The storage modules' shared column lists and row readers: one reader per row type, for every
// backend (SqlRow hides how each returns its values). Internal to storage/.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "storage/rows.h"
#include "storage/sql.h"

namespace canvass::server {

inline constexpr char kDeviceColumns[] =
    "device_id, location, channel, public_key, web, certificate, enrolled_ms, revoked_ms, "
    "head_seq, head_hash";
inline constexpr char kCaseColumns[] =
    "case_id, device_id, seq, survey_id, location, question, metric, score, scale_min, "
    "scale_max, state, category, assignee, sealed_contact, responded_ms, opened_ms, due_ms, "
    "updated_ms, escalated_ms, resolved_ms, revision";
inline constexpr char kUserColumns[] = "name, role, locations, password_hash, created_ms";
inline constexpr char kSurveyColumns[] =
    "survey_id, version, revision, definition, bundle, locations, published_ms";
inline constexpr char kQuarantineColumns[] = "device_id, seq, reason, envelope, received_ms";
inline constexpr char kDeliverySelect[] =
    "SELECT d.event_id, d.webhook_id, w.url, e.type, e.body, d.state, d.attempts, d.next_ms, "
    "d.last_status, d.last_error, d.delivered_ms, e.created_ms FROM webhook_deliveries d "
    "JOIN webhooks w ON w.webhook_id = d.webhook_id "
    "JOIN webhook_events e ON e.event_id = d.event_id ";
// A stored record with its device's location and channel: `r` the records, `d` the devices
// (LEFT JOIN).
inline constexpr char kStoredRecordColumns[] =
    "r.device_id, r.seq, r.envelope, r.stored_ms, COALESCE(d.location, ''), "
    "COALESCE(d.channel, '')";

DeviceRow ReadDevice(const SqlRow& row);
CaseRow ReadCase(const SqlRow& row);
UserRow ReadUser(const SqlRow& row);
SurveyRow ReadSurvey(const SqlRow& row);
QuarantineRow ReadQuarantine(const SqlRow& row);
DeliveryRow ReadDelivery(const SqlRow& row);
StoredRecord ReadStoredRecord(const SqlRow& row);

// Every row of a query, read by `read`; `on` is a SqlDb or a SqlConn.
template <typename On, typename T>
Result<std::vector<T>> QueryAll(On& on, std::string_view sql, const SqlArgs& args,
                                std::string_view what, T (*read)(const SqlRow&)) {
  std::vector<T> out;
  Status s = on.Query(sql, args, what, [&](const SqlRow& row) { out.push_back(read(row)); });
  if (!s.ok()) return s;
  return out;
}

// The first row of a query, if any.
template <typename On, typename T>
Result<std::optional<T>> QueryOne(On& on, std::string_view sql, const SqlArgs& args,
                                  std::string_view what, T (*read)(const SqlRow&)) {
  std::optional<T> out;
  Status s = on.Query(sql, args, what, [&](const SqlRow& row) {
    if (!out) out = read(row);
  });
  if (!s.ok()) return s;
  return out;
}

inline std::string ReadText0(const SqlRow& row) { return row.Text(0); }
inline std::int64_t ReadInt0(const SqlRow& row) { return row.Int(0); }

}  // namespace canvass::server
