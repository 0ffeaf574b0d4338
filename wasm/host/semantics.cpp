#include "semantics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace canvass::host {
namespace {

void Quote(std::string* out, const std::string& s) {
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void Field(std::string* out, const char* key, const std::string& value) {
  if (value.empty()) return;
  *out += ",\"";
  *out += key;
  *out += "\":";
  Quote(out, value);
}

// Whole CSS pixels: sub-pixel jitter between frames must not count as a change of the tree.
void Int(std::string* out, const char* key, float value) {
  *out += ",\"";
  *out += key;
  *out += "\":";
  *out += std::to_string(static_cast<long long>(std::lround(value)));
}

long Px(float v) { return std::lround(v); }

// Equal as the serialised form would be (rectangles in whole CSS pixels).
bool Same(const SemItem& a, const SemItem& b) {
  return a.role == b.role && a.pressed == b.pressed && a.checked == b.checked &&
         a.disabled == b.disabled && a.level == b.level && a.parent == b.parent &&
         Px(a.rect.x) == Px(b.rect.x) && Px(a.rect.y) == Px(b.rect.y) &&
         Px(a.rect.w) == Px(b.rect.w) && Px(a.rect.h) == Px(b.rect.h) && a.id == b.id &&
         a.name == b.name && a.description == b.description && a.labelled_by == b.labelled_by &&
         a.described_by == b.described_by && a.lang == b.lang && a.error == b.error;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kGroup:
      return "group";
    case Role::kRadioGroup:
      return "radiogroup";
    case Role::kHeading:
      return "heading";
    case Role::kText:
      return "text";
    case Role::kButton:
      return "button";
    case Role::kRadio:
      return "radio";
    case Role::kCheckbox:
      return "checkbox";
    case Role::kTextField:
      return "textfield";
    case Role::kStatus:
      return "status";
  }
  return "text";
}

void Semantics::BeginFrame(std::string lang, float px_per_css) {
  items_.clear();
  open_.clear();
  announce_.clear();
  lang_ = std::move(lang);
  px_per_css_ = px_per_css > 0 ? px_per_css : 1;
}

SemItem& Semantics::Add(Role role, std::string id, std::string name, SemRect px_rect) {
  SemItem item;
  item.role = role;
  item.id = std::move(id);
  item.name = std::move(name);
  item.rect = {px_rect.x / px_per_css_, px_rect.y / px_per_css_, px_rect.w / px_per_css_,
               px_rect.h / px_per_css_};
  item.parent = open_.empty() ? -1 : open_.back();
  items_.push_back(std::move(item));
  return items_.back();
}

SemItem& Semantics::Heading(std::string id, std::string name, SemRect px_rect, int level) {
  SemItem& it = Add(Role::kHeading, std::move(id), std::move(name), px_rect);
  it.level = level;
  return it;
}

SemItem& Semantics::Text(std::string id, std::string text, SemRect px_rect) {
  return Add(Role::kText, std::move(id), std::move(text), px_rect);
}

SemItem& Semantics::Button(std::string id, std::string name, SemRect px_rect) {
  return Add(Role::kButton, std::move(id), std::move(name), px_rect);
}

SemItem& Semantics::Radio(std::string id, std::string name, SemRect px_rect, bool checked) {
  SemItem& it = Add(Role::kRadio, std::move(id), std::move(name), px_rect);
  it.checked = checked ? Tri::kTrue : Tri::kFalse;
  return it;
}

SemItem& Semantics::Checkbox(std::string id, std::string name, SemRect px_rect, bool checked) {
  SemItem& it = Add(Role::kCheckbox, std::move(id), std::move(name), px_rect);
  it.checked = checked ? Tri::kTrue : Tri::kFalse;
  return it;
}

SemItem& Semantics::TextField(std::string id, std::string name, SemRect px_rect) {
  return Add(Role::kTextField, std::move(id), std::move(name), px_rect);
}

SemItem& Semantics::Status(std::string id, std::string text) {
  return Add(Role::kStatus, std::move(id), std::move(text), SemRect{});
}

SemItem& Semantics::BeginGroup(Role role, std::string id, std::string name, SemRect px_rect) {
  SemItem& it = Add(role, std::move(id), std::move(name), px_rect);
  open_.push_back(static_cast<int>(items_.size()) - 1);
  return it;
}

void Semantics::EndGroup() {
  if (!open_.empty()) open_.pop_back();
}

SemItem* Semantics::Find(const std::string& id) {
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (it->id == id) return &*it;
  }
  return nullptr;
}

void Semantics::EndFrame() {
  open_.clear();
  // Most frames draw what the last one drew (hover, idle redraws): comparing is cheaper than
  // serialising, which is left for frames that changed something.
  if (version_ > 0 && lang_ == last_lang_ && announce_ == last_announce_ &&
      items_.size() == last_items_.size() &&
      std::equal(items_.begin(), items_.end(), last_items_.begin(), Same)) {
    return;
  }
  last_items_ = items_;
  last_lang_ = lang_;
  last_announce_ = announce_;
  std::string out = "{\"lang\":";
  Quote(&out, lang_);
  out += ",\"announce\":";
  Quote(&out, announce_);
  out += ",\"items\":[";
  for (std::size_t i = 0; i < items_.size(); ++i) {
    const SemItem& it = items_[i];
    if (i > 0) out += ",";
    out += "{\"id\":";
    Quote(&out, it.id);
    out += ",\"role\":\"";
    out += RoleName(it.role);
    out += "\"";
    Field(&out, "name", it.name);
    Field(&out, "description", it.description);
    Field(&out, "labelled_by", it.labelled_by);
    Field(&out, "described_by", it.described_by);
    Field(&out, "lang", it.lang);
    Field(&out, "error", it.error);
    Int(&out, "x", it.rect.x);
    Int(&out, "y", it.rect.y);
    Int(&out, "w", it.rect.w);
    Int(&out, "h", it.rect.h);
    if (it.pressed != Tri::kNone)
      out += it.pressed == Tri::kTrue ? ",\"pressed\":true" : ",\"pressed\":false";
    if (it.checked != Tri::kNone)
      out += it.checked == Tri::kTrue ? ",\"checked\":true" : ",\"checked\":false";
    if (it.disabled) out += ",\"disabled\":true";
    if (it.level > 0) out += ",\"level\":" + std::to_string(it.level);
    out += ",\"parent\":" + std::to_string(it.parent);
    out += "}";
  }
  out += "]}";
  if (out != json_) {
    json_ = std::move(out);
    ++version_;
  }
}

}  // namespace canvass::host
