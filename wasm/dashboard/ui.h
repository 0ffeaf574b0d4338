// The dashboard's screens, drawn with the Dear ImGui core only (ImDrawList for every chart; no
// GLFW, no browser calls), so the same code could run headless under a null backend.
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
#include "semantics.h"

struct ImFont;

namespace canvass::dashboard {

struct UiRect {
  float x = 0, y = 0, w = 0, h = 0;
};

struct UiItem {
  std::string id;  // "location:airport", "period:30", "tab:charts", ... or "card:nps" (an area)
  UiRect rect;
};

// A text field the page mirrors with a real <input> laid over `rect` (canvas.js,
// mirrorTextFields): on-screen keyboards, IMEs and paste need one. The UI draws only its box.
struct UiTextField {
  std::string key;  // "note"
  UiRect rect;
  float font_px = 14;  // device pixels
  std::string placeholder;
};

struct UiFrame {
  std::vector<UiItem> items;
  std::vector<UiTextField> text_fields;
  // What the frame shows, for assistive technology (host/semantics.h): buttons (filters as toggle
  // buttons), the cards as text, the charts' text alternatives. Kept across frames (its version).
  host::Semantics semantics;
};

struct UiFonts {
  ImFont* small = nullptr;
  ImFont* body = nullptr;
  ImFont* large = nullptr;
  ImFont* huge = nullptr;
};

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
