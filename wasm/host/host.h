// The browser host of the widget: a GLFW window on the page's canvas with a WebGL2 context, the
// Dear ImGui GLFW + OpenGL3 backends, pointer input, the bundled font, and the frame loop
// (host_web.cpp). api.cpp drives it; ui.cpp never sees it.
//
// Input comes as pointer events in CSS pixels (mouse, touch and pen alike) rather than from
// GLFW's mouse callbacks: a tap's down and up often land between two frames, and ImGui 1.86
// polls the button state once per frame, so events are queued and replayed one button
// transition per frame. Everything here runs on the browser's main thread.
#pragma once

#include <functional>
#include <string>

#include "ui.h"
#include "widget.h"

namespace canvass::widget::host {

enum class PointerKind { kMove = 0, kDown = 1, kUp = 2, kLeave = 3 };

// Creates the window on Module.canvas and starts the frame loop. `font_ttf` may be empty (then
// ImGui's built-in Latin-only font is used). `after_frame` runs after every frame.
bool Start(Widget* widget, std::string font_ttf, float css_width, float css_height, float dpr,
           std::function<void()> after_frame);
void Stop();
void Resize(float css_width, float css_height, float dpr);
void Pointer(PointerKind kind, float css_x, float css_y, bool touch);
// Asks for fresh frames after the model changed from outside the UI (a record saved, a bundle
// loaded, text typed). Without input or changes the host draws only twice a second (timeouts),
// which keeps an idle kiosk from burning its battery at 60 frames per second.
void Invalidate();
// Device pixels per CSS pixel, and the last frame's items and text fields (device pixels).
float Dpr();
const UiFrame& LastFrame();

}  // namespace canvass::widget::host
