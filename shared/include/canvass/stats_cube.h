// The statistics cube: one survey's mergeable statistics (stats.h's GroupStats) per cell of
// (UTC day, location, staff, channel, segment), so that a dashboard downloads statistics rather
// than records and still filters and groups instantly (DESIGN.md §7). docs/dashboard.md explains
// its use; the byte layout is in docs/encoding.md.
//
// A cube is built from records with the report's own reader (ResponseTable::Add decides what an
// answer means and what is refused) and its own counting (CollectStats), so a cell holds exactly
// what the report would count for those offers. CollectFromCube() then filters and groups cells
// the way CollectStats() filters and groups rows: for a time range on whole days and tag filters
// and group-bys over the cube's four tags, ReportFromStats(survey, CollectFromCube(...), options)
// is the same Report as BuildReport over the records (the unit tests check it byte for byte).
//
// The cube carries the survey definition (JSON, as published) its statistics are shaped by;
// cubes merge only when their definitions are identical. Thread-safety: a plain value.
//
// [SECTION] Cells
// [SECTION] The cube
// [SECTION] Encoding
// [SECTION] Reports from a cube
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canvass/record.h"
#include "canvass/stats.h"
#include "canvass/status.h"
#include "canvass/survey.h"

namespace canvass {

//-----------------------------------------------------------------------------
// [SECTION] Cells
//-----------------------------------------------------------------------------

// The tags a cube keeps, in key order. Reports from a cube may filter and group by these only.
inline constexpr std::array<const char*, 4> kCubeTags = {"location", "staff", "channel", "segment"};

// Days since 1970-01-01 a cube can place a record on: years 0000 to 9999 (a device clock outside
// them is refused, not guessed at).
inline constexpr int64_t kMinCubeDay = -719528;  // 0000-01-01
inline constexpr int64_t kMaxCubeDay = 2932896;  // 9999-12-31

struct CubeCellKey {
  int64_t day = 0;                  // days since 1970-01-01 of the device time, UTC
  std::array<std::string, 4> tags;  // values of kCubeTags; "" = the record has no such tag
  bool operator==(const CubeCellKey&) const = default;
  bool operator<(const CubeCellKey& other) const;
};

// The UTC day of a device time in ms (floor division).
int64_t CubeDayOf(int64_t time_ms);

//-----------------------------------------------------------------------------
// [SECTION] The cube
//-----------------------------------------------------------------------------

class StatsCube {
 public:
  // An empty cube for a survey definition (the JSON bytes as published). InvalidArgument if the
  // definition does not parse.
  static Result<StatsCube> ForDefinition(std::string definition_json);

  const Survey& survey() const { return *survey_; }
  const std::string& definition() const { return *definition_; }
  const std::map<CubeCellKey, GroupStats>& cells() const { return cells_; }
  uint64_t offers() const { return offers_; }  // offers in every cell

  // Adds one record as ResponseTable::Add would take it into a report: a record of another survey
  // is NotFound, an unknown question or invalid answer InvalidArgument with the reader's message,
  // and so is a device time outside kMinCubeDay..kMaxCubeDay. The cube is unchanged unless OK.
  Status Add(const ResponseRecord& record);
  // Adds many records in one pass (one table, one count: what a server does over its store).
  // Records that Add would refuse are skipped and counted in `issues` (if given) like a
  // ResponseTable counts them, with their index + 1 as the line number.
  Status AddRecords(const std::vector<ResponseRecord>& records, InputIssues* issues = nullptr);
  // Adds the statistics of one cell (decoding, or a store that keeps cells). InvalidArgument if
  // they are not shaped for this survey or hold no offer.
  Status AddCell(const CubeCellKey& key, const GroupStats& stats);
  // Adds every cell of `other`. InvalidArgument unless both have the same definition.
  Status Merge(const StatsCube& other);

  bool operator==(const StatsCube& other) const;

 private:
  StatsCube() = default;

  // Shared, immutable: copies of a cube (and of the dashboard's filtered views) stay cheap.
  std::shared_ptr<const std::string> definition_;
  std::shared_ptr<const Survey> survey_;
  std::map<CubeCellKey, GroupStats> cells_;
  uint64_t offers_ = 0;
};

//-----------------------------------------------------------------------------
// [SECTION] Encoding
//-----------------------------------------------------------------------------

inline constexpr uint8_t kStatsCubeVersion = 1;
// The most cells a cube's bytes may announce (a year of 4,000 tag combinations a day is 1.5 M).
inline constexpr uint32_t kMaxCubeCells = 1u << 24;
// The most offers a cube holds (so also the largest count of a cell). With every scale point
// within +-1000, every sum of paired scores over all cells still fits in 64 bits (2^40 x 10^6).
inline constexpr uint64_t kMaxCubeOffers = uint64_t{1} << 40;

// Canonical bytes (docs/encoding.md, "Statistics cube"): the definition, sorted dictionaries of
// tag values and customer keys, then the cells in key order with variable-length counts.
std::string EncodeStatsCube(const StatsCube& cube);
// Corruption (with the reason) unless `bytes` are canonical cube bytes whose statistics are
// possible (counts add up, sums fit their scales). Never throws.
Result<StatsCube> DecodeStatsCube(std::string_view bytes);

// One cell alone, for a store that keeps a cube's cells as rows (canvass-server's statistics
// projection): its key, then its statistics, customer keys written out (docs/encoding.md).
// Decoding checks what DecodeStatsCube checks for a cell, against `survey`.
inline constexpr uint8_t kCubeCellVersion = 1;
std::string EncodeCubeCell(const Survey& survey, const CubeCellKey& key, const GroupStats& stats);
Result<std::pair<CubeCellKey, GroupStats>> DecodeCubeCell(const Survey& survey,
                                                          std::string_view bytes);

//-----------------------------------------------------------------------------
// [SECTION] Reports from a cube
//-----------------------------------------------------------------------------

// What CollectStats() gives over the cube's records, for options whose time range is on whole
// days (from_ms, to_ms multiples of 86,400,000 ms) and whose `where` and `by` name only
// kCubeTags or periods. Anything else is InvalidArgument saying what the cube cannot answer.
Result<CollectedStats> CollectFromCube(const StatsCube& cube, const Selection& selection);

}  // namespace canvass
