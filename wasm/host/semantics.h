// The semantics layer of the wasm apps (DESIGN.md §8, docs/widget.md "Semantics"): each frame the
// UI describes what it drew as a tree of items — role, accessible name in the current language,
// state, description, rectangle — and the page mirrors the tree into real DOM elements over the
// canvas (wasm/js/semantics.js), so that screen readers and other assistive technology can read
// and press what the canvas shows.
//
// Plain C++ (no ImGui, no browser): the UI records items next to where it draws them, between
// BeginFrame() and EndFrame(); EndFrame() serialises the tree and bumps version() only when the
// serialised form differs from the last frame's, so the page touches its DOM only on a change.
// Rectangles are given in the UI's pixels and stored in CSS pixels (divided by `px_per_css`).
// Not thread-safe; one instance per app, owned by its api.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace canvass::host {

enum class Role : std::uint8_t {
  kGroup,       // <div role=group>: related controls (a multiple choice)
  kRadioGroup,  // <div role=radiogroup>: one of its radios is the answer (0..10)
  kHeading,     // <h2>: the question, a screen's title
  kText,        // static text (end labels, hints, progress)
  kButton,      // <button>: Next, Back, Close, a language
  kRadio,       // role=radio inside a radio group
  kCheckbox,    // role=checkbox
  kTextField,   // the <input>/<textarea> the page already mirrors for typing (key = item id)
  kStatus,      // a message for a status region (validation, saving)
};
const char* RoleName(Role role);

// A tri-state attribute: absent, false or true (aria-pressed, aria-checked).
enum class Tri : std::int8_t { kNone = -1, kFalse = 0, kTrue = 1 };

struct SemRect {
  float x = 0, y = 0, w = 0, h = 0;
};

struct SemItem {
  std::string id;  // stable across frames: the UI's item id ("nps:7", "next", "q:recommend")
  Role role = Role::kText;
  std::string name;         // accessible name, in the current language
  std::string description;  // extra text read after the name
  std::string
      labelled_by;  // ids of items whose text is the name (aria-labelledby), space-separated
  std::string described_by;  // ids of items whose text describes this one (aria-describedby)
  std::string lang;          // BCP 47 code when it differs from the tree's (a language's own name)
  std::string error;         // non-empty: invalid, with this message
  SemRect rect;              // CSS pixels relative to the canvas
  Tri pressed = Tri::kNone;
  Tri checked = Tri::kNone;
  bool disabled = false;
  int level = 0;    // headings: 1..6
  int parent = -1;  // index of the enclosing group, -1 at the top
};

class Semantics {
 public:
  // Starts a new tree for this frame; `lang` is the UI's language (the mirror's lang attribute).
  void BeginFrame(std::string lang, float px_per_css);
  // Ends the frame's tree: serialises it and bumps version() if it changed.
  void EndFrame();

  // Each adds an item and returns it for further state (valid until the next call that adds).
  SemItem& Add(Role role, std::string id, std::string name, SemRect px_rect);
  SemItem& Heading(std::string id, std::string name, SemRect px_rect, int level = 2);
  SemItem& Text(std::string id, std::string text, SemRect px_rect);
  SemItem& Button(std::string id, std::string name, SemRect px_rect);
  SemItem& Radio(std::string id, std::string name, SemRect px_rect, bool checked);
  SemItem& Checkbox(std::string id, std::string name, SemRect px_rect, bool checked);
  SemItem& TextField(std::string id, std::string name, SemRect px_rect);
  SemItem& Status(std::string id, std::string text);
  // Groups nest: every item added until the matching EndGroup() belongs to this one.
  SemItem& BeginGroup(Role role, std::string id, std::string name, SemRect px_rect);
  void EndGroup();
  // The item added last with this id, or nullptr.
  SemItem* Find(const std::string& id);

  // What the page's aria-live region should say for this screen ("Question 2 of 7: ..."); the
  // page speaks it when it changes.
  void Announce(std::string text) { announce_ = std::move(text); }

  const std::vector<SemItem>& items() const { return items_; }
  const std::string& lang() const { return lang_; }
  const std::string& announcement() const { return announce_; }
  // {"lang":..,"announce":..,"items":[{"id","role","name",...,"parent"}]} of the last frame.
  const std::string& json() const { return json_; }
  // Changes whenever json() does; starts at 0 (no tree yet).
  std::uint32_t version() const { return version_; }

 private:
  std::vector<SemItem> items_;
  std::vector<int> open_;  // indices of the groups still open
  std::string lang_;
  std::string announce_;
  float px_per_css_ = 1;
  std::string json_;
  std::uint32_t version_ = 0;
  // The frame json_ was made from, to compare the next frame with.
  std::vector<SemItem> last_items_;
  std::string last_lang_, last_announce_;
};

}  // namespace canvass::host
