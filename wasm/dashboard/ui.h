// The dashboard's screens, drawn with the UI toolkit (wasm/ui/: painter, chips, charts and axes)
// over the Dear ImGui core only (no GLFW, no browser calls), so the same code could run headless
// under a null backend. The screens are split by part: ui.cpp (frame, top bar, filters, main
// area), cards.cpp, charts.cpp, cases_view.cpp; texts.cpp holds the UI strings.
//
// DrawDashboard() = one frame: the filters (period presets and days, survey, location, staff,
// channel, segment), the overview (cards with intervals and changes, the NPS trend with its
// interval band, the 0..10 distribution) or the charts (groups with whiskers and the min-n rule,
// the CSI importance-performance quadrant, key drivers) or the follow-up cases (the list of the
// locations filtered, the case open with its contact details, notes and the next step:
// follow_up.h). Clicks change the model's filter or ask CaseList for a request; every number shown
// comes from Model::figures(), every case field from the server's answers. `frame` gets the
// clickable items, the areas of the cards and charts and the text fields to mirror with <input>
// elements, in display (device) pixels, for the JS glue and its test hook.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "follow_up.h"
#include "model.h"
#include "ui/frame.h"

namespace canvass::dashboard {

// The toolkit's frame types (wasm/ui/frame.h). An item with no click is an area ("card:nps").
using ui::UiFrame;
using ui::UiItem;
using ui::UiTextField;
using UiFonts = ui::Fonts;

enum class Tab { kOverview = 0, kCharts = 1, kCases = 2 };

// What the UI keeps between frames besides the model.
struct UiState {
  std::string language = "en";  // "en", "ru", "uk"
  Tab tab = Tab::kOverview;
  float sidebar_scroll = 0;
  float main_scroll = 0;
  bool logout = false;  // set when "Log out" was clicked; the host page acts on it
};

// Draws one frame. `scale` = device pixels per CSS pixel. Returns true if a click changed the
// model or the state (more frames should follow).
bool DrawDashboard(Model& model, CaseList& cases, UiState& state, const UiFonts& fonts, float scale,
                   UiFrame* frame);

// UI strings in "en", "ru" or "uk" (English when missing).
const char* UiText(const std::string& language, const char* key);
// The first of `preferred` (e.g. navigator.languages, "uk-UA") the dashboard speaks, else "en".
std::string PickUiLanguage(const std::vector<std::string>& preferred);

}  // namespace canvass::dashboard
