#include "storage/readers.h"

namespace canvass::server {

DeviceRow ReadDevice(const SqlRow& row) {
  DeviceRow d;
  d.device_id = row.Text(0);
  d.location = row.Text(1);
  d.channel = row.Text(2);
  d.public_key = row.Fixed<32>(3);
  d.web = row.Int(4) != 0;
  d.certificate = row.Text(5);
  d.enrolled_ms = row.Int(6);
  d.revoked_ms = row.OptInt(7);
  d.head.seq = row.Uint(8);
  d.head.hash = row.Fixed<32>(9);
  return d;
}

CaseRow ReadCase(const SqlRow& row) {
  CaseRow c;
  c.case_id = row.Text(0);
  c.device_id = row.Text(1);
  c.seq = row.Uint(2);
  c.survey_id = row.Text(3);
  c.location = row.Text(4);
  c.question = row.Text(5);
  c.metric = row.Text(6);
  c.score = static_cast<std::int32_t>(row.Int(7));
  c.scale_min = static_cast<std::int32_t>(row.Int(8));
  c.scale_max = static_cast<std::int32_t>(row.Int(9));
  c.state = row.Text(10);
  c.category = row.Text(11);
  c.assignee = row.Text(12);
  c.sealed_contact = row.Text(13);
  c.responded_ms = row.Int(14);
  c.opened_ms = row.Int(15);
  c.due_ms = row.Int(16);
  c.updated_ms = row.Int(17);
  c.escalated_ms = row.OptInt(18);
  c.resolved_ms = row.OptInt(19);
  c.revision = static_cast<std::uint32_t>(row.Int(20));
  return c;
}

UserRow ReadUser(const SqlRow& row) {
  return UserRow{row.Text(0), row.Text(1), SplitLocations(row.Text(2)), row.Text(3), row.Int(4)};
}

SurveyRow ReadSurvey(const SqlRow& row) {
  SurveyRow s;
  s.survey_id = row.Text(0);
  s.version = row.Fixed<32>(1);
  s.revision = static_cast<std::uint32_t>(row.Int(2));
  s.definition = row.Text(3);
  s.bundle = row.Text(4);
  s.locations = SplitLocations(row.Text(5));
  s.published_ms = row.Int(6);
  return s;
}

QuarantineRow ReadQuarantine(const SqlRow& row) {
  return QuarantineRow{row.Text(0), row.Uint(1), row.Text(2), row.Text(3), row.Int(4)};
}

DeliveryRow ReadDelivery(const SqlRow& row) {
  DeliveryRow d;
  d.event_id = row.Text(0);
  d.webhook_id = row.Text(1);
  d.url = row.Text(2);
  d.type = row.Text(3);
  d.body = row.Text(4);
  d.state = row.Text(5);
  d.attempts = static_cast<std::uint32_t>(row.Int(6));
  d.next_ms = row.Int(7);
  d.last_status = static_cast<std::int32_t>(row.Int(8));
  d.last_error = row.Text(9);
  d.delivered_ms = row.OptInt(10);
  d.created_ms = row.Int(11);
  return d;
}

StoredRecord ReadStoredRecord(const SqlRow& row) {
  return StoredRecord{row.Text(0), row.Uint(1), row.Text(2), row.Int(3), row.Text(4), row.Text(5)};
}

std::string JoinLocations(const std::vector<std::string>& locations) {
  std::string out;
  for (const auto& s : locations) out += (out.empty() ? "" : "\n") + s;
  return out;
}

std::vector<std::string> SplitLocations(const std::string& joined) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (!joined.empty() && start <= joined.size()) {
    std::size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace canvass::server
