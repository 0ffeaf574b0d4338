#include "ui.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include "imgui.h"
#include "theme.h"
#include "ui/painter.h"
#include "ui/strings.h"

namespace canvass::widget {
namespace {

// [SECTION] UI strings ------------------------------------------------------------------------

// Chrome only; every survey text comes from the survey definition.
constexpr ui::UiString kStrings[] = {
    {"next", "Next", "Далее", "Далі"},
    {"done", "Done", "Готово", "Готово"},
    {"back", "Back", "Назад", "Назад"},
    {"skip", "Skip", "Пропустить", "Пропустити"},
    {"start", "Start", "Начать", "Почати"},
    {"close", "Close", "Закрыть", "Закрити"},
    {"thanks", "Thank you!", "Спасибо!", "Дякуємо!"},
    {"saving", "Saving...", "Сохраняем...", "Зберігаємо..."},
    {"loading", "Loading...", "Загрузка...", "Завантаження..."},
    {"important", "Important", "Важно", "Важливо"},
    {"not_important", "Not important", "Не важно", "Не важливо"},
    {"how_important", "How important is this to you?", "Насколько это важно для вас?",
     "Наскільки це важливо для вас?"},
    {"how_satisfied", "How satisfied are you?", "Насколько вы довольны?",
     "Наскільки ви задоволені?"},
    {"other", "Other", "Другое", "Інше"},
    {"type_here", "Type here", "Напишите здесь", "Напишіть тут"},
    {"name", "Name", "Имя", "Ім'я"},
    {"phone", "Phone", "Телефон", "Телефон"},
    {"email", "Email", "Эл. почта", "Ел. пошта"},
    {"not_enrolled", "This kiosk is not enrolled yet", "Этот киоск ещё не подключён",
     "Цей кіоск ще не підключено"},
    {"enroll_hint", "Enter the enrollment code from the admin", "Введите код подключения",
     "Введіть код підключення"},
    {"enroll", "Enroll", "Подключить", "Підключити"},
    {"staff_pin", "Staff PIN", "PIN сотрудника", "PIN працівника"},
    {"staff_panel", "Staff panel", "Панель сотрудника", "Панель працівника"},
    {"sync_now", "Sync now", "Синхронизировать", "Синхронізувати"},
    {"back_to_survey", "Back to survey", "К опросу", "До опитування"},
    {"exit_kiosk", "Exit kiosk", "Выйти из киоска", "Вийти з кіоска"},
    {"pending", "Records waiting for sync", "Ждут отправки", "Чекають відправлення"},
    {"offline", "offline", "нет сети", "немає мережі"},
    {"online", "online", "в сети", "в мережі"},
    {"last_sync", "Last sync", "Последняя синхронизация", "Остання синхронізація"},
    {"never", "never", "ещё не было", "ще не було"},
    {"seconds_ago", "s ago", " с назад", " с тому"},
    {"storage_refused",
     "This browser refuses to store answers: they are sent at once, and lost if the network is "
     "down. Do not clear browser data.",
     "Браузер не даёт сохранять ответы: они отправляются сразу и теряются без сети.",
     "Браузер не дає зберігати відповіді: вони надсилаються одразу і губляться без мережі."},
    {"device", "Device", "Устройство", "Пристрій"},
    {"wrong_pin", "Wrong PIN", "Неверный PIN", "Невірний PIN"},
    // Only for assistive technology (the semantics tree): never drawn.
    {"question", "Question", "Вопрос", "Питання"},
    {"of", "of", "из", "з"},
    {"erase", "Erase", "Стереть", "Стерти"},
    {"language", "Language", "Язык", "Мова"},
    {"digits_entered", "digits entered", "цифр введено", "цифр введено"},
};

// [SECTION] Colours and sizes -----------------------------------------------------------------

using Rect = ui::Rect;
using ui::Col;
using ui::Look;
using ui::SemAs;
using ui::TriOf;

// The colours in use: the standard palette, or the high-contrast one (UseHighContrast).
struct Colours {
  ImU32 background, ink, muted, button, button_hover, border, accent, accent_dark, on_accent, error,
      star, ok, warn, ok_text, warn_text;
};
constexpr Colours ColoursOf(const theme::Palette& p) {
  return {Col(p.background),   Col(p.ink),     Col(p.muted),    Col(p.button),
          Col(p.button_hover), Col(p.border),  Col(p.accent),   Col(p.accent_dark),
          Col(p.on_accent),    Col(p.error),   Col(p.star),     Col(p.ok),
          Col(p.warn),         Col(p.ok_text), Col(p.warn_text)};
}
Colours g_colours = ColoursOf(theme::kStandard);
Colours g_other_colours = ColoursOf(theme::kHighContrast);  // the palette not in use
// Big touch targets: rounded, bordered, labels wrapped and centred; in the colours in use.
constexpr ui::Style kStyle{
    .looks = {/* kPlain */ {&g_colours.button, &g_colours.button_hover, &g_colours.button_hover,
                            &g_colours.ink, &g_colours.border},
              /* kSelected */
              {&g_colours.accent, &g_colours.accent, nullptr, &g_colours.on_accent,
               &g_colours.accent_dark},
              /* kPrimary */
              {&g_colours.accent, &g_colours.accent, &g_colours.accent_dark, &g_colours.on_accent,
               &g_colours.accent_dark},
              /* kQuiet */
              {&g_colours.background, &g_colours.button_hover, &g_colours.button_hover,
               &g_colours.muted, nullptr},
              /* kDisabled (not used) */
              {&g_colours.button, &g_colours.button, nullptr, &g_colours.muted, &g_colours.border}},
    .radius = 10,
    .border_width = 1.5f,
    .label = ui::WrappedLabel,
    .field_fill = &g_colours.on_accent,
    .field_border = &g_colours.border,
    .field_radius = 8};
bool g_high_contrast = false;
constexpr float kPi = 3.14159265f;

ImU32 Lerp(ImU32 a, ImU32 b, float t) {
  ImVec4 ca = ImGui::ColorConvertU32ToFloat4(a), cb = ImGui::ColorConvertU32ToFloat4(b);
  return ImGui::ColorConvertFloat4ToU32(
      ImVec4(ca.x + (cb.x - ca.x) * t, ca.y + (cb.y - ca.y) * t, ca.z + (cb.z - ca.z) * t, 1.0f));
}

// [SECTION] Painter: the toolkit's, with the widget's model (a click restarts its idle timer) --

class Painter : public ui::Painter {
 public:
  Painter(Widget& w, const UiFonts& fonts, float s, std::int64_t now, UiFrame* frame)
      : ui::Painter(kStyle, fonts, s, frame), w_(w), now_(now) {}

  std::string T(const char* key) const { return UiText(w_.language(), key); }

  bool Button(const std::string& id, Rect r, const std::string& label, ImFont* font, Look look,
              const SemAs& as = {}) {
    const bool clicked = ui::Painter::Button(id, r, label, font, look, as);
    if (clicked) w_.Touch(now_);
    return clicked;
  }

  // `name` is what assistive technology calls the field (its visible label or the question).
  void TextField(const std::string& key, Rect r, bool multiline, const std::string& placeholder,
                 const std::string& name) {
    ui::Painter::TextField(key, r, multiline, placeholder);
    sem().TextField("field:" + key, name, r);
  }

  Widget& w() { return w_; }
  std::int64_t now() const { return now_; }

 private:
  Widget& w_;
  std::int64_t now_;
};

// [SECTION] Scales: numbers, smileys, stars ---------------------------------------------------

void DrawSmiley(ImDrawList* dl, ImVec2 c, float r, float t, bool selected, bool hovered, float s) {
  // t in [-1, 1]: -1 sad, 0 neutral, 1 happy. Colour from red through amber to green.
  ImU32 face = t < 0 ? Lerp(IM_COL32(239, 68, 68, 255), IM_COL32(250, 204, 21, 255), t + 1)
                     : Lerp(IM_COL32(250, 204, 21, 255), IM_COL32(34, 197, 94, 255), t);
  if (!selected && !hovered) face = Lerp(face, g_colours.background, 0.35f);
  if (selected) dl->AddCircle(c, r + 5 * s, g_colours.accent, 0, 4 * s);
  dl->AddCircleFilled(c, r, face, 0);
  const ImU32 ink = IM_COL32(40, 30, 20, 255);
  dl->AddCircleFilled(ImVec2(c.x - r * 0.33f, c.y - r * 0.22f), r * 0.1f, ink);
  dl->AddCircleFilled(ImVec2(c.x + r * 0.33f, c.y - r * 0.22f), r * 0.1f, ink);
  const int n = 16;
  const float half = r * 0.45f, base = c.y + r * 0.32f;
  ImVec2 points[n + 1];
  for (int i = 0; i <= n; ++i) {
    const float u = -1.0f + 2.0f * static_cast<float>(i) / n;
    points[i] = ImVec2(c.x + u * half, base + t * r * 0.22f * (1 - u * u) - t * r * 0.08f);
  }
  dl->AddPolyline(points, n + 1, ink, 0, r * 0.09f);
}

void DrawStar(ImDrawList* dl, ImVec2 c, float r, ImU32 colour) {
  ImVec2 p[10];
  for (int i = 0; i < 10; ++i) {
    const float a = -kPi / 2 + static_cast<float>(i) * kPi / 5;
    const float rr = i % 2 == 0 ? r : r * 0.45f;
    p[i] = ImVec2(c.x + std::cos(a) * rr, c.y + std::sin(a) * rr);
  }
  for (int i = 0; i < 10; ++i) dl->AddTriangleFilled(c, p[i], p[(i + 1) % 10], colour);
}

// A row (or two) of scale points; returns the height used. `selected` = -1 for none. For
// assistive technology the row is a radio group labelled by the items `label_ids` (the question)
// and described by its end labels.
float ScaleRow(Painter& p, const std::string& prefix, const Scale& scale, float x, float y,
               float width, std::int32_t selected, std::int32_t* clicked,
               const std::string& label_ids) {
  const float s = p.s;
  const int n = scale.max - scale.min + 1;
  const std::string& lang = p.w().language();
  const std::string& fallback = p.w().survey() ? p.w().survey()->fallback_language : lang;
  const std::string lo = scale.min_label.empty() ? "" : scale.min_label.Get(lang, fallback);
  const std::string hi = scale.max_label.empty() ? "" : scale.max_label.Get(lang, fallback);
  host::SemItem& group =
      p.sem().BeginGroup(host::Role::kRadioGroup, prefix + "group", "", {x, y, width, 0});
  group.labelled_by = label_ids;
  if (!lo.empty()) group.described_by = prefix + "lo";
  if (!hi.empty()) group.described_by += (group.described_by.empty() ? "" : " ") + prefix + "hi";
  const float gap = 8 * s;
  float total = 0;
  if (scale.style == ScaleStyle::kSmileys || scale.style == ScaleStyle::kStars) {
    const float cell = std::min((width - gap * (n - 1)) / n, 120 * s);
    const float row_w = cell * n + gap * (n - 1);
    const float x0 = x + (width - row_w) / 2;
    for (int i = 0; i < n; ++i) {
      const std::int32_t v = scale.min + i;
      Rect r{x0 + i * (cell + gap), y, cell, cell};
      const std::string id = prefix + std::to_string(v);
      bool hovered = false;
      if (p.Hit(id, r, &hovered)) {
        *clicked = v;
        p.w().Touch(p.now());
      }
      p.Item(id, r);
      p.sem().Radio(id, std::to_string(v), r, v == selected);
      const ImVec2 c(r.x + cell / 2, r.y + cell / 2);
      if (scale.style == ScaleStyle::kSmileys) {
        const float t = n == 1 ? 0 : -1.0f + 2.0f * static_cast<float>(i) / (n - 1);
        DrawSmiley(p.dl, c, cell * 0.42f, t, v == selected, hovered, s);
      } else {
        const bool lit = selected >= 0 ? v <= selected : false;
        DrawStar(p.dl, c, cell * 0.45f,
                 lit ? g_colours.star : (hovered ? g_colours.button_hover : g_colours.border));
      }
    }
    total = cell;
  } else {
    int per_row = n;
    float cell = (width - gap * (n - 1)) / n;
    if (cell < 44 * s && n > 6) {  // too small to hit with a finger: two rows
      per_row = (n + 1) / 2;
      cell = (width - gap * (per_row - 1)) / per_row;
    }
    const float h = std::clamp(cell, 56 * s, 96 * s);
    ImFont* font = cell > 64 * s ? p.f.huge : p.f.large;
    for (int i = 0; i < n; ++i) {
      const std::int32_t v = scale.min + i;
      const int row = i / per_row, col = i % per_row;
      Rect r{x + col * (cell + gap), y + row * (h + gap), cell, h};
      SemAs as;
      as.role = host::Role::kRadio;
      as.checked = TriOf(v == selected);
      if (p.Button(prefix + std::to_string(v), r, std::to_string(v), font,
                   v == selected ? Look::kSelected : Look::kPlain, as)) {
        *clicked = v;
      }
    }
    const int rows = (n + per_row - 1) / per_row;
    total = rows * h + (rows - 1) * gap;
  }
  p.sem().EndGroup();
  // End labels ("not at all likely" ... "extremely likely"); read with their values ("0: ...").
  if (!lo.empty() || !hi.empty()) {
    ImFont* f = p.f.body;
    const float ly = y + total + 6 * s;
    const float lh = p.Paragraph(f, x, ly, width / 2, lo, g_colours.muted);
    ImVec2 hs = f->CalcTextSizeA(f->FontSize, FLT_MAX, width / 2, hi.c_str());
    p.Paragraph(f, x + width - hs.x, ly, width / 2, hi, g_colours.muted);
    if (!lo.empty()) {
      p.sem().Text(prefix + "lo", std::to_string(scale.min) + ": " + lo, {x, ly, width / 2, lh});
    }
    if (!hi.empty()) {
      p.sem().Text(prefix + "hi", std::to_string(scale.max) + ": " + hi,
                   {x + width - hs.x, ly, hs.x, hs.y});
    }
    total += 6 * s + f->FontSize * 1.3f;
  }
  return total;
}

// [SECTION] Screens ---------------------------------------------------------------------------

struct Layout {
  float width, height, x0, cw, pad;
};

// `left`: the leftmost x the buttons may use; when the full names do not fit, codes are shown.
void LanguageButtons(Painter& p, const Layout& l, float y, bool centered, float left = 0) {
  const Survey* survey = p.w().survey();
  if (!survey || survey->languages.size() < 2) return;
  const float s = p.s;
  ImFont* f = p.f.body;
  auto measure = [&](bool codes, std::vector<std::string>* labels, std::vector<float>* widths) {
    float total = 0;
    labels->clear();
    widths->clear();
    for (const std::string& code : survey->languages) {
      std::string label = ui::LanguageName(code);
      if (codes) {
        label = code;
        for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      widths->push_back(f->CalcTextSizeA(f->FontSize, FLT_MAX, 0, label.c_str()).x + 28 * s);
      labels->push_back(std::move(label));
      total += widths->back() + 8 * s;
    }
    return total;
  };
  std::vector<std::string> labels;
  std::vector<float> widths;
  float total = measure(false, &labels, &widths);
  float x = centered ? (l.width - total) / 2 : l.width - l.pad - total;
  if (x < left) {
    total = measure(true, &labels, &widths);
    x = centered ? (l.width - total) / 2 : l.width - l.pad - total;
  }
  for (std::size_t i = 0; i < survey->languages.size(); ++i) {
    const std::string& code = survey->languages[i];
    Rect r{x, y, widths[i], 44 * s};
    SemAs as;
    as.name = ui::LanguageName(code);  // the full name even where the code is drawn
    as.lang = code.c_str();
    as.pressed = TriOf(code == p.w().language());
    if (p.Button("lang:" + code, r, labels[i], f,
                 code == p.w().language() ? Look::kSelected : Look::kQuiet, as)) {
      p.w().SetLanguage(code);
    }
    x += widths[i] + 8 * s;
  }
}

void DrawQuestion(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const Question* q = w.current();
  const Survey* survey = w.survey();
  if (!q || !survey) return;
  const float s = p.s;
  const std::string& lang = w.language();
  const std::string& fb = survey->fallback_language;
  const Draft& d = w.draft();
  const bool embed = w.options().mode == Mode::kEmbed;

  // Top bar: progress, languages, close.
  float y = l.pad * 0.5f;
  const FlowSession* session = w.session();
  std::string progress = std::to_string(session->ShownCount()) + " / " +
                         std::to_string(std::max(session->EstimatedTotal(), session->ShownCount()));
  p.Paragraph(p.f.body, l.pad, y + 10 * s, l.width, progress, g_colours.muted);
  // Read as "Question 2 of 7", and said on arrival with the question's text.
  const std::string question_text = q->text.Get(lang, fb);
  const std::string spoken_progress =
      p.T("question") + " " + std::to_string(session->ShownCount()) + " " + p.T("of") + " " +
      std::to_string(std::max(session->EstimatedTotal(), session->ShownCount()));
  p.sem().Text("progress", spoken_progress, {l.pad, y + 10 * s, 80 * s, p.f.body->FontSize});
  p.sem().Announce(spoken_progress + ": " + question_text);
  float right = l.width - l.pad;
  if (embed) {
    Rect close{right - 44 * s, y, 44 * s, 44 * s};
    SemAs as;
    as.name = p.T("close");
    if (p.Button("close", close, "X", p.f.body, Look::kQuiet, as)) w.Close(p.now());
    right -= 52 * s;
  }
  Layout bar = l;
  bar.width = right + l.pad;
  const float progress_w =
      p.f.body->CalcTextSizeA(p.f.body->FontSize, FLT_MAX, 0, progress.c_str()).x;
  LanguageButtons(p, bar, y, false, l.pad + progress_w + 12 * s);
  y += 60 * s;

  const std::string heading = "q:" + q->id;
  y += p.Label(host::Role::kHeading, heading, p.f.large, l.x0, y, l.cw, question_text,
               g_colours.ink) +
       10 * s;
  if (!q->hint.empty()) {
    y += p.Label(host::Role::kText, "hint:" + q->id, p.f.body, l.x0, y, l.cw, q->hint.Get(lang, fb),
                 g_colours.muted);
  }
  y += 16 * s;

  bool needs_next = false;
  std::int32_t clicked = -1;
  switch (q->kind) {
    case QuestionKind::kNps:
    case QuestionKind::kRating: {
      y += ScaleRow(p, q->kind == QuestionKind::kNps ? "nps:" : "rating:", q->scale, l.x0, y, l.cw,
                    d.scale, &clicked, heading);
      if (clicked >= 0) w.ChooseScale(clicked, p.now());
      break;
    }
    case QuestionKind::kCsiAttribute: {
      const std::string how_important = "csi:" + q->id + ":how_important";
      y += p.Label(host::Role::kText, how_important, p.f.body, l.x0, y, l.cw, p.T("how_important"),
                   g_colours.muted) +
           8 * s;
      if (q->importance_binary) {
        const float bw = (l.cw - 12 * s) / 2;
        p.sem()
            .BeginGroup(host::Role::kRadioGroup, "csi:" + q->id + ":importance:group", "",
                        {l.x0, y, l.cw, 64 * s})
            .labelled_by = heading + " " + how_important;
        SemAs yes, no;
        yes.role = no.role = host::Role::kRadio;
        yes.checked = TriOf(d.importance == 1);
        no.checked = TriOf(d.importance == 0);
        const bool important =
            p.Button("csi:" + q->id + ":importance:1", Rect{l.x0, y, bw, 64 * s}, p.T("important"),
                     p.f.body, d.importance == 1 ? Look::kSelected : Look::kPlain, yes);
        const bool not_important = p.Button(
            "csi:" + q->id + ":importance:0", Rect{l.x0 + bw + 12 * s, y, bw, 64 * s},
            p.T("not_important"), p.f.body, d.importance == 0 ? Look::kSelected : Look::kPlain, no);
        p.sem().EndGroup();
        if (important) {
          w.SetImportance(1, p.now());
        } else if (not_important) {
          w.SetImportance(0, p.now());
        }
        y += 64 * s;
      } else {
        y += ScaleRow(p, "csi:" + q->id + ":importance:", q->importance, l.x0, y, l.cw,
                      d.importance, &clicked, heading + " " + how_important);
        if (clicked >= 0) w.SetImportance(clicked, p.now());
      }
      if (w.current() != q) return;  // answered and moved on this frame
      y += 20 * s;
      const std::string how_satisfied = "csi:" + q->id + ":how_satisfied";
      y += p.Label(host::Role::kText, how_satisfied, p.f.body, l.x0, y, l.cw, p.T("how_satisfied"),
                   g_colours.muted) +
           8 * s;
      clicked = -1;
      y += ScaleRow(p, "csi:" + q->id + ":satisfaction:", q->scale, l.x0, y, l.cw, d.satisfaction,
                    &clicked, heading + " " + how_satisfied);
      if (clicked >= 0) w.SetSatisfaction(clicked, p.now());
      break;
    }
    case QuestionKind::kSingleChoice:
    case QuestionKind::kMultiChoice: {
      needs_next = true;
      const bool multi = q->kind == QuestionKind::kMultiChoice;
      p.sem()
          .BeginGroup(multi ? host::Role::kGroup : host::Role::kRadioGroup, "choices:" + q->id, "",
                      {l.x0, y, l.cw, 0})
          .labelled_by = heading;
      auto row = [&](const std::string& id, const std::string& label, bool on) {
        Rect r{l.x0, y, l.cw, 60 * s};
        SemAs as;
        as.role = multi ? host::Role::kCheckbox : host::Role::kRadio;
        as.name = label;
        as.checked = TriOf(on);
        bool hit = p.Button(id, r, "", p.f.body, on ? Look::kSelected : Look::kPlain, as);
        const float box = 26 * s;
        ImVec2 a(r.x + 16 * s, r.y + (r.h - box) / 2);
        if (multi) {
          p.dl->AddRect(a, ImVec2(a.x + box, a.y + box), on ? g_colours.on_accent : g_colours.muted,
                        4 * s, 0, 2 * s);
          if (on) p.Check(a, box, g_colours.on_accent);
        } else {
          ImVec2 c(a.x + box / 2, a.y + box / 2);
          p.dl->AddCircle(c, box / 2, on ? g_colours.on_accent : g_colours.muted, 0, 2 * s);
          if (on) p.dl->AddCircleFilled(c, box * 0.25f, g_colours.on_accent);
        }
        p.Paragraph(p.f.body, r.x + 56 * s, r.y + (r.h - p.f.body->FontSize) / 2, r.w - 64 * s,
                    label, on ? g_colours.on_accent : g_colours.ink);
        y += r.h + 8 * s;
        return hit;
      };
      for (const Choice& c : q->choices) {
        if (row("choice:" + c.id, c.text.Get(lang, fb), d.choices.count(c.id) > 0)) {
          w.ToggleChoice(c.id);
        }
      }
      if (q->allow_other) {
        if (row("other", p.T("other"), d.other_selected)) w.ToggleOther();
      }
      p.sem().EndGroup();
      if (q->allow_other && w.draft().other_selected) {
        p.TextField("other", Rect{l.x0, y, l.cw, 52 * s}, false, p.T("type_here"), p.T("other"));
        y += 60 * s;
      }
      break;
    }
    case QuestionKind::kText: {
      needs_next = true;
      const float h = std::clamp(l.height * 0.25f, 100 * s, 220 * s);
      p.TextField("text", Rect{l.x0, y, l.cw, h}, true, p.T("type_here"), question_text);
      y += h + 8 * s;
      break;
    }
    case QuestionKind::kContact: {
      needs_next = true;
      ImFont* f = p.f.body;
      const std::string consent = q->consent_text.Get(lang, fb);
      const float th = f->CalcTextSizeA(f->FontSize, FLT_MAX, l.cw - 72 * s, consent.c_str()).y;
      Rect r{l.x0, y, l.cw, std::max(64 * s, th + 24 * s)};
      SemAs as;
      as.role = host::Role::kCheckbox;
      as.name = consent;
      as.checked = TriOf(d.consent);
      if (p.Button("consent", r, "", f, Look::kPlain, as)) w.SetConsent(!d.consent);
      const float box = 30 * s;
      ImVec2 a(r.x + 16 * s, r.y + (r.h - box) / 2);
      p.dl->AddRectFilled(a, ImVec2(a.x + box, a.y + box),
                          w.draft().consent ? g_colours.accent : g_colours.on_accent, 4 * s);
      p.dl->AddRect(a, ImVec2(a.x + box, a.y + box), g_colours.muted, 4 * s, 0, 2 * s);
      if (w.draft().consent) p.Check(a, box, g_colours.on_accent);
      p.Paragraph(f, r.x + 60 * s, r.y + (r.h - th) / 2, l.cw - 72 * s, consent, g_colours.ink);
      y += r.h + 12 * s;
      if (w.draft().consent) {
        for (const std::string& field : q->contact_fields) {
          y += p.Paragraph(f, l.x0, y, l.cw, p.T(field.c_str()), g_colours.muted) + 4 * s;
          p.TextField("contact." + field, Rect{l.x0, y, l.cw, 52 * s}, false, "",
                      p.T(field.c_str()));
          y += 60 * s;
        }
      }
      break;
    }
  }
  if (w.current() != q || w.screen() != Screen::kQuestion) return;

  if (!w.error().empty()) {
    y += p.Paragraph(p.f.body, l.x0, y + 8 * s, l.cw, w.error(), g_colours.error);
    p.sem().Status("error", w.error());
    for (const std::string& id :
         {"choices:" + q->id, std::string("field:text"), std::string("field:other"),
          std::string("nps:group"), std::string("rating:group")}) {
      if (host::SemItem* it = p.sem().Find(id)) it->error = w.error();
    }
  }

  // Bottom navigation.
  const float by = std::max(y + 24 * s, l.height - l.pad - 64 * s);
  const float bw = std::min(240 * s, (l.cw - 12 * s) / 2);
  if (session->ShownCount() > 1) {
    if (p.Button("back", Rect{l.x0, by, bw, 64 * s}, p.T("back"), p.f.body, Look::kQuiet)) {
      w.Back();
      return;
    }
  }
  const bool empty_optional = !q->required && !needs_next;
  if (needs_next || empty_optional) {
    const char* label = needs_next ? "next" : "skip";
    if (p.Button(needs_next ? "next" : "skip", Rect{l.x0 + l.cw - bw, by, bw, 64 * s}, p.T(label),
                 p.f.body, needs_next ? Look::kPrimary : Look::kQuiet)) {
      w.Next(p.now());
    }
  }
}

void DrawAttract(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const Survey* survey = w.survey();
  const float s = p.s;
  const std::string& lang = w.language();
  float y = l.height * 0.22f;
  if (survey) {
    const std::string title = survey->title.Get(lang, survey->fallback_language);
    y += p.Label(host::Role::kHeading, "title", p.f.huge, l.x0, y, l.cw, title, g_colours.ink,
                 true) +
         16 * s;
    p.sem().Announce(title);
    if (!survey->intro.empty()) {
      y += p.Label(host::Role::kText, "intro", p.f.large, l.x0, y, l.cw,
                   survey->intro.Get(lang, survey->fallback_language), g_colours.muted, true);
    }
  }
  y += 40 * s;
  const float bw = std::min(l.cw, 420 * s);
  if (p.Button("start", Rect{(l.width - bw) / 2, y, bw, 96 * s}, p.T("start"), p.f.huge,
               Look::kPrimary)) {
    w.Start(p.now());
  }
  LanguageButtons(p, l, l.height - l.pad - 44 * s, true);
  // Staff corner: a small dot shows sync state (green synced, amber waiting, grey offline).
  Rect staff{l.width - 56 * s, 8 * s, 48 * s, 48 * s};
  SemAs staff_as;
  staff_as.name = p.T("staff_panel");
  if (p.Button("staff", staff, "", p.f.body, Look::kQuiet, staff_as)) w.OpenStaff();
  const DeviceStatus& st = w.status();
  ImU32 dot = !st.online ? g_colours.muted : (st.pending > 0 ? g_colours.warn : g_colours.ok);
  if (!st.persistent_storage) dot = g_colours.error;
  p.dl->AddCircleFilled(ImVec2(staff.x + staff.w / 2, staff.y + staff.h / 2), 7 * s, dot);
}

// A screen of one message (loading, saving, an error): a status that is also announced.
void DrawCentered(Painter& p, const Layout& l, const std::string& text, ImFont* font) {
  const float h = font->CalcTextSizeA(font->FontSize, FLT_MAX, l.cw, text.c_str()).y;
  p.Label(host::Role::kText, "message", font, l.x0, (l.height - h) / 2, l.cw, text, g_colours.ink,
          true);
  p.sem().Announce(text);
}

void DrawThanks(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const Survey* survey = w.survey();
  const float s = p.s;
  std::string text = p.T("thanks");
  if (survey && !survey->thanks.empty())
    text = survey->thanks.Get(w.language(), survey->fallback_language);
  const ImVec2 c(l.width / 2, l.height * 0.35f);
  const float r = std::min(60 * s, l.height * 0.12f);
  p.dl->AddCircleFilled(c, r, g_colours.ok);
  p.dl->AddLine(ImVec2(c.x - r * 0.45f, c.y), ImVec2(c.x - r * 0.1f, c.y + r * 0.35f),
                g_colours.on_accent, r * 0.14f);
  p.dl->AddLine(ImVec2(c.x - r * 0.1f, c.y + r * 0.35f), ImVec2(c.x + r * 0.5f, c.y - r * 0.35f),
                g_colours.on_accent, r * 0.14f);
  p.Label(host::Role::kHeading, "thanks", p.f.large, l.x0, c.y + r + 24 * s, l.cw, text,
          g_colours.ink, true);
  p.sem().Announce(text);
  if (w.options().mode == Mode::kEmbed) {
    Rect close{l.width - l.pad - 44 * s, l.pad * 0.5f, 44 * s, 44 * s};
    SemAs as;
    as.name = p.T("close");
    if (p.Button("close", close, "X", p.f.body, Look::kQuiet, as)) w.Close(p.now());
  }
}

void DrawEnroll(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const float s = p.s;
  float y = l.height * 0.2f;
  y += p.Label(host::Role::kHeading, "title", p.f.large, l.x0, y, l.cw, p.T("not_enrolled"),
               g_colours.ink, true) +
       12 * s;
  p.sem().Announce(p.T("not_enrolled"));
  y += p.Label(host::Role::kText, "hint", p.f.body, l.x0, y, l.cw, p.T("enroll_hint"),
               g_colours.muted, true) +
       20 * s;
  const float fw = std::min(l.cw, 420 * s);
  p.TextField("enroll", Rect{(l.width - fw) / 2, y, fw, 56 * s}, false, "ABCD-EFGH",
              p.T("enroll_hint"));
  y += 72 * s;
  if (p.Button("enroll", Rect{(l.width - fw) / 2, y, fw, 64 * s}, p.T("enroll"), p.f.body,
               Look::kPrimary)) {
    w.RequestEnroll();
  }
  y += 80 * s;
  const std::string& msg = !w.error().empty() ? w.error() : w.status().message;
  p.Paragraph(p.f.body, l.x0, y, l.cw, msg, g_colours.error, true);
  if (!msg.empty()) p.sem().Status("error", msg);
}

void DrawPin(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const float s = p.s;
  float y = l.pad;
  y += p.Label(host::Role::kHeading, "title", p.f.large, l.x0, y, l.cw, p.T("staff_pin"),
               g_colours.ink, true) +
       12 * s;
  p.sem().Announce(p.T("staff_pin"));
  std::string dots(w.pin_entry().size() * 2, ' ');
  for (std::size_t i = 0; i < w.pin_entry().size(); ++i) dots[i * 2] = '*';
  p.Paragraph(p.f.huge, l.x0, y, l.cw, dots.empty() ? " " : dots, g_colours.ink, true);
  p.sem().Text("pin:entered", std::to_string(w.pin_entry().size()) + " " + p.T("digits_entered"),
               {l.x0, y, l.cw, p.f.huge->FontSize});
  y += p.f.huge->FontSize + 12 * s;
  const char* keys[12] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "<", "0", "OK"};
  const float cell = std::min(96 * s, (l.height - y - l.pad - 60 * s) / 4 - 8 * s);
  const float x0 = (l.width - (cell * 3 + 16 * s)) / 2;
  for (int i = 0; i < 12; ++i) {
    Rect r{x0 + (i % 3) * (cell + 8 * s), y + (i / 3) * (cell + 8 * s), cell, cell};
    const std::string key = keys[i];
    const std::string id = key == "<" ? "pin:erase" : key == "OK" ? "pin:ok" : "pin:" + key;
    SemAs as;
    if (key == "<") as.name = p.T("erase");
    if (p.Button(id, r, key, p.f.large, key == "OK" ? Look::kPrimary : Look::kPlain, as)) {
      if (key == "<") {
        w.PinErase();
      } else if (key == "OK") {
        w.PinSubmit();
      } else {
        w.PinDigit(key[0]);
      }
    }
  }
  y += 4 * (cell + 8 * s);
  if (!w.error().empty()) {
    p.Paragraph(p.f.body, l.x0, y, l.cw, p.T("wrong_pin"), g_colours.error, true);
    p.sem().Status("error", p.T("wrong_pin"));
  }
  if (p.Button("pin:cancel", Rect{l.pad, l.pad * 0.5f, 120 * s, 44 * s}, p.T("back"), p.f.body,
               Look::kQuiet)) {
    w.LeaveStaff();
  }
}

void DrawStaff(Painter& p, const Layout& l) {
  Widget& w = p.w();
  const float s = p.s;
  const DeviceStatus& st = w.status();
  ImFont* f = p.f.body;
  float y = l.pad;
  y += p.Label(host::Role::kHeading, "title", p.f.large, l.x0, y, l.cw, p.T("staff_panel"),
               g_colours.ink) +
       16 * s;
  p.sem().Announce(p.T("staff_panel"));
  auto line = [&](const std::string& label, const std::string& value, ImU32 colour) {
    p.Paragraph(f, l.x0, y, l.cw * 0.5f, label, g_colours.muted);
    const float h = p.Paragraph(f, l.x0 + l.cw * 0.5f, y, l.cw * 0.5f, value, colour);
    p.sem().Text("staff:" + label, label + ": " + value, {l.x0, y, l.cw, h});
    y += h + 8 * s;
  };
  line(p.T("device"), w.device_id().empty() ? "-" : w.device_id(), g_colours.ink);
  line(p.T("pending"), std::to_string(st.pending),
       st.pending > 0 ? g_colours.warn_text : g_colours.ok_text);
  std::string last = p.T("never");
  if (st.last_sync_ms > 0) {
    last = std::to_string(std::max<std::int64_t>(0, (p.now() - st.last_sync_ms) / 1000)) +
           p.T("seconds_ago");
  }
  line(p.T("last_sync"), last + " (" + p.T(st.online ? "online" : "offline") + ")",
       st.online ? g_colours.ink : g_colours.warn_text);
  if (!st.persistent_storage) {
    y += p.Label(host::Role::kText, "staff:storage", f, l.x0, y, l.cw, p.T("storage_refused"),
                 g_colours.error) +
         8 * s;
  }
  if (!st.message.empty()) {
    y +=
        p.Label(host::Role::kText, "staff:message", f, l.x0, y, l.cw, st.message, g_colours.error) +
        8 * s;
  }
  y += 16 * s;
  const float bw = std::min(l.cw, 360 * s);
  if (p.Button("staff:sync", Rect{l.x0, y, bw, 60 * s}, p.T("sync_now"), f, Look::kPrimary)) {
    w.RequestSync();
  }
  y += 72 * s;
  if (p.Button("staff:back", Rect{l.x0, y, bw, 60 * s}, p.T("back_to_survey"), f, Look::kPlain)) {
    w.LeaveStaff();
  }
  y += 72 * s;
  if (p.Button("staff:exit", Rect{l.x0, y, bw, 60 * s}, p.T("exit_kiosk"), f, Look::kPlain)) {
    w.RequestExit();
  }
}

}  // namespace

const char* UiText(const std::string& language, const char* key) {
  return ui::LookUp(kStrings, language, key);
}

void UseHighContrast(bool on) {
  if (on != g_high_contrast) std::swap(g_colours, g_other_colours);
  g_high_contrast = on;
}
bool HighContrast() { return g_high_contrast; }

void DrawFocusRing(const UiFrame& frame, const std::string& focus, float scale) {
  ui::DrawFocusRing(frame, focus, scale, g_colours.accent);
}

void DrawWidget(Widget& widget, const UiFonts& fonts, float scale, std::int64_t now_ms,
                UiFrame* frame) {
  ui::StartFrame(frame, widget.language().empty() ? "en" : widget.language(), scale);
  widget.Tick(now_ms);
  const ImGuiIO& io = ImGui::GetIO();
  ui::BeginScreen("canvass", g_colours.background);
  Layout l;
  l.width = io.DisplaySize.x;
  l.height = io.DisplaySize.y;
  l.pad = std::clamp(l.width * 0.04f, 12 * scale, 40 * scale);
  l.cw = std::min(l.width - 2 * l.pad, 900 * scale);
  l.x0 = (l.width - l.cw) / 2;
  Painter p(widget, fonts, scale, now_ms, frame);
  switch (widget.screen()) {
    case Screen::kLoading:
      DrawCentered(p, l, UiText(widget.language(), "loading"), fonts.body);
      break;
    case Screen::kEnroll:
      DrawEnroll(p, l);
      break;
    case Screen::kAttract:
      DrawAttract(p, l);
      break;
    case Screen::kQuestion:
      DrawQuestion(p, l);
      break;
    case Screen::kSaving:
      DrawCentered(p, l, UiText(widget.language(), "saving"), fonts.large);
      break;
    case Screen::kThanks:
      DrawThanks(p, l);
      break;
    case Screen::kClosed:
      break;
    case Screen::kPin:
      DrawPin(p, l);
      break;
    case Screen::kStaff:
      DrawStaff(p, l);
      break;
    case Screen::kError:
      DrawCentered(p, l, widget.error(), fonts.body);
      break;
  }
  ui::EndScreen();
  ui::FinishFrame(frame);
}

}  // namespace canvass::widget
