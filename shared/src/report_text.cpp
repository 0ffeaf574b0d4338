// ReportToTable and ReportToCsv (report_format.h): the report for people and for spreadsheets.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "canvass/interchange.h"  // CsvCell, FormatIsoTime
#include "canvass/report_format.h"

namespace canvass {

using metrics::Estimate;

namespace {

// Code points, which is what a terminal shows for the Latin and Cyrillic text of our surveys.
std::size_t Width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Columns padded to their widest cell; the first `left` columns left-aligned, the rest right
// but for a last column of notes (left-aligned too when `notes`).
std::string Columns(const std::vector<std::vector<std::string>>& rows, std::size_t left,
                    bool notes = false) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], Width(row[c]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - Width(row[c]), ' ');
      if (c) line += "  ";
      line += c < left || (notes && c + 1 == width.size()) ? row[c] + pad : pad + row[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// Tables keep trailing zeros so that columns of numbers line up: 79.0, not 79.
std::string Fixed(double v, int decimals) {
  std::string s = FormatNumber(v, decimals);
  if (decimals == 0 || s == "null") return s;
  std::size_t dot = s.find('.');
  if (dot == std::string::npos) {
    s += ".";
    dot = s.size() - 1;
  }
  s.append(static_cast<std::size_t>(decimals) - (s.size() - dot - 1), '0');
  return s;
}
std::string Signed(double v, int decimals = 1) {
  std::string s = Fixed(v, decimals);
  return v > 0 && FormatNumber(v, decimals) != "0" ? "+" + s : s;
}
std::string Pct(double v) { return Fixed(v, 1) + "%"; }
std::string Interval(const Estimate& e, int decimals = 1) {
  return "[" + Fixed(e.lo, decimals) + ", " + Fixed(e.hi, decimals) + "]";
}
std::string Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : Pct(100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// One line per headline index: name, value, interval, n, details.
std::vector<std::vector<std::string>> IndexRows(const Indices& x) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"index", "value", "95% interval", "n", ""});
  const metrics::ResponseRateResult& rr = x.response_rate;
  rows.push_back({"Response rate", Pct(rr.rate.value), Interval(rr.rate), std::to_string(rr.rate.n),
                  std::to_string(rr.completed) + " completed of " + std::to_string(rr.offered) +
                      " offered" + (rr.unrepresentative ? " (low)" : "")});
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    const uint64_t total = n.promoters + n.passives + n.detractors;
    rows.push_back({"NPS (" + x.nps->question + ")", Signed(n.nps.value), Interval(n.nps),
                    std::to_string(n.nps.n),
                    "promoters " + Share(n.promoters, total) + ", passives " +
                        Share(n.passives, total) + ", detractors " + Share(n.detractors, total)});
    rows.push_back({"  silent customers", "", "", std::to_string(n.non_responders),
                    std::string("counted as: ") + metrics::TreatmentName(n.treatment) +
                        "; classic " + Signed(n.classic.value) + ", bounds " + Signed(n.bound_lo) +
                        " .. " + Signed(n.bound_hi)});
  }
  if (x.csat) {
    const metrics::CsatResult& c = x.csat->result;
    rows.push_back({"CSAT (" + x.csat->question + ")", Pct(c.top2.value), Interval(c.top2),
                    std::to_string(c.top2.n),
                    "top-2 boxes; mean " + Fixed(c.mean.value, 2) + " " + Interval(c.mean, 2)});
  }
  if (x.ces) {
    if (x.ces->agreement) {
      const metrics::CesResult& c = *x.ces->agreement;
      rows.push_back({"CES (" + x.ces->question + ")", Fixed(c.mean.value, 2), Interval(c.mean, 2),
                      std::to_string(c.mean.n),
                      "mean; agree (" + std::to_string(c.agree_from) + "+) " + Pct(c.agree.value) +
                          " " + Interval(c.agree)});
    } else {
      const metrics::NpsResult& c = *x.ces->net;
      rows.push_back({"CES (" + x.ces->question + ")", Signed(c.classic.value), Interval(c.classic),
                      std::to_string(c.classic.n), "net score, 0..10"});
    }
  }
  if (x.csi) {
    const metrics::CsiResult& c = x.csi->result;
    rows.push_back({"CSI index", Signed(c.index.value), Interval(c.index),
                    std::to_string(c.index.n), "importance-weighted attribute indices"});
    rows.push_back({"CSI 0-100", Fixed(c.score.value, 1), Interval(c.score),
                    std::to_string(c.score.n), "importance x satisfaction"});
  }
  if (x.cli) {
    const metrics::CliResult& c = x.cli->result;
    rows.push_back({"CLI", Fixed(c.index.value, 2), Interval(c.index, 2), std::to_string(c.index.n),
                    "mean of the item means, 0..10"});
  }
  const metrics::LoyaltyResult& l = x.loyalty;
  rows.push_back({"Loyalty rate", Pct(l.loyalty_rate.value), Interval(l.loyalty_rate),
                  std::to_string(l.customers),
                  std::to_string(l.returning_customers) + " of " + std::to_string(l.customers) +
                      " identified customers came back"});
  return rows;
}

}  // namespace

std::string ReportToTable(const Report& r) {
  std::string out = "Survey " + r.survey + ": " + std::to_string(r.selected) + " offers selected";
  if (r.selected != r.rows) out += " of " + std::to_string(r.rows);
  std::string filters;
  if (r.options.from_ms) filters += "from " + FormatIsoTime(*r.options.from_ms);
  if (r.options.to_ms)
    filters += (filters.empty() ? "" : ", ") + ("to " + FormatIsoTime(*r.options.to_ms));
  for (const auto& [key, value] : r.options.where) {
    filters += (filters.empty() ? "" : ", ") + key + "=" + value;
  }
  if (!filters.empty()) out += " (" + filters + ")";
  const metrics::OutcomeCounts& o = r.all.outcomes;
  out += "\nOutcomes: " + std::to_string(o.completed) + " completed, " + std::to_string(o.partial) +
         " partial, " + std::to_string(o.declined) + " declined, " + std::to_string(o.ignored) +
         " ignored\n\n";
  out += Columns(IndexRows(r.all), 1, /*notes=*/true);

  if (r.all.csi) {
    const CsiSummary& c = *r.all.csi;
    out += "\nCSI attributes" +
           (c.drivers_vs.empty() ? std::string()
                                 : " (drivers: correlation with " + c.drivers_vs + ")") +
           "\n";
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"attribute", "importance", "promoters", "neutrals", "critics", "index",
                    "95% interval", "n", "mean", "correlation", "quadrant"});
    for (const CsiAttributeSummary& a : c.attributes) {
      const metrics::CsiAttributeResult& x = a.result;
      const uint64_t n = x.promoters + x.neutrals + x.critics;
      rows.push_back({x.attribute, Pct(x.importance.value), Share(x.promoters, n),
                      Share(x.neutrals, n), Share(x.critics, n), Signed(x.index.value),
                      Interval(x.index), std::to_string(x.index.n), Fixed(a.mean.value, 2),
                      a.driver ? Fixed(a.driver->correlation.value, 2) : "-",
                      a.driver ? metrics::QuadrantName(a.driver->quadrant) : "-"});
    }
    out += Columns(rows, 1, /*notes=*/true);
  }

  if (!r.groups.empty()) {
    std::string by;
    for (const GroupBy& g : r.by) by += (by.empty() ? "" : " x ") + g.Name();
    out += "\nGroups by " + by;
    if (!r.ranked_by.empty()) {
      out += ", ranked by " + r.ranked_by + " (groups under " + std::to_string(r.options.min_n) +
             " answers are not ranked)";
    }
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head;
    for (const GroupBy& g : r.by) head.push_back(g.Name());
    const std::string index = r.ranked_by.empty() ? "nps" : r.ranked_by;
    for (const char* h : {"offered", "response", "index", "95% interval", "n", "rank", "change"}) {
      head.push_back(h);
    }
    head[r.by.size() + 2] = index;
    rows.push_back(head);
    for (const GroupEntry& e : r.groups) {
      std::vector<std::string> row;
      for (const std::string& k : e.key) row.push_back(k.empty() ? "(none)" : k);
      row.push_back(std::to_string(e.indices.outcomes.Offered()));
      row.push_back(Pct(e.indices.response_rate.rate.value));
      std::optional<Estimate> est = IndexEstimate(e.indices, index);
      const bool percent = index == "csat" || index == "response_rate";
      const bool mean =
          index == "cli" || (index == "ces" && e.indices.ces && e.indices.ces->agreement);
      if (est) {
        row.push_back(percent ? Pct(est->value) : mean ? Fixed(est->value, 2) : Signed(est->value));
        row.push_back(Interval(*est, mean ? 2 : 1));
        row.push_back(std::to_string(est->n));
      } else {
        row.insert(row.end(), {"-", "", "0"});
      }
      if (!e.rank) {
        row.push_back("");
      } else if (e.rank->too_few) {
        row.push_back("too few");
      } else {
        row.push_back(std::to_string(e.rank->position) + "/" + std::to_string(e.rank->of));
      }
      std::string change;
      if (e.change) {
        const std::optional<metrics::Difference>& d = index == "nps"    ? e.change->nps
                                                      : index == "csat" ? e.change->csat
                                                      : index == "ces"  ? e.change->ces
                                                                        : e.change->response_rate;
        if (d) {
          change = Signed(d->difference.value) + " vs " + e.change->vs +
                   (d->significant ? " (significant)" : " (not significant)");
        }
      }
      row.push_back(change);
      rows.push_back(std::move(row));
    }
    out += Columns(rows, r.by.size(), /*notes=*/true);
  }

  if (!r.warnings.empty()) {
    out += "\nWarnings\n";
    for (const std::string& w : r.warnings) out += "- " + w + "\n";
  }
  return out;
}

namespace {

void CsvEstimate(std::vector<std::string>& row, const std::optional<Estimate>& e) {
  if (!e) {
    row.insert(row.end(), {"", "", "", ""});
    return;
  }
  row.insert(row.end(), {FormatNumber(e->value), std::to_string(e->n), FormatNumber(e->lo),
                         FormatNumber(e->hi)});
}

std::vector<std::string> CsvRow(const Indices& x) {
  std::vector<std::string> row;
  const metrics::OutcomeCounts& o = x.outcomes;
  for (uint64_t v : {o.Offered(), o.completed, o.partial, o.declined, o.ignored}) {
    row.push_back(std::to_string(v));
  }
  CsvEstimate(row, x.response_rate.rate);
  CsvEstimate(row, x.nps ? std::optional<Estimate>(x.nps->result.nps) : std::nullopt);
  CsvEstimate(row, x.csat ? std::optional<Estimate>(x.csat->result.top2) : std::nullopt);
  std::optional<Estimate> ces;
  if (x.ces) ces = x.ces->agreement ? x.ces->agreement->mean : x.ces->net->classic;
  CsvEstimate(row, ces);
  CsvEstimate(row, x.csi ? std::optional<Estimate>(x.csi->result.index) : std::nullopt);
  CsvEstimate(row, x.cli ? std::optional<Estimate>(x.cli->result.index) : std::nullopt);
  CsvEstimate(row, x.loyalty.loyalty_rate);
  return row;
}

}  // namespace

std::string ReportToCsv(const Report& r) {
  std::vector<std::string> head;
  for (const GroupBy& g : r.by) head.push_back(g.Name());
  for (const char* h : {"offered", "completed", "partial", "declined", "ignored"})
    head.push_back(h);
  for (const char* index :
       {"response_rate", "nps", "csat_top2", "ces", "csi", "cli", "loyalty_rate"}) {
    for (const char* part : {"", "_n", "_lo", "_hi"}) head.push_back(std::string(index) + part);
  }
  head.insert(head.end(), {"rank", "change_vs", "change", "change_significant"});
  std::string out = "\xEF\xBB\xBF";  // BOM: spreadsheets then read the text as UTF-8
  auto emit = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + CsvCell(row[i]);
    out += "\r\n";
  };
  emit(head);
  std::vector<std::string> all(r.by.size(), "(all)");
  for (std::string& cell : CsvRow(r.all)) all.push_back(std::move(cell));
  all.insert(all.end(), {"", "", "", ""});
  emit(all);
  for (const GroupEntry& e : r.groups) {
    std::vector<std::string> row = e.key;
    for (std::string& cell : CsvRow(e.indices)) row.push_back(std::move(cell));
    row.push_back(!e.rank ? "" : e.rank->too_few ? "too few" : std::to_string(e.rank->position));
    if (e.change) {
      const std::optional<metrics::Difference>& d = r.ranked_by == "csat"  ? e.change->csat
                                                    : r.ranked_by == "ces" ? e.change->ces
                                                    : e.change->nps        ? e.change->nps
                                                                    : e.change->response_rate;
      row.push_back(e.change->vs);
      row.push_back(d ? FormatNumber(d->difference.value) : "");
      row.push_back(d ? (d->significant ? "yes" : "no") : "");
    } else {
      row.insert(row.end(), {"", "", ""});
    }
    emit(row);
  }
  return out;
}

}  // namespace canvass
