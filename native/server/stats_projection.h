// The dashboard's statistics, kept as records arrive: a projection (projector.h) that merges each
// stored record into its statistics-cube cell (shared/include/canvass/stats_cube.h), in the
// store's transaction that takes the record off the projection's queue, so every record is
// counted exactly once. The cells live in the projection's key-value state (store.h), one value
// per (survey, definition version, day, location, staff, channel, segment); GET /v1/admin/stats
// reads them instead of every record (stats_endpoint.cpp).
//
// A cell is counted with the survey's latest published definition, which is also what the report
// reads records with. Projections may not call the store, so the definitions come from a
// SurveyDefinitions cache that the server fills at start, on every publish and on every stats
// request. The state remembers which definition versions its cells were counted with; only when
// that is exactly the latest version are the cells the report's figures (after a new version is
// published, the stats endpoint counts from the records again: docs/dashboard.md).
// Thread-safe: SurveyDefinitions is locked; Apply runs on the projector's thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "canvass/stats_cube.h"
#include "projector.h"
#include "store.h"

namespace canvass::server {

// The latest published definition of each survey (the last of ListSurveys, as the report
// takes it), as an empty cube (cheap to copy).
class SurveyDefinitions {
 public:
  // `rows` as ListSurveys gives them (every version, oldest first).
  void Update(const std::vector<SurveyRow>& rows);
  Status Refresh(ServerStore* store);  // ListSurveys, then Update
  struct Latest {
    Hash256 version{};
    std::shared_ptr<const StatsCube> empty;  // a cube of no cells for that definition
  };
  std::optional<Latest> Find(const std::string& survey_id) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Latest> latest_;
};

class StatsProjection : public Projection {
 public:
  static constexpr const char* kName = "stats";
  explicit StatsProjection(SurveyDefinitions* definitions) : definitions_(definitions) {}
  std::string Name() const override { return kName; }
  // Decodes the records and counts them into cells of their surveys' latest definitions.
  Status Digest(const std::vector<StoredRecord>& records) override;
  // Merges what Digest counted into the stored cells.
  Status Apply(const std::vector<StoredRecord>& records, DerivedTxn& txn) override;

 private:
  // What Digest made of one batch, for the Apply of the same records.
  struct Counted {
    std::string survey_id;
    std::optional<SurveyDefinitions::Latest> latest;  // nullopt: the survey is not published
    std::optional<StatsCube> batch;                   // the records' cells
    uint64_t refused = 0;                             // records the definition refused
  };
  SurveyDefinitions* definitions_;
  std::string digested_;  // which batch `counted_` is for (BatchName), "" for none
  std::vector<Counted> counted_;
};

// What the projection holds for `survey_id` under `version`: the cube if its cells are complete
// for that version (every record of the survey was counted with it), nullopt if they are not
// (counted with another version too, or records came before the survey was known).
Result<std::optional<StatsCube>> ProjectedCube(ServerStore* store, const std::string& survey_id,
                                               const Hash256& version, const StatsCube& empty);

// How many records of `survey_id` the definition `version` refused, so that its cells leave them
// out (a report over the records names them in its warnings); nullopt when unknown (cells
// counted by a build that did not keep the count).
Result<std::optional<uint64_t>> ProjectedRefusals(ServerStore* store, const std::string& survey_id,
                                                  const Hash256& version);

}  // namespace canvass::server
