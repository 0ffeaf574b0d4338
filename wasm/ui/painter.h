// The painter of the wasm apps (the Canvass UI toolkit, wasm/ui/): buttons, text and text fields
// drawn with the Dear ImGui core only (ImDrawList; no GLFW, no browser calls), each control
// recorded where it is drawn as an item of the frame (frame.h) and in its semantics tree.
//
// An app gives its Style (the colours of each Look, the corners, how labels sit) and draws its own
// screens with a Painter, or with a class derived from it that knows the app's model.
//  - StartFrame() = clear the frame's items and open its semantics tree; FinishFrame() closes it.
//  - BeginScreen() = push a window over the whole display; EndScreen() pops it.
//  - Painter::Button() = an invisible ImGui button with our drawing: true on a click.
// Coordinates are display pixels; `s` = display pixels per CSS pixel (times any UI zoom).
#pragma once

#include <cstdint>
#include <string>

#include "contrast.h"
#include "frame.h"
#include "imgui.h"

namespace canvass::ui {

// What a button says by its looks: a plain choice (a chip), the chosen one, the main action, a
// quiet secondary action, or an action not possible now.
enum class Look : std::uint8_t { kPlain, kSelected, kPrimary, kQuiet, kDisabled };
constexpr int kLookCount = 5;

// The colours of a look, as addresses of the app's colours in use: a style is written once and
// follows the app's palette when it changes (the widget's high contrast). nullptr: none.
struct LookColours {
  const ImU32* fill = nullptr;
  const ImU32* fill_hover = nullptr;
  const ImU32* fill_held = nullptr;  // while pressed; nullptr: as hovered or not
  const ImU32* text = nullptr;
  const ImU32* border = nullptr;
};

class Painter;

// How a button's label sits in it (Style::label): drawn in `font` and `colour` inside `r`.
using LabelFn = void (*)(Painter& p, Rect r, const std::string& label, ImFont* font, ImU32 colour);
// Wrapped, each line centred (the widget's big buttons).
void WrappedLabel(Painter& p, Rect r, const std::string& label, ImFont* font, ImU32 colour);
// One line, centred when it fits and cut at the button's edge when not (the dashboard's chips).
void ClippedLabel(Painter& p, Rect r, const std::string& label, ImFont* font, ImU32 colour);

// How an app draws its controls. Sizes are CSS pixels. A constant expression: an app's style is
// data, built at compile time.
struct Style {
  LookColours looks[kLookCount];
  float radius = 6;
  float border_width = 0;
  // A function pointer rather than a flag, so that an app links only the way it uses.
  LabelFn label = WrappedLabel;
  // A text field's box (set them if the app draws text fields).
  const ImU32* field_fill = nullptr;
  const ImU32* field_border = nullptr;
  float field_radius = 6;
};

// How a drawn button reads to assistive technology; by default a button named by its label.
struct SemAs {
  host::Role role = host::Role::kButton;
  std::string name;  // "" = the label
  host::Tri checked = host::Tri::kNone;
  host::Tri pressed = host::Tri::kNone;
  const char* lang = "";  // a language's own name is read in that language (outlives the call)
  bool disabled = false;
};

inline host::Tri TriOf(bool on) { return on ? host::Tri::kTrue : host::Tri::kFalse; }
inline constexpr ImU32 Col(host::Rgb c) { return IM_COL32(c.r, c.g, c.b, 255); }

// Clears `frame` and starts its semantics tree in `language`.
inline void StartFrame(UiFrame* frame, const std::string& language, float scale) {
  frame->items.clear();
  frame->text_fields.clear();
  frame->semantics.BeginFrame(language, scale);
}
inline void FinishFrame(UiFrame* frame) { frame->semantics.EndFrame(); }
// A borderless, unpadded window over the whole display on `background`; `flags` are added to
// ImGui's (no decoration, no move, no saved settings, never brought to front).
inline void BeginScreen(const char* name, ImU32 background, int flags = 0) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0);
  ImGui::PushStyleColor(ImGuiCol_WindowBg, background);
  ImGui::Begin(name, nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   flags);
}
inline void EndScreen() {
  ImGui::End();
  ImGui::PopStyleColor();
  ImGui::PopStyleVar(2);
}

// Draws the keyboard focus ring around the item `focus` of `frame` (nothing if it is not there),
// on top of everything else of the frame.
void DrawFocusRing(const UiFrame& frame, const std::string& focus, float scale, ImU32 colour);

class Painter {
 public:
  Painter(const Style& style, const Fonts& fonts, float scale, UiFrame* frame)
      : style(style), f(fonts), s(scale), frame(frame), dl(ImGui::GetWindowDrawList()) {}

  host::Semantics& sem() { return frame->semantics; }

  // An invisible ImGui button over `r`: true on a click (press and release on it). Draws nothing.
  bool Hit(const std::string& id, Rect r, bool* hovered, bool* held = nullptr);
  // A button drawn in `look` with `label` centred in `font`, recorded as an item and for
  // assistive technology as `as` says. With `visible` (a scrolled pane) a button outside it is
  // neither drawn nor clickable, and only its visible part is recorded as an item.
  bool Button(const std::string& id, Rect r, const std::string& label, ImFont* font, Look look,
              const SemAs& as = {}, const Rect* visible = nullptr);
  // Records an item (its part inside `visible`, if given; nothing if none of it is).
  void Item(const std::string& id, Rect r, const Rect* visible = nullptr);
  // The box of a text field whose text the page's <input> mirror draws, recorded as a field and
  // as the item "field:<key>"; false (and nothing recorded) when it is outside `visible`.
  bool TextField(const std::string& key, Rect r, bool multiline, const std::string& placeholder,
                 const Rect* visible = nullptr);

  float Width(ImFont* font, const std::string& text) const;
  // One line at (x, y); returns its width.
  float Text(ImFont* font, float x, float y, ImU32 colour, const std::string& text);
  void TextRight(ImFont* font, float right, float y, ImU32 colour, const std::string& text);
  void TextCentered(ImFont* font, float cx, float y, ImU32 colour, const std::string& text);
  // Text wrapped at `wrap` from (x, y), each line centred when `centered`; returns its height.
  float Paragraph(ImFont* font, float x, float y, float wrap, const std::string& text, ImU32 colour,
                  bool centered = false);
  // A Paragraph that assistive technology reads too, recorded as `role` with `id`.
  float Label(host::Role role, const std::string& id, ImFont* font, float x, float y, float wrap,
              const std::string& text, ImU32 colour, bool centered = false);

  // A pane scrolled by the mouse wheel. BeginPane() = scroll `*scroll` by the wheel when the
  // pointer is over `r` (true if it moved) and clip drawing to `r`; EndPane() = end the clip and
  // keep `*scroll` within the content, which was drawn down to `bottom`.
  bool BeginPane(Rect r, float* scroll);
  void EndPane(Rect r, float* scroll, float bottom);

  // A tick mark in a box of side `box` at `a` (a checked checkbox).
  void Check(ImVec2 a, float box, ImU32 colour);

  const Style& style;
  const Fonts& f;
  const float s;
  UiFrame* const frame;
  ImDrawList* const dl;
};

}  // namespace canvass::ui
