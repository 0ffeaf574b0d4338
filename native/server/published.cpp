#include "published.h"

#include <algorithm>

namespace canvass::server {

const SurveyRow* LatestVersion(const std::vector<SurveyRow>& rows, const std::string& survey_id) {
  auto it = std::find_if(rows.rbegin(), rows.rend(),
                         [&](const SurveyRow& row) { return row.survey_id == survey_id; });
  return it == rows.rend() ? nullptr : &*it;
}

std::map<std::string, const SurveyRow*> LatestVersions(
    const std::vector<SurveyRow>& rows, const std::function<bool(const SurveyRow&)>& keep) {
  std::map<std::string, const SurveyRow*> latest;
  for (const SurveyRow& row : rows) {
    if (!keep || keep(row)) latest[row.survey_id] = &row;
  }
  return latest;
}

bool PublishedFor(const SurveyRow& row, const std::string& location) {
  return row.locations.empty() ||
         std::find(row.locations.begin(), row.locations.end(), location) != row.locations.end();
}

std::string LocationOf(const ResponseRecord& record) {
  auto it = record.tags.find("location");
  return it == record.tags.end() ? std::string() : it->second;
}

}  // namespace canvass::server
