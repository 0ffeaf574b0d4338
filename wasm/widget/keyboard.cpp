#include "keyboard.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace canvass::widget {
namespace {

float CenterX(const UiItem& it) { return it.rect.x + it.rect.w / 2; }
float CenterY(const UiItem& it) { return it.rect.y + it.rect.h / 2; }

// Orders items by the centre's x (across a row) or y (down the page). One comparator type for
// both sorts, so that the widget carries one std::stable_sort, not two (docs/widget.md, Sizes).
struct ByCenter {
  bool x;
  bool operator()(const UiItem* a, const UiItem* b) const {
    return x ? CenterX(*a) < CenterX(*b) : CenterY(*a) < CenterY(*b);
  }
};

// Items in reading order, with a row number each: an item whose centre lies within half the
// height of the row's first item belongs to that row.
struct Ordered {
  std::vector<const UiItem*> items;
  std::vector<int> row;
};
Ordered ReadingOrder(const std::vector<UiItem>& items) {
  std::vector<const UiItem*> by_y;
  for (const UiItem& it : items) by_y.push_back(&it);
  std::stable_sort(by_y.begin(), by_y.end(), ByCenter{false});
  Ordered out;
  std::size_t i = 0;
  int row = 0;
  while (i < by_y.size()) {
    const float top = CenterY(*by_y[i]);
    const float tolerance = std::max(1.0f, by_y[i]->rect.h / 2);
    std::size_t j = i;
    while (j < by_y.size() && CenterY(*by_y[j]) - top <= tolerance) ++j;
    std::stable_sort(by_y.begin() + static_cast<std::ptrdiff_t>(i),
                     by_y.begin() + static_cast<std::ptrdiff_t>(j), ByCenter{true});
    for (std::size_t k = i; k < j; ++k) {
      out.items.push_back(by_y[k]);
      out.row.push_back(row);
    }
    ++row;
    i = j;
  }
  return out;
}

int IndexOf(const Ordered& o, const std::string& id) {
  for (std::size_t i = 0; i < o.items.size(); ++i) {
    if (o.items[i]->id == id) return static_cast<int>(i);
  }
  return -1;
}

// The item of row `row` nearest to x, or -1.
int NearestInRow(const Ordered& o, int row, float x) {
  int best = -1;
  float best_dx = std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < o.items.size(); ++i) {
    if (o.row[i] != row) continue;
    const float dx = std::fabs(CenterX(*o.items[i]) - x);
    if (dx < best_dx) {
      best_dx = dx;
      best = static_cast<int>(i);
    }
  }
  return best;
}

// Where the arrows start when nothing is focused (a new screen): the first answer, else the
// first item.
int FirstAnswer(const Ordered& o) {
  for (std::size_t i = 0; i < o.items.size(); ++i) {
    const std::string& id = o.items[i]->id;
    for (const char* prefix : {"nps:", "rating:", "choice:", "csi:", "other", "consent"}) {
      if (id.rfind(prefix, 0) == 0) return static_cast<int>(i);
    }
  }
  return o.items.empty() ? -1 : 0;
}

}  // namespace

Key KeyOf(const std::string& k, bool shift, int* digit) {
  if (k == "Tab") return shift ? Key::kShiftTab : Key::kTab;
  if (k == "ArrowLeft") return Key::kLeft;
  if (k == "ArrowRight") return Key::kRight;
  if (k == "ArrowUp") return Key::kUp;
  if (k == "ArrowDown") return Key::kDown;
  if (k == "Enter" || k == " ") return Key::kActivate;
  if (k == "Escape") return Key::kEscape;
  if (k.size() == 1 && k[0] >= '0' && k[0] <= '9') {
    *digit = k[0] - '0';
    return Key::kDigit;
  }
  return Key::kOther;
}

KeyResult ApplyKey(const std::vector<UiItem>& items, const std::string& focus, Key key, int digit) {
  KeyResult r;
  r.focus = focus;
  const Ordered o = ReadingOrder(items);
  const int at = IndexOf(o, focus);
  const int n = static_cast<int>(o.items.size());
  auto focus_on = [&](int i) {
    r.handled = true;
    r.focus = o.items[static_cast<std::size_t>(i)]->id;
  };
  switch (key) {
    case Key::kTab:
      if (at + 1 < n) {
        focus_on(at + 1);
      } else {
        r.focus.clear();  // past the last item: the page's next element gets the focus
      }
      break;
    case Key::kShiftTab:
      if (at > 0) {
        focus_on(at - 1);
      } else if (at < 0 && n > 0) {
        focus_on(n - 1);
      } else {
        r.focus.clear();
      }
      break;
    case Key::kLeft:
    case Key::kRight: {
      if (n == 0) break;
      if (at < 0) {
        focus_on(FirstAnswer(o));
        break;
      }
      const int step = key == Key::kRight ? 1 : -1;
      const int next = at + step;
      r.handled = true;  // at a row's end the focus stays put
      if (next >= 0 && next < n &&
          o.row[static_cast<std::size_t>(next)] == o.row[static_cast<std::size_t>(at)]) {
        focus_on(next);
      }
      break;
    }
    case Key::kUp:
    case Key::kDown: {
      if (n == 0) break;
      if (at < 0) {
        focus_on(FirstAnswer(o));
        break;
      }
      r.handled = true;
      const int row = o.row[static_cast<std::size_t>(at)] + (key == Key::kDown ? 1 : -1);
      const int next = NearestInRow(o, row, CenterX(*o.items[static_cast<std::size_t>(at)]));
      if (next >= 0) focus_on(next);
      break;
    }
    case Key::kActivate:
      if (at >= 0) {
        r.handled = true;
        r.press = focus;
      }
      break;
    case Key::kEscape:
      if (IndexOf(o, "close") >= 0) {
        r.handled = true;
        r.press = "close";
      }
      break;
    case Key::kDigit:
      for (const char* prefix : {"nps:", "rating:"}) {
        const std::string id = prefix + std::to_string(digit);
        if (IndexOf(o, id) >= 0) {
          r.handled = true;
          r.focus = id;
          r.press = id;
          break;
        }
      }
      break;
    case Key::kOther:
      break;
  }
  return r;
}

}  // namespace canvass::widget
