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
#include "texts.h"
#include "ui_state.h"

namespace canvass::dashboard {

// Draws one frame. `scale` = device pixels per CSS pixel. Returns true if a click changed the
// model or the state (more frames should follow).
bool DrawDashboard(Model& model, CaseList& cases, UiState& state, const UiFonts& fonts, float scale,
                   UiFrame* frame);

}  // namespace canvass::dashboard
