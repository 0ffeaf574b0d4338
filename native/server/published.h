// Published surveys: the rules every endpoint reads ListSurveys() with (store.h), written once.
//
// - A survey's latest version is the last row of its id (ListSurveys is oldest first); it reads
//   the records of every earlier version (report, statistics, SMS).
// - A version is published for a location when its list names the location, or is empty (every
//   location).
// - A record was made at its "location" tag, which the server sets from the device's certificate.
// Plain functions over values the caller owns: thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "canvass/record.h"
#include "store.h"

namespace canvass::server {

// The latest version of `survey_id` among `rows` (in ListSurveys order), or null if it has none.
// Points into `rows`.
const SurveyRow* LatestVersion(const std::vector<SurveyRow>& rows, const std::string& survey_id);

// The latest version of every survey among the rows `keep` accepts (all when it is empty), by
// survey id. Points into `rows`.
std::map<std::string, const SurveyRow*> LatestVersions(
    const std::vector<SurveyRow>& rows, const std::function<bool(const SurveyRow&)>& keep = {});

// Whether `row` is published for `location` (an empty list: every location).
bool PublishedFor(const SurveyRow& row, const std::string& location);

// Where `record` was made: its "location" tag, "" if it has none.
std::string LocationOf(const ResponseRecord& record);

}  // namespace canvass::server
