// Surveys and their records in the admin API (docs/protocol.md): publishing a definition (also
// from --publish), the list of published surveys a caller may see, and the export of the stored
// records, streamed a record at a time as JSON lines or CSV.
#include <memory>
#include <set>
#include <sstream>

#include "api.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "canvass/survey.h"
#include "canvass/surveyjs.h"
#include "published.h"
#include "stats_projection.h"

namespace canvass::server {
namespace {

using Json = JsonWriter;

// One export row: the fixed columns, then `tag_keys` and `columns` in order (empty where the
// record has none).
std::string CsvRow(const ResponseRecord& rec, const std::set<std::string>& tag_keys,
                   const std::set<std::string>& columns) {
  std::map<std::string, std::string> cells;
  for (const auto& [id, value] : rec.answers) {
    std::visit(
        [&, &id = id](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ScaleAnswer>) {
            cells[id] = std::to_string(a.value);
          } else if constexpr (std::is_same_v<T, TextAnswer>) {
            cells[id] = a.text;
          } else if constexpr (std::is_same_v<T, ChoiceAnswer>) {
            std::string joined;
            for (const auto& c : a.ids) joined += (joined.empty() ? "" : ";") + c;
            if (!a.other.empty()) joined += (joined.empty() ? "" : ";") + ("other: " + a.other);
            cells[id] = joined;
          } else if constexpr (std::is_same_v<T, CsiAnswer>) {
            cells[id + ".importance"] = std::to_string(a.importance);
            cells[id + ".satisfaction"] = std::to_string(a.satisfaction);
          } else {
            cells[id] = a.consent ? "consent" : "no consent";
          }
        },
        value);
  }
  std::string csv = CsvCell(rec.survey_id) + "," + ToHex(rec.survey_version) + "," +
                    CsvCell(rec.device_id) + "," + std::to_string(rec.seq) + "," +
                    FormatIsoTime(rec.device_time_ms) + "," + OutcomeName(rec.outcome) + "," +
                    CsvCell(rec.customer_key);
  for (const auto& k : tag_keys) {
    auto it = rec.tags.find(k);
    csv += "," + (it == rec.tags.end() ? std::string() : CsvCell(it->second));
  }
  for (const auto& c : columns) {
    auto it = cells.find(c);
    csv += "," + (it == cells.end() ? std::string() : CsvCell(it->second));
  }
  csv += "\r\n";
  return csv;
}

}  // namespace

Result<SurveyRow> Api::Publish(const std::string& definition,
                               const std::vector<std::string>& locations) {
  Result<Survey> survey = ParseSurvey(definition);
  if (!survey.ok()) return survey.status();
  SurveyRow row;
  row.survey_id = survey->id;
  row.version = SurveyVersion(definition);
  row.revision = survey->revision;
  row.definition = definition;
  row.locations = locations;
  row.published_ms = now_ms_();
  SurveyBundle bundle{row.survey_id, definition, row.published_ms, locations};
  row.bundle = EncodeSignedMessage(SignMessage(kSurveyDomain, EncodeBundle(bundle), keys_.sign));
  Status s = store_->PublishSurvey(row);
  if (!s.ok()) return s;
  // The statistics projection counts new records with the latest definition from now on. (If
  // the store cannot say it now, GET /v1/admin/stats tells it before it reads the cells.)
  if (options_.definitions) (void)options_.definitions->Refresh(store_);
  return row;
}

HttpResponse Api::ListSurveys(const AdminCall& call) {
  // Every role: managers and staff see the surveys published for one of their locations (or
  // for every location), which is what their dashboard can show.
  Result<std::vector<SurveyRow>> all = store_->ListSurveys();
  if (!all.ok()) return StatusResponse(all.status());
  return JsonResponse(200, [&](Json& w) {
    w.StartObject();
    w.Key("surveys");
    w.StartArray();
    for (const SurveyRow& s : *all) {
      if (!CanAccessAny(call.who, s.locations)) continue;
      w.StartObject();
      w.Key("survey_id");
      WriteString(w, s.survey_id);
      w.Key("version");
      WriteString(w, ToHex(s.version));
      w.Key("revision");
      w.Uint(s.revision);
      w.Key("published_ms");
      w.Int64(s.published_ms);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse Api::PublishSurvey(const AdminCall& call) {
  const HttpRequest& r = call.request;
  std::vector<std::string> locations;
  if (auto it = r.query.find("locations"); it != r.query.end() && !it->second.empty()) {
    std::stringstream ss(it->second);
    std::string l;
    while (std::getline(ss, l, ',')) {
      if (!l.empty()) locations.push_back(l);
    }
  }
  std::string definition = r.body;
  std::vector<SurveyJsIssue> unmapped;
  if (auto f = r.query.find("format"); f != r.query.end() && f->second == "surveyjs") {
    auto id = r.query.find("id");
    Result<SurveyJsImport> imported =
        ImportSurveyJs(r.body, id == r.query.end() ? std::string() : id->second);
    if (!imported.ok()) return StatusResponse(imported.status());
    definition = imported->definition;
    unmapped = imported->unmapped;
  }
  Result<SurveyRow> row = Publish(definition, locations);
  if (!row.ok()) return StatusResponse(row.status());
  return JsonResponse(201, [&](Json& w) {
    w.StartObject();
    w.Key("survey_id");
    WriteString(w, row->survey_id);
    w.Key("version");
    WriteString(w, ToHex(row->version));
    w.Key("revision");
    w.Uint(row->revision);
    w.Key("unmapped");  // SurveyJS elements left out, by name, with the reason
    w.StartArray();
    for (const SurveyJsIssue& issue : unmapped) {
      w.StartObject();
      w.Key("element");
      WriteString(w, issue.element);
      w.Key("reason");
      WriteString(w, issue.reason);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::optional<HttpResponse> Api::ForeignLocation(const HttpRequest& r, const Principal& who) {
  std::vector<std::string> named;
  if (auto it = r.query.find("location"); it != r.query.end()) named.push_back(it->second);
  auto [begin, end] = r.query.equal_range("where");
  for (auto it = begin; it != end; ++it) {
    if (it->second.rfind("location=", 0) == 0) named.push_back(it->second.substr(9));
  }
  for (const std::string& l : named) {
    if (!CanAccess(who, l)) {
      return ErrorResponse(403, "forbidden",
                           who.name + " does not work at location '" + l +
                               "'; a manager's reports and exports hold their locations only");
    }
  }
  return std::nullopt;
}

HttpResponse Api::Export(const HttpRequest& r, const Principal* who) {
  std::string format = "jsonl";
  if (auto it = r.query.find("format"); it != r.query.end()) format = it->second;
  if (format != "jsonl" && format != "csv") {
    return ErrorResponse(400, "invalid_argument", "format: use jsonl or csv");
  }
  // `location=`: one location's records (a manager's own; the owner's any).
  std::string only;
  if (auto it = r.query.find("location"); it != r.query.end()) only = it->second;
  // A manager's export: their locations only (the location is the device's, DecodeStoredRecord).
  const std::optional<Principal> scope = who ? std::optional<Principal>(*who) : std::nullopt;
  // Streamed a record at a time (the store pages through the records), so that exporting a
  // million responses needs no more memory than one. A failure half-way ends the stream without
  // its last chunk: clients see a truncated answer, never a short file that looks complete.
  const auto each = [this, scope, only](const std::function<bool(const ResponseRecord&)>& visit) {
    return store_->ForEachRecord([&](const StoredRecord& stored) -> Status {
      Result<ResponseRecord> record = DecodeStoredRecord(stored);
      if (!record.ok()) return record.status();
      const std::string here = LocationOf(*record);
      if (!only.empty() && here != only) return Status::Ok();
      if (scope && !CanAccess(*scope, here)) return Status::Ok();
      return visit(*record) ? Status::Ok() : Status::Unavailable("the client went away");
    });
  };
  HttpResponse out;
  if (format == "jsonl") {
    out.content_type = "application/x-ndjson; charset=utf-8";
    out.stream = [each](const HttpResponse::Sink& write) {
      return each([&](const ResponseRecord& rec) { return write(ToJsonLine(rec) + "\n"); }).ok();
    };
    return out;
  }
  // CSV: fixed columns, then one per tag key and per question (CSI pairs as two columns), found
  // in a first pass.
  auto tag_keys = std::make_shared<std::set<std::string>>();
  auto columns = std::make_shared<std::set<std::string>>();
  Status s = each([&](const ResponseRecord& rec) {
    for (const auto& [k, v] : rec.tags) tag_keys->insert(k);
    for (const auto& [id, value] : rec.answers) {
      if (std::holds_alternative<CsiAnswer>(value)) {
        columns->insert(id + ".importance");
        columns->insert(id + ".satisfaction");
      } else {
        columns->insert(id);
      }
    }
    return true;
  });
  if (!s.ok()) return StatusResponse(s.WithContext("export"));
  out.content_type = "text/csv; charset=utf-8";
  out.headers = {{"Content-Disposition", "attachment; filename=\"canvass-export.csv\""}};
  out.stream = [each, tag_keys, columns](const HttpResponse::Sink& write) {
    std::string head = "\xEF\xBB\xBF";  // UTF-8 BOM: spreadsheets then show Cyrillic correctly
    head += "survey,survey_version,device,seq,time,outcome,customer";
    for (const auto& k : *tag_keys) head += "," + CsvCell("tag." + k);
    for (const auto& c : *columns) head += "," + CsvCell(c);
    head += "\r\n";
    if (!write(head)) return false;
    return each([&](const ResponseRecord& rec) { return write(CsvRow(rec, *tag_keys, *columns)); })
        .ok();
  };
  return out;
}

}  // namespace canvass::server
