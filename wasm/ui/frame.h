// What one frame of a wasm app's UI leaves behind for its host page (the Canvass UI toolkit,
// wasm/ui/): the clickable items (the JS API's items(), keyboard focus, the browser tests), the
// text fields a real <input> must mirror (on-screen keyboards and IMEs only work with those), and
// the semantics tree (host/semantics.h). Coordinates are ImGui display pixels (device pixels in the
// browser). Plain data, no ImGui: the apps' pure parts (keyboard navigation) use it in tests too.
#pragma once

#include <string>
#include <vector>

#include "semantics.h"

struct ImFont;

namespace canvass::ui {

// Display pixels; the semantics tree's rectangle type, so that an item is recorded there as it is.
using Rect = host::SemRect;

struct UiItem {
  std::string id;  // "nps:7", "next", "lang:ru", "location:airport", "card:nps" (an area), ...
  Rect rect;
};

// A text field the page mirrors with a real <input> laid over `rect`; the UI draws only its box.
struct UiTextField {
  std::string key;  // what the app's SetText takes: "text", "contact.phone", "note", ...
  Rect rect;
  bool multiline = false;
  float font_px = 16;       // text size the mirror element should use (display pixels)
  std::string placeholder;  // in the app's language
};

struct UiFrame {
  std::vector<UiItem> items;
  std::vector<UiTextField> text_fields;
  // What the frame shows, for assistive technology: each item recorded where it is drawn, with the
  // same id as its UiItem. Kept across frames: its version() says when the page must update its
  // DOM mirror.
  host::Semantics semantics;
};

// The sizes of the bundled font an app draws with (host::AddFont); an app leaves unused ones null.
struct Fonts {
  ImFont* small = nullptr;  // axis labels, captions
  ImFont* body = nullptr;   // answers, buttons, chips
  ImFont* large = nullptr;  // question text, headings
  ImFont* huge = nullptr;   // titles, big figures
};

}  // namespace canvass::ui
