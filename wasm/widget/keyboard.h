// Keyboard navigation of the widget: which item a key moves the focus to, over the clickable items
// of the last frame (ui.h). Pure: no ImGui, no browser; api.cpp applies the answer (draws the
// focus ring, clicks the item).
//
// Tab / Shift+Tab walk the items in reading order (rows top to bottom, left to right in a row) and
// leave the widget past either end, so a keyboard user can go on to the host page. Arrow keys move
// within a row (left, right) and between rows (up, down: the nearest item of the next row); with
// nothing focused (a new screen) they start at the first answer.
// Enter and Space press the focused item; a digit presses the answer with that value on a 0..10 or
// rating row ("nps:7", "rating:4"; 10 is reached with the arrows); Escape presses "close" (embed).
#pragma once

#include <string>
#include <vector>

#include "ui.h"

namespace canvass::widget {

enum class Key { kTab, kShiftTab, kLeft, kRight, kUp, kDown, kActivate, kEscape, kDigit, kOther };

// A DOM KeyboardEvent.key with its shift state, as a Key (kOther for keys the widget leaves to the
// page). `digit` is set for kDigit.
Key KeyOf(const std::string& dom_key, bool shift, int* digit);

struct KeyResult {
  bool handled = false;  // false: the page should handle the key (Tab past the last item)
  std::string focus;     // the item focused after the key ("" for none)
  std::string press;     // the item to press now ("" for none)
};

KeyResult ApplyKey(const std::vector<UiItem>& items, const std::string& focus, Key key,
                   int digit = 0);

}  // namespace canvass::widget
