// The widget's screens, drawn with the Dear ImGui core only (no GLFW, no browser calls), so the
// same code runs in the browser and could run headless under imgui_impl_null.
//
// DrawWidget() = one frame: reads the Widget's screen, draws it into a full-display window, turns
// clicks into Widget calls, and fills `frame` with what the host needs to know about the frame:
// the clickable items (for the JS API's items() and the browser tests) and the text fields that
// a real <input> element must mirror (on-screen keyboards and IMEs only work with those).
// Coordinates are ImGui display pixels (device pixels in the browser).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semantics.h"
#include "widget.h"

struct ImFont;

namespace canvass::widget {

struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

struct UiItem {
  std::string id;  // "nps:7", "next", "lang:ru", "csi:price:satisfaction:4", ...
  Rect rect;
};

struct UiTextField {
  std::string key;  // Widget::SetText key: "text", "other", "contact.phone", "enroll"
  Rect rect;
  bool multiline = false;
  float font_px = 16;       // text size the mirror element should use
  std::string placeholder;  // in the widget's language
};

struct UiFrame {
  std::vector<UiItem> items;
  std::vector<UiTextField> text_fields;
  // What the frame shows, for assistive technology (host/semantics.h): each item recorded where it
  // is drawn, with the same id as its UiItem. Kept across frames: its version() says when the
  // page must update its DOM mirror.
  host::Semantics semantics;
};

struct UiFonts {
  ImFont* body = nullptr;   // answers, buttons
  ImFont* large = nullptr;  // question text
  ImFont* huge = nullptr;   // titles, NPS digits
};

// Draws one frame and records its items, text fields and semantics tree in `frame`. `scale` =
// device pixels per CSS pixel times any UI zoom.
void DrawWidget(Widget& widget, const UiFonts& fonts, float scale, std::int64_t now_ms,
                UiFrame* frame);

// Draws the keyboard focus ring around the item `focus` of `frame` (nothing if it is not there),
// on top of everything else of the frame.
void DrawFocusRing(const UiFrame& frame, const std::string& focus, float scale);

// Draws with the high-contrast palette (theme.h: prefers-contrast: more) or the standard one.
void UseHighContrast(bool on);
bool HighContrast();

// UI strings (buttons, labels) in the widget's language, English when missing.
const char* UiText(const std::string& language, const char* key);

}  // namespace canvass::widget
