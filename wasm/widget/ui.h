// The widget's screens, drawn with the UI toolkit (wasm/ui/) over the Dear ImGui core only (no
// GLFW, no browser calls), so the same code runs in the browser and could run headless under
// imgui_impl_null.
//
// DrawWidget() = one frame: reads the Widget's screen, draws it into a full-display window, turns
// clicks into Widget calls, and fills `frame` with what the host needs to know about the frame:
// the clickable items (for the JS API's items() and the browser tests) and the text fields that
// a real <input> element must mirror (on-screen keyboards and IMEs only work with those).
// Coordinates are ImGui display pixels (device pixels in the browser).
#pragma once

#include <cstdint>
#include <string>

#include "ui/frame.h"
#include "widget.h"

namespace canvass::widget {

// The toolkit's frame types (wasm/ui/frame.h); the widget uses the body, large and huge fonts.
using ui::UiFrame;
using ui::UiItem;
using ui::UiTextField;
using UiFonts = ui::Fonts;

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
