#include "painter.h"

#include <algorithm>
#include <cfloat>

namespace canvass::ui {
namespace {

bool Outside(Rect r, const Rect* visible) {
  return visible && (r.y + r.h <= visible->y || r.y >= visible->y + visible->h);
}

}  // namespace

void DrawFocusRing(const UiFrame& frame, const std::string& focus, float scale, ImU32 colour) {
  if (focus.empty()) return;
  for (const UiItem& it : frame.items) {
    if (it.id != focus) continue;
    const float pad = 3 * scale;
    ImGui::GetForegroundDrawList()->AddRect(
        ImVec2(it.rect.x - pad, it.rect.y - pad),
        ImVec2(it.rect.x + it.rect.w + pad, it.rect.y + it.rect.h + pad), colour, 8 * scale, 0,
        3 * scale);
    return;
  }
}

void WrappedLabel(Painter& p, Rect r, const std::string& label, ImFont* font, ImU32 colour) {
  if (label.empty()) return;
  const float size = font->FontSize, s = p.s;
  ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, r.w - 12 * s, label.c_str());
  p.dl->AddText(font, size, ImVec2(r.x + (r.w - ts.x) / 2, r.y + (r.h - ts.y) / 2), colour,
                label.c_str(), nullptr, r.w - 12 * s);
}

void ClippedLabel(Painter& p, Rect r, const std::string& label, ImFont* font, ImU32 colour) {
  const float tw = p.Width(font, label), s = p.s;
  p.dl->PushClipRect(ImVec2(r.x + 6 * s, r.y), ImVec2(r.x + 6 * s + (r.w - 12 * s), r.y + r.h),
                     true);
  p.Text(font, r.x + std::max(6 * s, (r.w - tw) / 2), r.y + (r.h - font->FontSize) / 2, colour,
         label);
  p.dl->PopClipRect();
}

bool Painter::Hit(const std::string& id, Rect r, bool* hovered, bool* held) {
  ImGui::SetCursorScreenPos(ImVec2(r.x, r.y));
  ImGui::PushID(id.c_str());
  const bool clicked =
      ImGui::InvisibleButton("b", ImVec2(std::max(r.w, 1.0f), std::max(r.h, 1.0f)));
  *hovered = ImGui::IsItemHovered();
  if (held) *held = ImGui::IsItemActive();
  ImGui::PopID();
  return clicked;
}

bool Painter::Button(const std::string& id, Rect r, const std::string& label, ImFont* font,
                     Look look, const SemAs& as, const Rect* visible) {
  if (Outside(r, visible)) return false;
  bool hovered = false, held = false;
  const bool clicked = Hit(id, r, &hovered, &held);
  const LookColours& c = style.looks[static_cast<int>(look)];
  ImU32 fill = *(hovered ? c.fill_hover : c.fill);
  if (held && c.fill_held) fill = *c.fill_held;
  const ImVec2 a(r.x, r.y), b(r.x + r.w, r.y + r.h);
  dl->AddRectFilled(a, b, fill, style.radius * s);
  if (c.border && style.border_width > 0) {
    dl->AddRect(a, b, *c.border, style.radius * s, 0, style.border_width * s);
  }
  style.label(*this, r, label, font, *c.text);
  Item(id, r, visible);
  host::SemItem& item = sem().Add(as.role, id, as.name.empty() ? label : as.name, r);
  item.checked = as.checked;
  item.pressed = as.pressed;
  item.lang = as.lang;
  item.disabled = as.disabled;
  return clicked && look != Look::kDisabled;
}

void Painter::Item(const std::string& id, Rect r, const Rect* visible) {
  if (!visible) {
    frame->items.push_back({id, r});
    return;
  }
  // Only what can be seen (and clicked) is reported.
  const float top = std::max(r.y, visible->y);
  const float bottom = std::min(r.y + r.h, visible->y + visible->h);
  if (bottom - top < 1) return;
  frame->items.push_back({id, Rect{r.x, top, r.w, bottom - top}});
}

bool Painter::TextField(const std::string& key, Rect r, bool multiline,
                        const std::string& placeholder, const Rect* visible) {
  if (Outside(r, visible)) return false;
  const ImVec2 a(r.x, r.y), b(r.x + r.w, r.y + r.h);
  dl->AddRectFilled(a, b, *style.field_fill, style.field_radius * s);
  dl->AddRect(a, b, *style.field_border, style.field_radius * s, 0, 1.5f * s);
  frame->text_fields.push_back({key, r, multiline, f.body->FontSize, placeholder});
  Item("field:" + key, r, visible);
  return true;
}

float Painter::Width(ImFont* font, const std::string& text) const {
  return font->CalcTextSizeA(font->FontSize, FLT_MAX, 0, text.c_str()).x;
}

float Painter::Text(ImFont* font, float x, float y, ImU32 colour, const std::string& text) {
  dl->AddText(font, font->FontSize, ImVec2(x, y), colour, text.c_str());
  return Width(font, text);
}

void Painter::TextRight(ImFont* font, float right, float y, ImU32 colour, const std::string& text) {
  Text(font, right - Width(font, text), y, colour, text);
}

void Painter::TextCentered(ImFont* font, float cx, float y, ImU32 colour, const std::string& text) {
  Text(font, cx - Width(font, text) / 2, y, colour, text);
}

float Painter::Paragraph(ImFont* font, float x, float y, float wrap, const std::string& text,
                         ImU32 colour, bool centered) {
  if (text.empty()) return 0;
  const float size = font->FontSize;
  ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, wrap, text.c_str());
  if (centered) {
    // Centre each wrapped line on its own.
    const char* p = text.c_str();
    const char* end = p + text.size();
    float line_y = y;
    while (p < end) {
      const char* line_end = font->CalcWordWrapPositionA(1.0f, p, end, wrap);
      if (line_end == p) line_end = p + 1;
      const char* trimmed = line_end;
      while (trimmed > p && (trimmed[-1] == ' ' || trimmed[-1] == '\n')) --trimmed;
      ImVec2 ls = font->CalcTextSizeA(size, FLT_MAX, 0, p, trimmed);
      dl->AddText(font, size, ImVec2(x + (wrap - ls.x) / 2, line_y), colour, p, trimmed);
      line_y += size;
      p = line_end;
      while (p < end && (*p == ' ' || *p == '\n')) ++p;
    }
    return std::max(ts.y, line_y - y);
  }
  dl->AddText(font, size, ImVec2(x, y), colour, text.c_str(), text.c_str() + text.size(), wrap);
  return ts.y;
}

float Painter::Label(host::Role role, const std::string& id, ImFont* font, float x, float y,
                     float wrap, const std::string& text, ImU32 colour, bool centered) {
  const float h = Paragraph(font, x, y, wrap, text, colour, centered);
  if (!text.empty()) {
    if (role == host::Role::kHeading) {
      sem().Heading(id, text, {x, y, wrap, h});
    } else {
      sem().Add(role, id, text, {x, y, wrap, h});
    }
  }
  return h;
}

bool Painter::BeginPane(Rect r, float* scroll) {
  const ImGuiIO& io = ImGui::GetIO();
  const bool over = io.MousePos.x >= r.x && io.MousePos.x < r.x + r.w && io.MousePos.y >= r.y &&
                    io.MousePos.y < r.y + r.h;
  const bool moved = over && io.MouseWheel != 0;
  if (moved) *scroll -= io.MouseWheel * 48 * s;
  dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), true);
  return moved;
}

void Painter::EndPane(Rect r, float* scroll, float bottom) {
  dl->PopClipRect();
  const float content = bottom + *scroll - r.y;
  *scroll = std::clamp(*scroll, 0.0f, std::max(0.0f, content - r.h));
}

void Painter::Check(ImVec2 a, float box, ImU32 colour) {
  dl->AddLine(ImVec2(a.x + box * 0.2f, a.y + box * 0.5f),
              ImVec2(a.x + box * 0.42f, a.y + box * 0.75f), colour, 3 * s);
  dl->AddLine(ImVec2(a.x + box * 0.42f, a.y + box * 0.75f),
              ImVec2(a.x + box * 0.82f, a.y + box * 0.25f), colour, 3 * s);
}

}  // namespace canvass::ui
