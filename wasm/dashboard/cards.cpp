#include <algorithm>
#include <cfloat>
#include <cmath>

#include "view.h"

namespace canvass::dashboard::view {
namespace {

// [SECTION] Cards -----------------------------------------------------------------------------

struct CardLine {
  std::string text;
  ImU32 colour = kMuted;
};

// A change against the previous period, in words and colour: significant rises green, falls red.
CardLine ChangeLine(const Painter& p, const Change& d, int64_t days, int decimals, bool percent) {
  CardLine line;
  if (!d || d->difference.n == 0) {
    line.text = p.T("no_change");
    line.colour = kFaintText;
    return line;
  }
  const double v = d->difference.value;
  line.text = Fixed(v, decimals, true) + (percent ? " pp " : " ") + p.T("vs") + " " +
              p.T("previous") + " " + std::to_string(days) + " " + p.T("days") + "\n" +
              (d->significant ? p.T("significant") : p.T("not_significant")) + "  (" +
              Fixed(d->difference.lo, decimals, true) + " .. " +
              Fixed(d->difference.hi, decimals, true) + ")";
  line.colour = !d->significant ? kMuted : v > 0 ? kGoodText : kBadText;
  return line;
}

struct Card {
  Card(std::string id, std::string label, std::string value, std::string interval)
      : id(std::move(id)),
        label(std::move(label)),
        value(std::move(value)),
        interval(std::move(interval)) {}
  std::string id, label, value;
  std::string interval;  // "95%: a .. b, n"
  std::vector<CardLine> extra;
  CardLine change;
  bool no_data = false;
};

std::string IntervalText(const Painter& p, const metrics::Estimate& e, int decimals,
                         const char* unit = "") {
  return std::string(p.T("interval")) + ": " + Fixed(e.lo, decimals) + unit + " .. " +
         Fixed(e.hi, decimals) + unit + ",  n = " + Count(e.n);
}

std::vector<Card> BuildCards(const Painter& p, const Figures& fig) {
  std::vector<Card> cards;
  const Indices& x = fig.current.all;
  const int64_t days = (*fig.options.to_ms - *fig.options.from_ms) / 86400000;
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    Card c{"card:nps", p.T("nps"), Fixed(n.nps.value, 1, true), IntervalText(p, n.nps, 1)};
    c.extra.push_back({Count(n.non_responders) + " " + p.T("silent") + ";\n" + p.T("bounds") + " " +
                       Fixed(n.bound_lo, 1, true) + " .. " + Fixed(n.bound_hi, 1, true)});
    c.change = ChangeLine(p, fig.change.nps, days, 1, false);
    c.no_data = n.nps.n == 0;
    cards.push_back(std::move(c));
  }
  {
    const metrics::ResponseRateResult& rr = x.response_rate;
    Card c{"card:response_rate", p.T("response_rate"), Fixed(rr.rate.value, 1) + "%",
           IntervalText(p, rr.rate, 1, "%")};
    c.extra.push_back({Count(rr.completed) + " " + p.T("completed") + " " + p.T("of") + " " +
                       Count(rr.offered) + " " + p.T("offered")});
    c.change = ChangeLine(p, fig.change.response_rate, days, 1, true);
    c.no_data = rr.offered == 0;
    cards.push_back(std::move(c));
  }
  if (x.csat) {
    const metrics::CsatResult& r = x.csat->result;
    Card c{"card:csat", p.T("csat"), Fixed(r.top2.value, 1) + "%", IntervalText(p, r.top2, 1, "%")};
    c.extra.push_back({std::string(p.T("mean")) + " " + Fixed(r.mean.value, 2)});
    c.change = ChangeLine(p, fig.change.csat, days, 1, true);
    c.no_data = r.top2.n == 0;
    cards.push_back(std::move(c));
  }
  if (x.ces) {
    Card c{"card:ces", p.T("ces"), "", ""};
    if (x.ces->agreement) {
      const metrics::CesResult& r = *x.ces->agreement;
      c.value = Fixed(r.mean.value, 2);
      c.interval = IntervalText(p, r.mean, 2);
      c.extra.push_back({std::string(p.T("agree")) + " (" + std::to_string(r.agree_from) + "+) " +
                         Fixed(r.agree.value, 1) + "%"});
      c.no_data = r.mean.n == 0;
      c.change = ChangeLine(p, fig.change.ces, days, 2, false);
    } else {
      const metrics::NpsResult& r = *x.ces->net;
      c.value = Fixed(r.classic.value, 1, true);
      c.interval = IntervalText(p, r.classic, 1);
      c.no_data = r.classic.n == 0;
      c.change = ChangeLine(p, fig.change.ces, days, 1, false);
    }
    cards.push_back(std::move(c));
  }
  if (x.csi) {
    const metrics::CsiResult& r = x.csi->result;
    Card c{"card:csi", p.T("csi"), Fixed(r.index.value, 1, true), IntervalText(p, r.index, 1)};
    c.extra.push_back({std::string(p.T("score100")) + ": " + Fixed(r.score.value, 1) + "  (" +
                       Fixed(r.score.lo, 1) + " .. " + Fixed(r.score.hi, 1) + ")"});
    c.change = ChangeLine(p, fig.csi_index, days, 1, false);
    c.no_data = r.index.n == 0;
    cards.push_back(std::move(c));
  }
  if (x.cli) {
    const metrics::CliResult& r = x.cli->result;
    Card c{"card:cli", p.T("cli"), Fixed(r.index.value, 2), IntervalText(p, r.index, 2)};
    c.change = ChangeLine(p, fig.cli, days, 2, false);
    c.no_data = r.index.n == 0;
    cards.push_back(std::move(c));
  }
  {
    const metrics::LoyaltyResult& l = x.loyalty;
    Card c{"card:loyalty", p.T("loyalty"), Fixed(l.loyalty_rate.value, 1) + "%",
           IntervalText(p, l.loyalty_rate, 1, "%")};
    c.extra.push_back({Count(l.returning_customers) + " " + p.T("of") + " " + Count(l.customers) +
                       " " + p.T("customers") + " " + p.T("came_back")});
    c.change = ChangeLine(p, fig.loyalty, days, 1, true);
    c.no_data = l.customers == 0;
    cards.push_back(std::move(c));
  }
  return cards;
}

void DrawCard(Painter& p, const Card& c, UiRect r, const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item(c.id, r, visible);
  // Read as one text: "NPS +42.9, 95%: 38.2 .. 47.3, n = 1,012. ... +3.1 vs previous 30 days".
  std::string spoken = c.label + " " + (c.no_data ? "-" : c.value) + ", " + c.interval;
  for (const CardLine& line : c.extra) spoken += ". " + line.text;
  if (!c.change.text.empty()) spoken += ". " + c.change.text;
  for (char& ch : spoken) {
    if (ch == '\n') ch = ' ';
  }
  p.sem().Text(c.id, spoken, {r.x, r.y, r.w, r.h});
  float y = r.y + 12 * s;
  const float x = r.x + 14 * s;
  p.Text(p.f.body, x, y, kMuted, c.label);
  y += p.f.body->FontSize + 4 * s;
  p.Text(p.f.huge, x, y, c.no_data ? kFaintText : kInk, c.no_data ? "-" : c.value);
  y += p.f.huge->FontSize + 6 * s;
  p.dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w - 8 * s, r.y + r.h), true);
  p.Text(p.f.small, x, y, kMuted, c.interval);
  y += p.f.small->FontSize + 4 * s;
  for (const CardLine& line : c.extra) {
    p.Text(p.f.small, x, y, line.colour, line.text);  // may hold a line break
    y += p.f.small->CalcTextSizeA(p.f.small->FontSize, FLT_MAX, 0, line.text.c_str()).y + 4 * s;
  }
  const float change_h =
      p.f.small->CalcTextSizeA(p.f.small->FontSize, FLT_MAX, 0, c.change.text.c_str()).y;
  p.Text(p.f.small, x, r.y + r.h - change_h - 12 * s, c.change.colour, c.change.text);
  p.dl->PopClipRect();
}

}  // namespace

float DrawCards(Painter& p, const Figures& fig, float x0, float y, float w, const UiRect& visible) {
  const float s = p.s;
  const std::vector<Card> cards = BuildCards(p, fig);
  const float gap = 14 * s;
  const int columns = std::clamp(static_cast<int>((w + gap) / (240 * s + gap)), 1, 4);
  const float cw = (w - gap * static_cast<float>(columns - 1)) / static_cast<float>(columns);
  const float ch = 186 * s;
  for (std::size_t i = 0; i < cards.size(); ++i) {
    const int col = static_cast<int>(i) % columns, row = static_cast<int>(i) / columns;
    DrawCard(p, cards[i],
             UiRect{x0 + (cw + gap) * static_cast<float>(col),
                    y + (ch + gap) * static_cast<float>(row), cw, ch},
             visible);
  }
  return y + (ch + gap) * std::ceil(static_cast<float>(cards.size()) / static_cast<float>(columns));
}

}  // namespace canvass::dashboard::view
