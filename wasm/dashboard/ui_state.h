// What the dashboard's screens keep between frames besides the model (UiState), and the
// toolkit's frame types under the dashboard's names. Shared by ui.h (the screens' entry point) and
// view.h (the screens' drawing internals), so that neither includes the other's module.
#pragma once

#include <string>

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

}  // namespace canvass::dashboard
