// The browser host of every Canvass wasm module with a Dear ImGui UI (the survey widget, the
// dashboard): a GLFW window on the page's canvas with a WebGL2 context, the Dear ImGui GLFW +
// OpenGL3 backends, pointer and wheel input, the bundled font, and the frame loop
// (host_web.cpp). A module hands it an App (how to build its fonts, how to draw a frame); its UI
// code never sees the host.
//
//  [x] HiDPI: the window is CSS size x devicePixelRatio; one ImGui display pixel = one device pixel
//  [x] Mouse, touch and pen as pointer events in CSS pixels, replayed one button transition a frame
//  [x] Mouse wheel (the dashboard's lists); no keyboard (text comes from <input> mirrors)
//  [x] Frames on demand: a few after input or Invalidate(), else two a second
//  [x] Semantics: the UI records a tree of items each frame (semantics.h); the page mirrors it
//      into DOM elements for assistive technology (wasm/js/semantics.js)
//
// Input comes as pointer events rather than from GLFW's mouse callbacks: a tap's down and up often
// land between two frames, and ImGui 1.86 polls the button state once per frame, so events are
// queued and replayed one button transition per frame. Everything runs on the main thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

struct ImFont;

namespace canvass::host {

enum class PointerKind { kMove = 0, kDown = 1, kUp = 2, kLeave = 3 };

struct App {
  // Adds the module's fonts to ImGui's (cleared) font atlas for `dpr` device pixels per CSS pixel;
  // the host builds the atlas and its texture. Called at the start and whenever the ratio changes.
  std::function<void(float dpr)> build_fonts;
  // Draws one frame, between ImGui::NewFrame() and ImGui::Render(). Returns true when the frame
  // changed what is shown (a new screen, an animation), so that a few more frames follow.
  std::function<bool(std::int64_t now_ms)> draw;
  // A pointer button went down or up (the widget restarts its idle timer). Optional.
  std::function<void()> on_press;
  // After every frame (the widget flushes its events). Optional.
  std::function<void()> after_frame;
  std::array<float, 3> clear_rgb = {250 / 255.0f, 250 / 255.0f, 247 / 255.0f};
};

// Creates the window on Module.canvas and starts the frame loop. False if there is already one, or
// no WebGL2 context.
bool Start(App app, float css_width, float css_height, float dpr);
void Stop();
void Resize(float css_width, float css_height, float dpr);
void Pointer(PointerKind kind, float css_x, float css_y, bool touch);
// Wheel steps (positive dy scrolls down, as DOM WheelEvent.deltaY in lines).
void Wheel(float dx, float dy);
// Asks for fresh frames after the model changed from outside the UI (a record saved, statistics
// loaded, text typed). Without input or changes the host draws only twice a second, which keeps
// an idle kiosk from burning its battery at 60 frames per second.
void Invalidate();
// Device pixels per CSS pixel.
float Dpr();
// Frames drawn since Start (the page marks its first question frame with it).
std::uint64_t FramesDrawn();
// Draws a frame now rather than at the next animation frame: the first question goes on screen in
// the task that made it ready (the browser presents it at its next paint all the same).
void DrawNow();

// Adds the bundled font (font.ttf: DejaVu Sans cut to Latin + Cyrillic + punctuation, € and №)
// at `css_px` CSS pixels, or ImGui's built-in Latin-only font when `ttf` is empty. `ttf` must
// stay alive as long as the atlas (the atlas does not copy it).
ImFont* AddFont(const std::string& ttf, float css_px, float dpr);

}  // namespace canvass::host
