#include "ui.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "imgui.h"
#include "theme.h"

namespace canvass::dashboard {
namespace {

// [SECTION] UI strings ------------------------------------------------------------------------

struct UiString {
  const char* key;
  const char* en;
  const char* ru;
  const char* uk;
};

// Chrome only; survey, question and tag texts come from the survey and the data.
constexpr UiString kStrings[] = {
    {"title", "Customer feedback", "Отзывы клиентов", "Відгуки клієнтів"},
    {"overview", "Overview", "Обзор", "Огляд"},
    {"charts", "Groups and drivers", "Группы и факторы", "Групи та чинники"},
    {"filters", "Filters", "Фильтры", "Фільтри"},
    {"survey", "Survey", "Опрос", "Опитування"},
    {"period", "Period", "Период", "Період"},
    {"days7", "7 days", "7 дней", "7 днів"},
    {"days30", "30 days", "30 дней", "30 днів"},
    {"days90", "90 days", "90 дней", "90 днів"},
    {"all_days", "All", "Всё", "Усе"},
    {"from", "From", "С", "З"},
    {"to", "To", "По", "По"},
    {"location", "Location", "Точка", "Точка"},
    {"staff", "Staff", "Сотрудник", "Працівник"},
    {"channel", "Channel", "Канал", "Канал"},
    {"segment", "Segment", "Сегмент", "Сегмент"},
    {"all", "All", "Все", "Усі"},
    {"none", "(none)", "(нет)", "(немає)"},
    {"logout", "Log out", "Выйти", "Вийти"},
    {"loading", "Loading statistics...", "Загружаем статистику...", "Завантажуємо статистику..."},
    {"nothing", "No offers match these filters", "Под эти фильтры не попало ни одного показа",
     "Під ці фільтри не потрапив жоден показ"},
    {"offered", "offered", "показов", "показів"},
    {"completed", "completed", "заполнено", "заповнено"},
    {"days", "days", "дн.", "дн."},
    {"vs", "vs", "против", "проти"},
    {"previous", "previous", "предыдущих", "попередніх"},
    {"significant", "significant", "значимо", "значуще"},
    {"not_significant", "not significant", "незначимо", "незначуще"},
    {"no_change", "no previous data", "нет данных за прошлый период",
     "немає даних за попередній період"},
    {"nps", "NPS", "NPS", "NPS"},
    {"response_rate", "Response rate", "Доля ответивших", "Частка відповідей"},
    {"csat", "CSAT (top-2)", "CSAT (2 верхних)", "CSAT (2 верхні)"},
    {"ces", "CES", "CES", "CES"},
    {"csi", "CSI", "CSI", "CSI"},
    {"cli", "CLI", "CLI", "CLI"},
    {"loyalty", "Loyalty rate", "Лояльность", "Лояльність"},
    {"interval", "95%", "95%", "95%"},
    {"silent", "silent customers", "молчащих клиентов", "мовчазних клієнтів"},
    {"bounds", "with them NPS could be", "с ними NPS мог бы быть", "з ними NPS міг би бути"},
    {"of", "of", "из", "з"},
    {"score100", "0-100", "0-100", "0-100"},
    {"mean", "mean", "среднее", "середнє"},
    {"agree", "agree", "согласны", "згодні"},
    {"customers", "customers", "клиентов", "клієнтів"},
    {"came_back", "came back", "вернулись", "повернулися"},
    {"trend", "NPS by", "NPS по", "NPS за"},
    {"day", "day", "дням", "днями"},
    {"week", "week", "неделям", "тижнями"},
    {"month", "month", "месяцам", "місяцями"},
    {"distribution", "Scores 0-10", "Оценки 0-10", "Оцінки 0-10"},
    // Only for assistive technology (the semantics tree): never drawn.
    {"day_earlier", "One day earlier", "На день раньше", "На день раніше"},
    {"day_later", "One day later", "На день позже", "На день пізніше"},
    {"answers_n", "answers", "ответов", "відповідей"},
    {"detractors", "Detractors", "Критики", "Критики"},
    {"passives", "Passives", "Нейтральные", "Нейтральні"},
    {"promoters", "Promoters", "Промоутеры", "Промоутери"},
    {"groups", "by", "по", "за"},
    {"too_few", "fewer than %d answers: not ranked", "меньше %d ответов: без места",
     "менше %d відповідей: без місця"},
    {"quadrant", "CSI: importance and performance", "CSI: важность и удовлетворённость",
     "CSI: важливість і задоволеність"},
    {"importance_axis", "importance (correlation with recommend)",
     "важность (связь с рекомендацией)", "важливість (зв'язок з рекомендацією)"},
    {"performance_axis", "performance 0-100", "удовлетворённость 0-100", "задоволеність 0-100"},
    {"fix first", "Fix first", "Исправить в первую очередь", "Виправити насамперед"},
    {"keep up", "Keep up", "Поддерживать", "Підтримувати"},
    {"low priority", "Low priority", "Низкий приоритет", "Низький пріоритет"},
    {"possible overkill", "Possible overkill", "Возможно, избыточно", "Можливо, надмірно"},
    {"drivers", "Key drivers", "Ключевые факторы", "Ключові чинники"},
    {"attribute", "attribute", "атрибут", "атрибут"},
    {"correlation", "r", "r", "r"},
    {"performance", "perf.", "удовл.", "задов."},
    {"no_csi", "This survey has no CSI attributes", "В этом опросе нет атрибутов CSI",
     "У цьому опитуванні немає атрибутів CSI"},
    {"no_nps", "This survey has no NPS question", "В этом опросе нет вопроса NPS",
     "У цьому опитуванні немає питання NPS"},
    {"no_drivers", "No paired answers yet", "Пока нет парных ответов",
     "Поки немає парних відповідей"},
    // Follow-up cases.
    {"cases", "Follow-up", "Обращения", "Звернення"},
    {"call_back_today", "Call back today", "Перезвонить сегодня", "Передзвонити сьогодні"},
    {"in_progress", "In progress", "В работе", "У роботі"},
    {"resolved_group", "Resolved", "Решённые", "Вирішені"},
    {"state:open", "Open", "Новое", "Нове"},
    {"state:contacted", "Contacted", "Связались", "Зв'язалися"},
    {"state:root_cause_found", "Root cause found", "Причина найдена", "Причину знайдено"},
    {"state:resolved", "Resolved", "Решено", "Вирішено"},
    {"next:contacted", "Mark: customer contacted", "Отметить: связались с клиентом",
     "Позначити: зв'язалися з клієнтом"},
    {"next:root_cause_found", "Mark: root cause found", "Отметить: причина найдена",
     "Позначити: причину знайдено"},
    {"next:resolved", "Mark: resolved, customer informed", "Отметить: решено, клиент в курсе",
     "Позначити: вирішено, клієнта повідомлено"},
    {"overdue", "overdue", "просрочено", "прострочено"},
    {"escalated", "escalated", "эскалировано", "ескальовано"},
    {"col_state", "State", "Статус", "Статус"},
    {"col_score", "Score", "Оценка", "Оцінка"},
    {"col_opened", "Opened", "Открыто", "Відкрито"},
    {"col_due", "Due", "Срок", "Термін"},
    {"col_assignee", "Assignee", "Ответственный", "Відповідальний"},
    {"unassigned", "unassigned", "не назначено", "не призначено"},
    {"no_cases", "No follow-up cases here", "Здесь нет обращений", "Тут немає звернень"},
    {"loading_cases", "Loading cases...", "Загружаем обращения...", "Завантажуємо звернення..."},
    {"choose_case", "Choose a case to see the customer's contact details and the next step",
     "Выберите обращение: контакты клиента и следующий шаг",
     "Оберіть звернення: контакти клієнта і наступний крок"},
    {"opening", "Opening the case...", "Открываем обращение...", "Відкриваємо звернення..."},
    {"contact", "Contact details", "Контакты", "Контакти"},
    {"no_contact", "no contact details", "контактов нет", "контактів немає"},
    {"notes", "Notes", "Заметки", "Нотатки"},
    {"no_notes", "No notes yet", "Заметок пока нет", "Нотаток поки немає"},
    {"note_placeholder", "A note: what was done, what the customer said",
     "Заметка: что сделано, что сказал клиент", "Нотатка: що зроблено, що сказав клієнт"},
    {"add_note", "Add note", "Добавить заметку", "Додати нотатку"},
    {"root_cause", "Root cause", "Причина", "Причина"},
    {"need_category", "Choose the root cause first", "Сначала выберите причину",
     "Спершу оберіть причину"},
    {"done", "Resolved: nothing follows (notes can still be added)",
     "Решено: дальше шагов нет (заметки добавлять можно)",
     "Вирішено: далі кроків немає (нотатки додавати можна)"},
    {"take", "Take it", "Взять себе", "Взяти собі"},
    {"give_back", "Give back", "Вернуть", "Повернути"},
    {"assign_to", "Assign to", "Назначить", "Призначити"},
    {"close", "Close", "Закрыть", "Закрити"},
    {"refresh", "Refresh", "Обновить", "Оновити"},
    {"sending", "Sending...", "Отправляем...", "Надсилаємо..."},
    {"opened_at", "opened", "открыто", "відкрито"},
    {"due_at", "due", "срок", "термін"},
    {"role:owner", "owner", "владелец", "власник"},
    {"role:manager", "manager", "менеджер", "менеджер"},
    {"role:staff", "staff", "сотрудник", "працівник"},
};

const char* TagKey(int tag) { return kCubeTags[static_cast<std::size_t>(tag)]; }

// [SECTION] Colours, numbers ------------------------------------------------------------------

constexpr ImU32 Col(host::Rgb c) { return IM_COL32(c.r, c.g, c.b, 255); }
constexpr ImU32 kBackground = Col(theme::kBackground);
constexpr ImU32 kPanel = Col(theme::kPanel);
constexpr ImU32 kInk = Col(theme::kInk);
constexpr ImU32 kMuted = Col(theme::kMuted);
constexpr ImU32 kFaint = Col(theme::kFaint);
constexpr ImU32 kGrid = Col(theme::kGrid);
constexpr ImU32 kChip = Col(theme::kChip);
constexpr ImU32 kChipHover = Col(theme::kChipHover);
constexpr ImU32 kBorder = Col(theme::kBorder);
constexpr ImU32 kAccent = Col(theme::kAccent);
constexpr ImU32 kOnAccent = Col(theme::kOnAccent);
constexpr ImU32 kGood = Col(theme::kGood);
constexpr ImU32 kBad = Col(theme::kBad);
constexpr ImU32 kPassive = Col(theme::kPassive);
constexpr ImU32 kGreyed = Col(theme::kGreyed);
constexpr ImU32 kSelectedRow = Col(theme::kSelectedRow);
constexpr ImU32 kLateRow = Col(theme::kLateRow);
constexpr ImU32 kContactBox = Col(theme::kContactBox);
constexpr ImU32 kFaintText = Col(theme::kFaintText);
constexpr ImU32 kGoodText = Col(theme::kGoodText);
constexpr ImU32 kBadText = Col(theme::kBadText);
constexpr ImU32 kPassiveText = Col(theme::kPassiveText);
constexpr ImU32 kAccentText = Col(theme::kAccentText);
constexpr ImU32 kAccentBand = IM_COL32(37, 99, 235, 48);  // the trend's interval band

// A figure as people read it: `decimals` kept even when zero ("22.0"), "+" on request. Built
// on FormatNumber, so the digits are those of the report's JSON.
std::string Fixed(double v, int decimals, bool plus = false) {
  std::string s = FormatNumber(v, decimals);
  if (s == "null") return "-";
  if (decimals > 0) {
    std::size_t dot = s.find('.');
    if (dot == std::string::npos) {
      s += ".";
      dot = s.size() - 1;
    }
    s.append(static_cast<std::size_t>(decimals) - (s.size() - dot - 1), '0');
  }
  if (plus && s[0] != '-' && FormatNumber(v, decimals) != "0") s = "+" + s;
  return s;
}

std::string Count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

// [SECTION] Painter ---------------------------------------------------------------------------

enum class Look { kChip, kSelected, kQuiet, kDisabled };

class Painter {
 public:
  Painter(const UiState& state, const UiFonts& fonts, float s, UiFrame* frame)
      : state_(state), f(fonts), s(s), frame_(frame), dl(ImGui::GetWindowDrawList()) {}

  const char* T(const char* key) const { return UiText(state_.language, key); }

  float Width(ImFont* font, const std::string& text) const {
    return font->CalcTextSizeA(font->FontSize, FLT_MAX, 0, text.c_str()).x;
  }
  // Text at (x, y), optionally clipped to `max_w` (an ellipsis is not drawn: the font subset has
  // one, but a cut label reads as well). Returns the width drawn.
  float Text(ImFont* font, float x, float y, ImU32 colour, const std::string& text) {
    dl->AddText(font, font->FontSize, ImVec2(x, y), colour, text.c_str());
    return Width(font, text);
  }
  void TextRight(ImFont* font, float right, float y, ImU32 colour, const std::string& text) {
    Text(font, right - Width(font, text), y, colour, text);
  }
  void TextCentered(ImFont* font, float cx, float y, ImU32 colour, const std::string& text) {
    Text(font, cx - Width(font, text) / 2, y, colour, text);
  }

  // A clickable chip. Outside `visible` it is neither drawn nor clickable. True on a click.
  bool Button(const std::string& id, UiRect r, const std::string& label, Look look,
              const UiRect& visible) {
    if (r.y + r.h <= visible.y || r.y >= visible.y + visible.h) return false;
    ImGui::SetCursorScreenPos(ImVec2(r.x, r.y));
    ImGui::PushID(id.c_str());
    const bool clicked =
        ImGui::InvisibleButton("b", ImVec2(std::max(r.w, 1.0f), std::max(r.h, 1.0f)));
    const bool hovered = ImGui::IsItemHovered();
    ImGui::PopID();
    ImU32 fill = hovered ? kChipHover : kChip;
    ImU32 text = kInk;
    if (look == Look::kSelected) {
      fill = kAccent;
      text = kOnAccent;
    } else if (look == Look::kQuiet) {
      fill = hovered ? kChipHover : kPanel;
      text = kMuted;
    } else if (look == Look::kDisabled) {
      fill = kChip;
      text = kFaintText;
    }
    dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), fill, 6 * s);
    const float tw = Width(f.body, label);
    const float clip_w = r.w - 12 * s;
    dl->PushClipRect(ImVec2(r.x + 6 * s, r.y), ImVec2(r.x + 6 * s + clip_w, r.y + r.h), true);
    Text(f.body, r.x + std::max(6 * s, (r.w - tw) / 2), r.y + (r.h - f.body->FontSize) / 2, text,
         label);
    dl->PopClipRect();
    Item(id, r, visible);
    Semantic(id, r, label, look);
    return clicked && look != Look::kDisabled;
  }

  // An invisible clickable area (a list row): true on a click; `hovered` tells whether the
  // pointer is over it. Reported like a button.
  // `name` is what assistive technology reads for it (a toggle button, pressed when `pressed`).
  bool Area(const std::string& id, UiRect r, const UiRect& visible, bool* hovered,
            const std::string& name, bool pressed) {
    *hovered = false;
    if (r.y + r.h <= visible.y || r.y >= visible.y + visible.h) return false;
    ImGui::SetCursorScreenPos(ImVec2(r.x, r.y));
    ImGui::PushID(id.c_str());
    const bool clicked =
        ImGui::InvisibleButton("a", ImVec2(std::max(r.w, 1.0f), std::max(r.h, 1.0f)));
    *hovered = ImGui::IsItemHovered();
    ImGui::PopID();
    Item(id, r, visible);
    frame_->semantics.Button(id, name, {r.x, r.y, r.w, r.h}).pressed =
        pressed ? host::Tri::kTrue : host::Tri::kFalse;
    return clicked;
  }

  // How a chip reads to assistive technology: a button; a filter, tab or language chip is a toggle
  // button (aria-pressed), the others (date steps, case actions, log out) plain ones.
  void Semantic(const std::string& id, UiRect r, const std::string& label, Look look) {
    std::string name = label;
    std::string lang;
    if (id == "from:-1" || id == "to:-1") name = T("day_earlier");
    if (id == "from:+1" || id == "to:+1") name = T("day_later");
    if (id.rfind("lang:", 0) == 0) {
      lang = id.substr(5);
      name = lang == "uk" ? "Українська" : lang == "ru" ? "Русский" : "English";
    }
    host::SemItem& it = frame_->semantics.Button(id, name, {r.x, r.y, r.w, r.h});
    it.lang = lang;
    it.disabled = look == Look::kDisabled;
    const bool action = id.rfind("case:", 0) == 0 || id.rfind("cases:", 0) == 0 || id.size() < 3 ||
                        id.compare(id.size() - 3, 3, ":-1") == 0 ||
                        id.compare(id.size() - 3, 3, ":+1") == 0;
    if (!action && (look == Look::kSelected || look == Look::kChip)) {
      it.pressed = look == Look::kSelected ? host::Tri::kTrue : host::Tri::kFalse;
    }
  }
  host::Semantics& sem() { return frame_->semantics; }

  // A chip as wide as its label.
  float ChipWidth(const std::string& label) const { return Width(f.body, label) + 20 * s; }

  void Item(const std::string& id, UiRect r, const UiRect& visible) {
    // Only what can be seen (and clicked) is reported.
    const float top = std::max(r.y, visible.y);
    const float bottom = std::min(r.y + r.h, visible.y + visible.h);
    if (bottom - top < 1) return;
    frame_->items.push_back({id, UiRect{r.x, top, r.w, bottom - top}});
  }

  void Panel(UiRect r) {
    dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kPanel, 8 * s);
    dl->AddRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kBorder, 8 * s, 0, 1 * s);
  }

  const UiState& state_;
  const UiFonts& f;
  const float s;
  UiFrame* frame_;
  ImDrawList* dl;
};

// Chips laid out left to right, wrapping at x1.
struct Flow {
  float x0, x1, x, y, h, gap;
  Flow(float left, float right, float top, float height, float spacing)
      : x0(left), x1(right), x(left), y(top), h(height), gap(spacing) {}
  UiRect Next(float w) {
    w = std::min(w, x1 - x0);
    if (x > x0 && x + w > x1) {
      x = x0;
      y += h + gap;
    }
    UiRect r{x, y, w, h};
    x += w + gap;
    return r;
  }
  float Bottom() const { return y + h; }
};

// [SECTION] Chrome: top bar and filters -------------------------------------------------------

std::string TagLabel(const Painter& p, int tag) { return p.T(TagKey(tag)); }

// The survey's title in the UI language, else its id.
std::string SurveyTitle(const Model& m, const std::string& language) {
  const StatsCube* c = m.cube();
  if (!c) return m.filter().survey;
  const Survey& s = c->survey();
  const std::string& t = s.title.Get(language, s.fallback_language);
  return t.empty() ? s.id : t;
}

void DrawTopBar(Painter& p, Model& m, const CaseList& cases, UiState& st, float width,
                bool* changed) {
  const float s = p.s, h = 56 * s;
  const UiRect all{0, 0, width, h};
  p.dl->AddRectFilled(ImVec2(0, 0), ImVec2(width, h), kPanel);
  p.dl->AddLine(ImVec2(0, h), ImVec2(width, h), kBorder, 1 * s);
  float x = 20 * s;
  x += p.Text(p.f.large, x, (h - p.f.large->FontSize) / 2, kInk,
              std::string("Canvass  ") + p.T("title"));
  if (!m.filter().survey.empty()) {
    p.Text(p.f.body, x + 20 * s, (h - p.f.body->FontSize) / 2, kMuted, SurveyTitle(m, st.language));
  }
  float right = width - 16 * s;
  const float bh = 32 * s, by = (h - bh) / 2;
  const float lw = p.ChipWidth(p.T("logout"));
  right -= lw;
  if (p.Button("logout", UiRect{right, by, lw, bh}, p.T("logout"), Look::kQuiet, all)) {
    st.logout = true;
    *changed = true;
  }
  if (!cases.me().empty()) {
    const std::string who = cases.me() + " (" + p.T(("role:" + cases.role()).c_str()) + ")";
    right -= 12 * s + p.Width(p.f.body, who);
    p.Text(p.f.body, right, (h - p.f.body->FontSize) / 2, kMuted, who);
  }
  right -= 16 * s;
  for (const char* lang : {"uk", "ru", "en"}) {
    const std::string label = lang == std::string("uk")   ? "УКР"
                              : lang == std::string("ru") ? "РУС"
                                                          : "ENG";
    const float w = p.ChipWidth(label);
    right -= w;
    if (p.Button(std::string("lang:") + lang, UiRect{right, by, w, bh}, label,
                 st.language == lang ? Look::kSelected : Look::kChip, all)) {
      st.language = lang;
      *changed = true;
    }
    right -= 6 * s;
  }
}

// One filter section: a heading and chips ("All" + values). Returns the bottom.
float DrawTagFilter(Painter& p, Model& m, int tag, const UiRect& area, const UiRect& visible,
                    float y, bool* changed) {
  const float s = p.s;
  std::vector<std::string> values = m.TagValues(tag);
  const std::string& selected = m.filter().tags[static_cast<std::size_t>(tag)];
  if (!selected.empty() && std::find(values.begin(), values.end(), selected) == values.end()) {
    values.push_back(selected);  // selected, but nothing else matches it now
  }
  if (values.empty()) return y;  // the survey has no such tag
  p.Text(p.f.small, area.x, y, kMuted, TagLabel(p, tag));
  y += p.f.small->FontSize + 6 * s;
  Flow flow(area.x, area.x + area.w, y, 28 * s, 6 * s);
  const std::string key = TagKey(tag);
  if (p.Button(key + ":*", flow.Next(p.ChipWidth(p.T("all"))), p.T("all"),
               selected.empty() ? Look::kSelected : Look::kChip, visible)) {
    m.SetTag(tag, "");
    *changed = true;
  }
  for (const std::string& v : values) {
    if (p.Button(key + ":" + v, flow.Next(p.ChipWidth(v)), v,
                 v == selected ? Look::kSelected : Look::kChip, visible)) {
      m.SetTag(tag, v == selected ? "" : v);
      *changed = true;
    }
  }
  return flow.Bottom() + 18 * s;
}

void DrawSidebar(Painter& p, Model& m, UiState& st, const UiRect& r, bool* changed) {
  const float s = p.s;
  p.dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), kPanel);
  p.dl->AddLine(ImVec2(r.x + r.w, r.y), ImVec2(r.x + r.w, r.y + r.h), kBorder, 1 * s);
  const ImGuiIO& io = ImGui::GetIO();
  const bool over = io.MousePos.x >= r.x && io.MousePos.x < r.x + r.w && io.MousePos.y >= r.y &&
                    io.MousePos.y < r.y + r.h;
  if (over && io.MouseWheel != 0) {
    st.sidebar_scroll -= io.MouseWheel * 48 * s;
    *changed = true;
  }
  p.dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), true);
  const UiRect area{r.x + 16 * s, r.y, r.w - 32 * s, r.h};
  float y = r.y + 16 * s - st.sidebar_scroll;
  p.Text(p.f.large, area.x, y, kInk, p.T("filters"));
  y += p.f.large->FontSize + 14 * s;

  // Period: presets, then the days themselves.
  p.Text(p.f.small, area.x, y, kMuted, p.T("period"));
  y += p.f.small->FontSize + 6 * s;
  Flow presets(area.x, area.x + area.w, y, 28 * s, 6 * s);
  const int preset = m.PresetDays();
  for (int days : {7, 30, 90, 0}) {
    const std::string id = days ? "period:" + std::to_string(days) : "period:all";
    const char* label = days == 7    ? "days7"
                        : days == 30 ? "days30"
                        : days == 90 ? "days90"
                                     : "all_days";
    if (p.Button(id, presets.Next(p.ChipWidth(p.T(label))), p.T(label),
                 preset == days ? Look::kSelected : Look::kChip, r)) {
      m.SetPreset(days);
      *changed = true;
    }
  }
  y = presets.Bottom() + 10 * s;
  for (int end = 0; end < 2; ++end) {
    const char* which = end == 0 ? "from" : "to";
    const int64_t day = end == 0 ? m.filter().from_day : m.filter().to_day;
    p.Text(p.f.body, area.x, y + (28 * s - p.f.body->FontSize) / 2, kMuted, p.T(which));
    const float bw = 28 * s, x_date = area.x + 44 * s;
    if (p.Button(std::string(which) + ":-1", UiRect{x_date, y, bw, 28 * s}, "<", Look::kChip, r)) {
      end == 0 ? m.ShiftFrom(-1) : m.ShiftTo(-1);
      *changed = true;
    }
    p.TextCentered(p.f.body, (x_date + bw + area.x + area.w - bw) / 2,
                   y + (28 * s - p.f.body->FontSize) / 2, kInk, DayLabel(day));
    if (p.Button(std::string(which) + ":+1", UiRect{area.x + area.w - bw, y, bw, 28 * s}, ">",
                 Look::kChip, r)) {
      end == 0 ? m.ShiftFrom(1) : m.ShiftTo(1);
      *changed = true;
    }
    y += 34 * s;
  }
  y += 12 * s;

  if (m.surveys().size() > 1) {
    p.Text(p.f.small, area.x, y, kMuted, p.T("survey"));
    y += p.f.small->FontSize + 6 * s;
    Flow flow(area.x, area.x + area.w, y, 28 * s, 6 * s);
    for (const std::string& id : m.surveys()) {
      if (p.Button("survey:" + id, flow.Next(p.ChipWidth(id)), id,
                   id == m.filter().survey ? Look::kSelected : Look::kChip, r)) {
        m.SelectSurvey(id);
        *changed = true;
      }
    }
    y = flow.Bottom() + 18 * s;
  }
  for (int tag = 0; tag < kTagCount; ++tag) y = DrawTagFilter(p, m, tag, area, r, y, changed);
  p.dl->PopClipRect();
  const float content = y + st.sidebar_scroll - r.y;
  st.sidebar_scroll = std::clamp(st.sidebar_scroll, 0.0f, std::max(0.0f, content - r.h));
}

// [SECTION] Cards -----------------------------------------------------------------------------

struct CardLine {
  std::string text;
  ImU32 colour = kMuted;
};

// A change against the previous period, in words and colour: significant rises green, falls red.
CardLine ChangeLine(const Painter& p, const Change& d, int64_t days, int decimals, bool percent) {
  CardLine line;
  if (!d || d->difference.n == 0) {
    line.text = p.T("no_change");
    line.colour = kFaintText;
    return line;
  }
  const double v = d->difference.value;
  line.text = Fixed(v, decimals, true) + (percent ? " pp " : " ") + p.T("vs") + " " +
              p.T("previous") + " " + std::to_string(days) + " " + p.T("days") + "\n" +
              (d->significant ? p.T("significant") : p.T("not_significant")) + "  (" +
              Fixed(d->difference.lo, decimals, true) + " .. " +
              Fixed(d->difference.hi, decimals, true) + ")";
  line.colour = !d->significant ? kMuted : v > 0 ? kGoodText : kBadText;
  return line;
}

struct Card {
  Card(std::string id, std::string label, std::string value, std::string interval)
      : id(std::move(id)),
        label(std::move(label)),
        value(std::move(value)),
        interval(std::move(interval)) {}
  std::string id, label, value;
  std::string interval;  // "95%: a .. b, n"
  std::vector<CardLine> extra;
  CardLine change;
  bool no_data = false;
};

std::string IntervalText(const Painter& p, const metrics::Estimate& e, int decimals,
                         const char* unit = "") {
  return std::string(p.T("interval")) + ": " + Fixed(e.lo, decimals) + unit + " .. " +
         Fixed(e.hi, decimals) + unit + ",  n = " + Count(e.n);
}

std::vector<Card> BuildCards(const Painter& p, const Figures& fig) {
  std::vector<Card> cards;
  const Indices& x = fig.current.all;
  const int64_t days = (*fig.options.to_ms - *fig.options.from_ms) / 86400000;
  if (x.nps) {
    const metrics::NpsResult& n = x.nps->result;
    Card c{"card:nps", p.T("nps"), Fixed(n.nps.value, 1, true), IntervalText(p, n.nps, 1)};
    c.extra.push_back({Count(n.non_responders) + " " + p.T("silent") + ";\n" + p.T("bounds") + " " +
                       Fixed(n.bound_lo, 1, true) + " .. " + Fixed(n.bound_hi, 1, true)});
    c.change = ChangeLine(p, fig.change.nps, days, 1, false);
    c.no_data = n.nps.n == 0;
    cards.push_back(std::move(c));
  }
  {
    const metrics::ResponseRateResult& rr = x.response_rate;
    Card c{"card:response_rate", p.T("response_rate"), Fixed(rr.rate.value, 1) + "%",
           IntervalText(p, rr.rate, 1, "%")};
    c.extra.push_back({Count(rr.completed) + " " + p.T("completed") + " " + p.T("of") + " " +
                       Count(rr.offered) + " " + p.T("offered")});
    c.change = ChangeLine(p, fig.change.response_rate, days, 1, true);
    c.no_data = rr.offered == 0;
    cards.push_back(std::move(c));
  }
  if (x.csat) {
    const metrics::CsatResult& r = x.csat->result;
    Card c{"card:csat", p.T("csat"), Fixed(r.top2.value, 1) + "%", IntervalText(p, r.top2, 1, "%")};
    c.extra.push_back({std::string(p.T("mean")) + " " + Fixed(r.mean.value, 2)});
    c.change = ChangeLine(p, fig.change.csat, days, 1, true);
    c.no_data = r.top2.n == 0;
    cards.push_back(std::move(c));
  }
  if (x.ces) {
    Card c{"card:ces", p.T("ces"), "", ""};
    if (x.ces->agreement) {
      const metrics::CesResult& r = *x.ces->agreement;
      c.value = Fixed(r.mean.value, 2);
      c.interval = IntervalText(p, r.mean, 2);
      c.extra.push_back({std::string(p.T("agree")) + " (" + std::to_string(r.agree_from) + "+) " +
                         Fixed(r.agree.value, 1) + "%"});
      c.no_data = r.mean.n == 0;
      c.change = ChangeLine(p, fig.change.ces, days, 2, false);
    } else {
      const metrics::NpsResult& r = *x.ces->net;
      c.value = Fixed(r.classic.value, 1, true);
      c.interval = IntervalText(p, r.classic, 1);
      c.no_data = r.classic.n == 0;
      c.change = ChangeLine(p, fig.change.ces, days, 1, false);
    }
    cards.push_back(std::move(c));
  }
  if (x.csi) {
    const metrics::CsiResult& r = x.csi->result;
    Card c{"card:csi", p.T("csi"), Fixed(r.index.value, 1, true), IntervalText(p, r.index, 1)};
    c.extra.push_back({std::string(p.T("score100")) + ": " + Fixed(r.score.value, 1) + "  (" +
                       Fixed(r.score.lo, 1) + " .. " + Fixed(r.score.hi, 1) + ")"});
    c.change = ChangeLine(p, fig.csi_index, days, 1, false);
    c.no_data = r.index.n == 0;
    cards.push_back(std::move(c));
  }
  if (x.cli) {
    const metrics::CliResult& r = x.cli->result;
    Card c{"card:cli", p.T("cli"), Fixed(r.index.value, 2), IntervalText(p, r.index, 2)};
    c.change = ChangeLine(p, fig.cli, days, 2, false);
    c.no_data = r.index.n == 0;
    cards.push_back(std::move(c));
  }
  {
    const metrics::LoyaltyResult& l = x.loyalty;
    Card c{"card:loyalty", p.T("loyalty"), Fixed(l.loyalty_rate.value, 1) + "%",
           IntervalText(p, l.loyalty_rate, 1, "%")};
    c.extra.push_back({Count(l.returning_customers) + " " + p.T("of") + " " + Count(l.customers) +
                       " " + p.T("customers") + " " + p.T("came_back")});
    c.change = ChangeLine(p, fig.loyalty, days, 1, true);
    c.no_data = l.customers == 0;
    cards.push_back(std::move(c));
  }
  return cards;
}

void DrawCard(Painter& p, const Card& c, UiRect r, const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item(c.id, r, visible);
  // Read as one text: "NPS +42.9, 95%: 38.2 .. 47.3, n = 1,012. ... +3.1 vs previous 30 days".
  std::string spoken = c.label + " " + (c.no_data ? "-" : c.value) + ", " + c.interval;
  for (const CardLine& line : c.extra) spoken += ". " + line.text;
  if (!c.change.text.empty()) spoken += ". " + c.change.text;
  for (char& ch : spoken) {
    if (ch == '\n') ch = ' ';
  }
  p.sem().Text(c.id, spoken, {r.x, r.y, r.w, r.h});
  float y = r.y + 12 * s;
  const float x = r.x + 14 * s;
  p.Text(p.f.body, x, y, kMuted, c.label);
  y += p.f.body->FontSize + 4 * s;
  p.Text(p.f.huge, x, y, c.no_data ? kFaintText : kInk, c.no_data ? "-" : c.value);
  y += p.f.huge->FontSize + 6 * s;
  p.dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w - 8 * s, r.y + r.h), true);
  p.Text(p.f.small, x, y, kMuted, c.interval);
  y += p.f.small->FontSize + 4 * s;
  for (const CardLine& line : c.extra) {
    p.Text(p.f.small, x, y, line.colour, line.text);  // may hold a line break
    y += p.f.small->CalcTextSizeA(p.f.small->FontSize, FLT_MAX, 0, line.text.c_str()).y + 4 * s;
  }
  const float change_h =
      p.f.small->CalcTextSizeA(p.f.small->FontSize, FLT_MAX, 0, c.change.text.c_str()).y;
  p.Text(p.f.small, x, r.y + r.h - change_h - 12 * s, c.change.colour, c.change.text);
  p.dl->PopClipRect();
}

// [SECTION] Charts ----------------------------------------------------------------------------

// A value axis: lo..hi mapped to y1..y0 (bottom to top), with grid lines at a round step.
struct Axis {
  double lo, hi;
  float y0, y1;  // top, bottom (screen)
  float At(double v) const { return y1 - static_cast<float>((v - lo) / (hi - lo)) * (y1 - y0); }
  double Step() const {
    for (double step : {1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0}) {
      if ((hi - lo) / step <= 6) return step;
    }
    return 100;
  }
};

// lo..hi rounded out to a step, never past [min, max].
Axis AxisFor(double lo, double hi, double min, double max, float y0, float y1) {
  if (!(hi > lo)) {
    lo -= 5;
    hi += 5;
  }
  Axis a{lo, hi, y0, y1};
  const double step = a.Step();
  a.lo = std::max(min, std::floor(lo / step) * step);
  a.hi = std::min(max, std::ceil(hi / step) * step);
  if (!(a.hi > a.lo)) a.hi = a.lo + step;
  return a;
}

void DrawGrid(Painter& p, const Axis& a, float x0, float x1) {
  const double step = a.Step();
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + 1e-9; v += step) {
    const float y = a.At(v);
    p.dl->AddLine(ImVec2(x0, y), ImVec2(x1, y), v == 0 ? kFaint : kGrid, 1 * p.s);
    p.TextRight(p.f.small, x0 - 6 * p.s, y - p.f.small->FontSize / 2, kMuted, Fixed(v, 0));
  }
}

std::string ShortPeriod(Period period, const std::string& label) {
  if (period == Period::kDay && label.size() == 10) return label.substr(5);  // "11-22"
  if (period == Period::kWeek && label.size() == 8) return label.substr(5);  // "W47"
  return label;
}

// Heading plus period chips; returns the chart area's top.
float DrawTrend(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                bool* changed) {
  const float s = p.s;
  p.Panel(r);
  p.Item("chart:trend", r, visible);
  const Period period = m.filter().trend;
  const float hy = r.y + 12 * s;
  float x = r.x + 14 * s;
  x += p.Text(p.f.body, x, hy + (26 * s - p.f.body->FontSize) / 2, kInk,
              std::string(p.T("trend")) + ":") +
       10 * s;
  for (Period option : {Period::kDay, Period::kWeek, Period::kMonth}) {
    const std::string label = p.T(PeriodName(option));
    const float w = p.ChipWidth(label);
    if (p.Button(std::string("trend:") + PeriodName(option), UiRect{x, hy, w, 26 * s}, label,
                 option == period ? Look::kSelected : Look::kChip, visible)) {
      Filter f = m.filter();
      f.trend = option;
      m.SetFilter(f);
      *changed = true;
    }
    x += w + 6 * s;
  }
  if (!fig.current.all.nps) {
    p.Text(p.f.body, r.x + 14 * s, hy + 40 * s, kMuted, p.T("no_nps"));
    return r.y;
  }
  struct Point {
    std::string label;
    metrics::Estimate e;
  };
  std::vector<Point> points;
  for (const GroupEntry& g : fig.trend.groups) {
    if (g.indices.nps && g.indices.nps->result.nps.n > 0) {
      points.push_back({g.key[0], g.indices.nps->result.nps});
    }
  }
  const float left = r.x + 48 * s, right = r.x + r.w - 18 * s;
  const float top = hy + 40 * s, bottom = r.y + r.h - 30 * s;
  // Points stay clear of the ends, so that their labels fit.
  const std::string widest = fig.trend.groups.empty() ? "" : fig.trend.groups.back().key[0];
  const float inset = p.Width(p.f.small, ShortPeriod(period, widest)) / 2 + 4 * s;
  if (points.empty()) {
    p.Text(p.f.body, left, top, kMuted, p.T("nothing"));
    return top;
  }
  double lo = 0, hi = 0;
  for (const Point& pt : points) {
    lo = std::min(lo, pt.e.lo);
    hi = std::max(hi, pt.e.hi);
  }
  // The chart's text alternative: a list of its points, one text each.
  p.sem().BeginGroup(host::Role::kGroup, "chart:trend",
                     std::string(p.T("trend")) + " " + p.T(PeriodName(period)),
                     {r.x, r.y, r.w, r.h});
  for (const Point& pt : points) {
    p.sem().Text("trend-point:" + pt.label,
                 ShortPeriod(period, pt.label) + ": NPS " + Fixed(pt.e.value, 1, true) + ", " +
                     p.T("interval") + " " + Fixed(pt.e.lo, 1, true) + " .. " +
                     Fixed(pt.e.hi, 1, true) + ", n = " + Count(pt.e.n),
                 {r.x, top, r.w, bottom - top});
  }
  p.sem().EndGroup();
  const Axis a = AxisFor(lo, hi, -100, 100, top, bottom);
  DrawGrid(p, a, left, right);
  const std::size_t n = points.size();
  auto px = [&](std::size_t i) {
    return n == 1 ? (left + right) / 2
                  : left + inset + (right - left - 2 * inset) * static_cast<float>(i) / (n - 1);
  };
  // The interval as a band: one quad per segment (each convex), then the line and the dots.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    p.dl->AddQuadFilled(ImVec2(px(i), a.At(points[i].e.hi)),
                        ImVec2(px(i + 1), a.At(points[i + 1].e.hi)),
                        ImVec2(px(i + 1), a.At(points[i + 1].e.lo)),
                        ImVec2(px(i), a.At(points[i].e.lo)), kAccentBand);
  }
  if (n == 1) {
    p.dl->AddRectFilled(ImVec2(px(0) - 8 * s, a.At(points[0].e.hi)),
                        ImVec2(px(0) + 8 * s, a.At(points[0].e.lo)), kAccentBand);
  }
  for (std::size_t i = 0; i + 1 < n; ++i) {
    p.dl->AddLine(ImVec2(px(i), a.At(points[i].e.value)),
                  ImVec2(px(i + 1), a.At(points[i + 1].e.value)), kAccent, 2 * s);
  }
  // Labels: as many as fit.
  const float label_w = p.Width(p.f.small, ShortPeriod(period, points.back().label)) + 12 * s;
  const std::size_t every = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(label_w * n / std::max(1.0f, right - left))));
  for (std::size_t i = 0; i < n; ++i) {
    p.dl->AddCircleFilled(ImVec2(px(i), a.At(points[i].e.value)), 3 * s, kAccent);
    if (i % every == 0 || i + 1 == n) {
      p.TextCentered(p.f.small, px(i), bottom + 8 * s, kMuted,
                     ShortPeriod(period, points[i].label));
    }
  }
  return top;
}

void DrawDistribution(Painter& p, const Figures& fig, UiRect r, const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item("chart:distribution", r, visible);
  p.Text(p.f.body, r.x + 14 * s, r.y + 14 * s, kInk, p.T("distribution"));
  if (!fig.current.all.nps) {
    p.Text(p.f.body, r.x + 14 * s, r.y + 50 * s, kMuted, p.T("no_nps"));
    return;
  }
  const metrics::ScaleCounts* counts = nullptr;
  for (const QuestionSummary& q : fig.current.questions) {
    if (q.id == fig.current.all.nps->question) counts = &q.answers;
  }
  if (!counts || !counts->has_scale()) return;
  const metrics::CutPoints cuts =
      metrics::DefaultCutPoints(counts->min_point(), counts->max_point());
  const metrics::NpsResult& n = fig.current.all.nps->result;
  const float left = r.x + 14 * s, right = r.x + r.w - 14 * s;
  const float top = r.y + 44 * s, bottom = r.y + r.h - 56 * s;
  uint64_t most = 1;
  for (uint64_t c : counts->counts()) most = std::max(most, c);
  const int points = counts->Points();
  const float slot = (right - left) / static_cast<float>(points);
  // The chart's text alternative: each score with its count, then the three shares.
  p.sem().BeginGroup(host::Role::kGroup, "chart:distribution", p.T("distribution"),
                     {r.x, r.y, r.w, r.h});
  for (int i = 0; i < points; ++i) {
    const int point = counts->min_point() + i;
    p.sem().Text(
        "distribution:" + std::to_string(point),
        std::to_string(point) + ": " + Count(counts->Count(point)) + " " + p.T("answers_n"),
        {left + slot * static_cast<float>(i), top, slot, bottom - top});
  }
  for (int i = 0; i < points; ++i) {
    const int point = counts->min_point() + i;
    const uint64_t c = counts->Count(point);
    const ImU32 colour = point >= cuts.promoter_min  ? kGood
                         : point >= cuts.neutral_min ? kPassive
                                                     : kBad;
    const float x0 = left + slot * static_cast<float>(i) + slot * 0.15f;
    const float x1 = left + slot * static_cast<float>(i + 1) - slot * 0.15f;
    const float y = bottom - (bottom - top - p.f.small->FontSize - 4 * s) * static_cast<float>(c) /
                                 static_cast<float>(most);
    p.dl->AddRectFilled(ImVec2(x0, y), ImVec2(x1, bottom), colour, 2 * s);
    p.TextCentered(p.f.small, (x0 + x1) / 2, y - p.f.small->FontSize - 2 * s, kMuted, Count(c));
    p.TextCentered(p.f.small, (x0 + x1) / 2, bottom + 4 * s, kInk, std::to_string(point));
  }
  const uint64_t total = n.promoters + n.passives + n.detractors;
  auto share = [&](uint64_t k) {
    return total ? Fixed(100.0 * static_cast<double>(k) / static_cast<double>(total), 1) + "%"
                 : "-";
  };
  float x = left;
  const float ly = r.y + r.h - 26 * s;
  const std::pair<ImU32, std::string> legend[] = {
      {kBad, std::string(p.T("detractors")) + " " + share(n.detractors)},
      {kPassive, std::string(p.T("passives")) + " " + share(n.passives)},
      {kGood, std::string(p.T("promoters")) + " " + share(n.promoters)}};
  for (const auto& [colour, text] : legend) {
    p.dl->AddRectFilled(ImVec2(x, ly + 3 * s), ImVec2(x + 10 * s, ly + 13 * s), colour, 2 * s);
    const float w = p.Text(p.f.small, x + 14 * s, ly, kMuted, text);
    p.sem().Text("distribution:" + text, text, {x + 14 * s, ly, w, p.f.small->FontSize});
    x += 14 * s + w + 12 * s;
  }
  p.sem().EndGroup();
}

float DrawGroups(Painter& p, Model& m, const Figures& fig, UiRect r, const UiRect& visible,
                 bool* changed) {
  const float s = p.s;
  const Report& g = fig.groups;
  const std::string index =
      g.ranked_by.empty() ? (fig.current.all.nps ? "nps" : "response_rate") : g.ranked_by;
  // Ranked first (best first), then those with too few answers, by name.
  std::vector<const GroupEntry*> rows;
  for (const GroupEntry& e : g.groups) rows.push_back(&e);
  std::stable_sort(rows.begin(), rows.end(), [](const GroupEntry* a, const GroupEntry* b) {
    const int ra = a->rank && !a->rank->too_few ? a->rank->position : 1 << 30;
    const int rb = b->rank && !b->rank->too_few ? b->rank->position : 1 << 30;
    return ra < rb;
  });
  const float row_h = 26 * s;
  r.h = 96 * s + row_h * static_cast<float>(std::max<std::size_t>(rows.size(), 1));
  p.Panel(r);
  p.Item("chart:groups", r, visible);
  const float hy = r.y + 12 * s;
  float x = r.x + 14 * s;
  x += p.Text(p.f.body, x, hy + (26 * s - p.f.body->FontSize) / 2, kInk,
              std::string(p.T(index.c_str())) + " " + p.T("groups")) +
       10 * s;
  for (int tag = 0; tag < kTagCount; ++tag) {
    if (m.TagValues(tag).empty() && tag != m.filter().group_by) continue;
    const std::string label = TagLabel(p, tag);
    const float w = p.ChipWidth(label);
    if (p.Button(std::string("groups:") + TagKey(tag), UiRect{x, hy, w, 26 * s}, label,
                 tag == m.filter().group_by ? Look::kSelected : Look::kChip, visible)) {
      Filter f = m.filter();
      f.group_by = tag;
      m.SetFilter(f);
      *changed = true;
    }
    x += w + 6 * s;
  }
  const float label_w = std::min(200 * s, r.w * 0.3f);
  const float left = r.x + 14 * s + label_w, right = r.x + r.w - 110 * s;
  const float top = hy + 44 * s;
  double lo = 0, hi = 0;
  for (const GroupEntry* e : rows) {
    if (std::optional<metrics::Estimate> est = IndexEstimate(e->indices, index);
        est && est->n > 0) {
      lo = std::min(lo, est->lo);
      hi = std::max(hi, est->hi);
    }
  }
  const double bound = index == "nps" || index == "csi" ? 100 : 1e9;
  const Axis a =
      AxisFor(lo, hi, index == "response_rate" || index == "csat" ? 0 : -bound, bound, 0, 1);
  auto at = [&](double v) {
    return left + static_cast<float>((v - a.lo) / (a.hi - a.lo)) * (right - left);
  };
  const double step = a.Step();
  const float bottom = top + row_h * static_cast<float>(rows.size());
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + 1e-9; v += step) {
    p.dl->AddLine(ImVec2(at(v), top - 4 * s), ImVec2(at(v), bottom), v == 0 ? kFaint : kGrid,
                  1 * s);
    p.TextCentered(p.f.small, at(v), bottom + 4 * s, kMuted, Fixed(v, 0));
  }
  float y = top;
  bool any_too_few = false;
  // The chart's text alternative: a group with a line per row ("1. airport: -34.6, 95% -38.5 ..
  // -30.4, n = 743"), then the min-n note.
  p.sem().BeginGroup(host::Role::kGroup, "chart:groups",
                     std::string(p.T(index.c_str())) + " " + p.T("groups") + " " +
                         TagLabel(p, m.filter().group_by),
                     {r.x, r.y, r.w, r.h});
  for (const GroupEntry* e : rows) {
    const bool too_few = e->rank && e->rank->too_few;
    any_too_few = any_too_few || too_few;
    const std::string name = e->key[0].empty() ? p.T("none") : e->key[0];
    p.dl->PushClipRect(ImVec2(r.x, y), ImVec2(left - 8 * s, y + row_h), true);
    const std::string prefix = e->rank && !too_few ? std::to_string(e->rank->position) + ". " : "";
    p.Text(p.f.body, r.x + 14 * s, y + (row_h - p.f.body->FontSize) / 2,
           too_few ? kFaintText : kInk, prefix + name);
    p.dl->PopClipRect();
    std::optional<metrics::Estimate> est = IndexEstimate(e->indices, index);
    if (est && est->n > 0) {
      const float y0 = y + 6 * s, y1 = y + row_h - 6 * s, cy = (y0 + y1) / 2;
      const float zero = at(std::clamp(0.0, a.lo, a.hi));
      p.dl->AddRectFilled(ImVec2(std::min(zero, at(est->value)), y0),
                          ImVec2(std::max(zero, at(est->value)), y1),
                          too_few ? kGreyed : IM_COL32(37, 99, 235, 150), 2 * s);
      // Whisker: the 95% interval.
      p.dl->AddLine(ImVec2(at(est->lo), cy), ImVec2(at(est->hi), cy), too_few ? kFaint : kInk,
                    1.5f * s);
      p.dl->AddLine(ImVec2(at(est->lo), y0 + 2 * s), ImVec2(at(est->lo), y1 - 2 * s),
                    too_few ? kFaint : kInk, 1.5f * s);
      p.dl->AddLine(ImVec2(at(est->hi), y0 + 2 * s), ImVec2(at(est->hi), y1 - 2 * s),
                    too_few ? kFaint : kInk, 1.5f * s);
      p.Text(p.f.small, right + 10 * s, y + (row_h - p.f.small->FontSize) / 2,
             too_few ? kFaintText : kInk,
             Fixed(est->value, 1, index == "nps" || index == "csi") + "  n=" + Count(est->n));
    }
    const bool signed_index = index == "nps" || index == "csi";
    p.sem().Text(
        "groups:row:" + name,
        prefix + name + ": " +
            (est && est->n > 0 ? Fixed(est->value, 1, signed_index) + ", " + p.T("interval") + " " +
                                     Fixed(est->lo, 1, signed_index) + " .. " +
                                     Fixed(est->hi, 1, signed_index) + ", n = " + Count(est->n)
                               : std::string("-")),
        {r.x, y, r.w, row_h});
    y += row_h;
  }
  if (any_too_few) {
    char buf[160];
    std::snprintf(buf, sizeof buf, p.T("too_few"), static_cast<int>(g.options.min_n));
    p.Text(p.f.small, r.x + 14 * s, r.y + r.h - p.f.small->FontSize - 10 * s, kFaintText, buf);
    p.sem().Text("groups:too_few", buf, {r.x, r.y + r.h - 30 * s, r.w, 30 * s});
  }
  p.sem().EndGroup();
  return r.y + r.h;
}

std::string AttributeName(const Model& m, const std::string& id, const std::string& language) {
  const StatsCube* c = m.cube();
  if (!c) return id;
  const int i = c->survey().FindQuestion(id);
  if (i < 0) return id;
  const std::string& t = c->survey().questions[static_cast<std::size_t>(i)].text.Get(
      language, c->survey().fallback_language);
  return t.empty() ? id : t;
}

void DrawQuadrant(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                  const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item("chart:quadrant", r, visible);
  p.Text(p.f.body, r.x + 14 * s, r.y + 14 * s, kInk, p.T("quadrant"));
  const std::optional<CsiSummary>& csi = fig.current.all.csi;
  std::vector<const CsiAttributeSummary*> drivers;
  if (csi) {
    for (const CsiAttributeSummary& a : csi->attributes) {
      if (a.driver) drivers.push_back(&a);
    }
  }
  if (drivers.empty()) {
    p.Text(p.f.body, r.x + 14 * s, r.y + 50 * s, kMuted, csi ? p.T("no_drivers") : p.T("no_csi"));
    return;
  }
  const float left = r.x + 48 * s, right = r.x + r.w - 20 * s;
  const float top = r.y + 64 * s, bottom = r.y + r.h - 44 * s;
  double xlo = fig.split.importance, xhi = fig.split.importance, ylo = fig.split.performance,
         yhi = fig.split.performance;
  for (const CsiAttributeSummary* a : drivers) {
    xlo = std::min(xlo, a->driver->importance);
    xhi = std::max(xhi, a->driver->importance);
    ylo = std::min(ylo, a->driver->performance.value);
    yhi = std::max(yhi, a->driver->performance.value);
  }
  const double xpad = std::max(0.05, (xhi - xlo) * 0.15), ypad = std::max(5.0, (yhi - ylo) * 0.15);
  xlo = std::max(-1.0, xlo - xpad);
  xhi = std::min(1.0, xhi + xpad);
  const Axis ya = AxisFor(ylo - ypad, yhi + ypad, 0, 100, top, bottom);
  auto X = [&](double v) {
    return left + static_cast<float>((v - xlo) / (xhi - xlo)) * (right - left);
  };
  DrawGrid(p, ya, left, right);
  const float sx = X(fig.split.importance), sy = ya.At(fig.split.performance);
  p.dl->AddLine(ImVec2(sx, top), ImVec2(sx, bottom), kMuted, 1.5f * s);
  p.dl->AddLine(ImVec2(left, sy), ImVec2(right, sy), kMuted, 1.5f * s);
  // The four quadrant names (metrics::QuadrantName), in their corners.
  const float pad = 6 * s;
  p.TextRight(p.f.small, right - pad, top + pad, kGoodText,
              p.T(metrics::QuadrantName(metrics::Quadrant::kKeepUp)));
  p.TextRight(p.f.small, right - pad, bottom - p.f.small->FontSize - pad, kBadText,
              p.T(metrics::QuadrantName(metrics::Quadrant::kFixFirst)));
  p.Text(p.f.small, left + pad, top + pad, kPassiveText,
         p.T(metrics::QuadrantName(metrics::Quadrant::kPossibleOverkill)));
  p.Text(p.f.small, left + pad, bottom - p.f.small->FontSize - pad, kMuted,
         p.T(metrics::QuadrantName(metrics::Quadrant::kLowPriority)));
  for (const CsiAttributeSummary* a : drivers) {
    const metrics::DriverResult& d = *a->driver;
    const ImU32 colour = d.quadrant == metrics::Quadrant::kFixFirst           ? kBad
                         : d.quadrant == metrics::Quadrant::kKeepUp           ? kGood
                         : d.quadrant == metrics::Quadrant::kPossibleOverkill ? kPassive
                                                                              : kMuted;
    const ImVec2 c(X(d.importance), ya.At(d.performance.value));
    p.dl->AddCircleFilled(c, 6 * s, colour);
    p.Text(p.f.small, c.x + 9 * s, c.y - p.f.small->FontSize / 2, kInk,
           AttributeName(m, d.attribute, st.language));
  }
  p.TextCentered(p.f.small, (left + right) / 2, bottom + 18 * s, kMuted, p.T("importance_axis"));
  p.Text(p.f.small, left, bottom + 4 * s, kMuted, Fixed(xlo, 2));
  p.TextRight(p.f.small, right, bottom + 4 * s, kMuted, Fixed(xhi, 2));
  p.Text(p.f.small, r.x + 14 * s, top - p.f.small->FontSize - 14 * s, kMuted,
         p.T("performance_axis"));
}

void DrawDrivers(Painter& p, const Model& m, const UiState& st, const Figures& fig, UiRect r,
                 const UiRect& visible) {
  const float s = p.s;
  p.Panel(r);
  p.Item("list:drivers", r, visible);
  p.Text(p.f.body, r.x + 14 * s, r.y + 14 * s, kInk, p.T("drivers"));
  const std::optional<CsiSummary>& csi = fig.current.all.csi;
  std::vector<const CsiAttributeSummary*> rows;
  if (csi) {
    for (const CsiAttributeSummary& a : csi->attributes) {
      if (a.driver) rows.push_back(&a);
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const CsiAttributeSummary* a, const CsiAttributeSummary* b) {
                     return a->driver->correlation.value > b->driver->correlation.value;
                   });
  if (rows.empty()) {
    p.Text(p.f.body, r.x + 14 * s, r.y + 50 * s, kMuted, csi ? p.T("no_drivers") : p.T("no_csi"));
    return;
  }
  const float x_name = r.x + 14 * s, x_r = r.x + r.w * 0.38f, x_perf = r.x + r.w * 0.54f,
              x_quad = r.x + r.w * 0.64f;
  float y = r.y + 46 * s;
  p.Text(p.f.small, x_name, y, kMuted, p.T("attribute"));
  p.Text(p.f.small, x_r, y, kMuted, std::string(p.T("correlation")) + " (95%)");
  p.Text(p.f.small, x_perf, y, kMuted, p.T("performance"));
  y += p.f.small->FontSize + 8 * s;
  for (const CsiAttributeSummary* a : rows) {
    const metrics::DriverResult& d = *a->driver;
    p.dl->AddLine(ImVec2(x_name, y - 4 * s), ImVec2(r.x + r.w - 14 * s, y - 4 * s), kGrid, 1 * s);
    p.dl->PushClipRect(ImVec2(x_name, y), ImVec2(x_r - 8 * s, y + 40 * s), true);
    p.Text(p.f.body, x_name, y, kInk, AttributeName(m, d.attribute, st.language));
    p.dl->PopClipRect();
    p.Text(p.f.body, x_r, y, kInk, Fixed(d.correlation.value, 2));
    p.Text(p.f.small, x_r, y + p.f.body->FontSize + 2 * s, kMuted,
           Fixed(d.correlation.lo, 2) + " .. " + Fixed(d.correlation.hi, 2));
    p.Text(p.f.body, x_perf, y, kInk, Fixed(d.performance.value, 1));
    const ImU32 colour = d.quadrant == metrics::Quadrant::kFixFirst ? kBadText
                         : d.quadrant == metrics::Quadrant::kKeepUp ? kGoodText
                                                                    : kMuted;
    p.dl->PushClipRect(ImVec2(x_quad, y), ImVec2(r.x + r.w - 8 * s, y + 40 * s), true);
    p.Text(p.f.small, x_quad, y + 2 * s, colour, p.T(metrics::QuadrantName(d.quadrant)));
    p.dl->PopClipRect();
    y += p.f.body->FontSize + p.f.small->FontSize + 14 * s;
  }
}

// [SECTION] Follow-up cases -------------------------------------------------------------------

ImU32 StateColour(const std::string& state) {
  if (state == "open") return kBadText;
  if (state == "contacted") return kPassiveText;
  if (state == "root_cause_found") return kAccentText;
  return kGoodText;
}

std::string StateLabel(const Painter& p, const std::string& state) {
  return p.T(("state:" + state).c_str());
}

// "NPS 3 / 0..10"
std::string ScoreLabel(const CaseSummary& c) {
  std::string metric = c.metric;
  for (char& ch : metric) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
  return metric + " " + std::to_string(c.score) + "  (" + std::to_string(c.scale_min) + ".." +
         std::to_string(c.scale_max) + ")";
}

// A small coloured label; returns its width.
float Badge(Painter& p, float x, float y, ImU32 colour, const std::string& text) {
  const float s = p.s, w = p.Width(p.f.small, text) + 12 * s, h = p.f.small->FontSize + 6 * s;
  p.dl->AddRectFilled(ImVec2(x, y), ImVec2(x + w, y + h), (colour & 0x00FFFFFF) | 0x28000000,
                      4 * s);
  p.Text(p.f.small, x + 6 * s, y + 3 * s, colour, text);
  return w;
}

// The list: "call back today" first, then the others in progress, then the resolved. Returns
// the bottom.
float DrawCaseList(Painter& p, const Model& m, CaseList& cases, UiRect r, const UiRect& visible,
                   bool* changed) {
  const float s = p.s;
  const std::vector<const CaseSummary*> shown = cases.Shown(m.filter().tags[0]);
  const float row_h = 56 * s, head_h = 34 * s;
  float y = r.y;
  const float x_state = r.x + 14 * s, x_loc = r.x + r.w * 0.22f, x_score = r.x + r.w * 0.42f,
              x_opened = r.x + r.w * 0.60f, x_due = r.x + r.w * 0.80f;
  // Heights first: the panel is drawn behind the rows.
  int groups = 0;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const int g = shown[i]->call_back_today ? 0 : shown[i]->state == "resolved" ? 2 : 1;
    const int prev = i == 0                              ? -1
                     : shown[i - 1]->call_back_today     ? 0
                     : shown[i - 1]->state == "resolved" ? 2
                                                         : 1;
    if (g != prev) ++groups;
  }
  const float body_h = shown.empty() ? 60 * s
                                     : static_cast<float>(groups) * head_h +
                                           static_cast<float>(shown.size()) * row_h + 12 * s;
  const float panel_h = 44 * s + body_h;
  p.Panel(UiRect{r.x, r.y, r.w, panel_h});
  p.Item("list:cases", UiRect{r.x, r.y, r.w, panel_h}, visible);
  p.Text(p.f.small, x_state, y + 14 * s, kMuted, p.T("col_state"));
  p.Text(p.f.small, x_loc, y + 14 * s, kMuted, p.T("location"));
  p.Text(p.f.small, x_score, y + 14 * s, kMuted, p.T("col_score"));
  p.Text(p.f.small, x_opened, y + 14 * s, kMuted, p.T("col_opened"));
  p.Text(p.f.small, x_due, y + 14 * s, kMuted, p.T("col_due"));
  y += 40 * s;
  if (shown.empty()) {
    p.Text(p.f.body, x_state, y + 12 * s, kMuted,
           cases.loaded() ? p.T("no_cases") : p.T("loading_cases"));
    return r.y + panel_h;
  }
  // A screen reader walks the list as a group of toggle buttons, one per case, read as a line.
  p.sem().BeginGroup(host::Role::kGroup, "list:cases", p.T("cases"), {r.x, y, r.w, 0});
  int last_group = -1;
  for (const CaseSummary* c : shown) {
    const int g = c->call_back_today ? 0 : c->state == "resolved" ? 2 : 1;
    if (g != last_group) {
      last_group = g;
      const char* key = g == 0 ? "call_back_today" : g == 1 ? "in_progress" : "resolved_group";
      p.dl->AddLine(ImVec2(r.x + 1, y), ImVec2(r.x + r.w - 1, y), kGrid, 1 * s);
      p.Text(p.f.body, x_state, y + (head_h - p.f.body->FontSize) / 2, g == 0 ? kBadText : kInk,
             p.T(key));
      p.sem().Text(std::string("cases:") + key, p.T(key), {x_state, y, r.w, head_h});
      y += head_h;
    }
    const UiRect row{r.x + 6 * s, y, r.w - 12 * s, row_h - 4 * s};
    bool hovered = false;
    std::string name = StateLabel(p, c->state) + ", " + c->location + ", " + ScoreLabel(*c) + ", " +
                       p.T("col_opened") + " " +
                       LocalTimeLabel(c->opened_ms, cases.utc_offset_min()) + ", " +
                       p.T("col_due") + " " + LocalTimeLabel(c->due_ms, cases.utc_offset_min());
    if (c->escalated_ms) name += ", " + std::string(p.T("escalated"));
    if (c->overdue) name += ", " + std::string(p.T("overdue"));
    if (p.Area("case:" + c->id, row, visible, &hovered, name, cases.selected() == c->id)) {
      if (cases.selected() == c->id) {
        cases.Deselect();
      } else {
        cases.Select(c->id);
      }
      *changed = true;
    }
    const bool selected = cases.selected() == c->id;
    const bool late = c->overdue || c->escalated_ms;
    ImU32 fill = selected ? kSelectedRow : late ? kLateRow : hovered ? kChip : kPanel;
    p.dl->AddRectFilled(ImVec2(row.x, row.y), ImVec2(row.x + row.w, row.y + row.h), fill, 6 * s);
    if (late) {
      p.dl->AddRectFilled(ImVec2(row.x, row.y), ImVec2(row.x + 4 * s, row.y + row.h), kBad, 2 * s);
    }
    const float ty = row.y + 8 * s, ty2 = ty + p.f.body->FontSize + 4 * s;
    p.Text(p.f.body, x_state, ty, StateColour(c->state), StateLabel(p, c->state));
    // One badge in the row (an escalated case was overdue); the case panel shows both.
    if (c->escalated_ms || c->overdue) {
      p.dl->PushClipRect(ImVec2(x_state, row.y), ImVec2(x_loc - 6 * s, row.y + row.h), true);
      Badge(p, x_state, ty2, kBadText, p.T(c->escalated_ms ? "escalated" : "overdue"));
      p.dl->PopClipRect();
    }
    p.dl->PushClipRect(ImVec2(x_loc, row.y), ImVec2(x_score - 8 * s, row.y + row.h), true);
    p.Text(p.f.body, x_loc, ty, kInk, c->location);
    p.Text(p.f.small, x_loc, ty2, kMuted, c->assignee.empty() ? p.T("unassigned") : c->assignee);
    p.dl->PopClipRect();
    p.Text(p.f.body, x_score, ty, kInk, ScoreLabel(*c));
    p.Text(p.f.small, x_score, ty2, kMuted, c->survey);
    p.Text(p.f.body, x_opened, ty, kInk, LocalTimeLabel(c->opened_ms, cases.utc_offset_min()));
    p.Text(p.f.body, x_due, ty, c->overdue ? kBadText : kInk,
           LocalTimeLabel(c->due_ms, cases.utc_offset_min()));
    y += row_h;
  }
  p.sem().EndGroup();
  return r.y + panel_h;
}

// The case open on screen: its facts, the contact details as the server sent them, the notes,
// the note field and the next step. Returns the bottom.
float DrawCaseDetail(Painter& p, CaseList& cases, UiRect r, const UiRect& visible, UiFrame* frame,
                     bool* changed) {
  const float s = p.s;
  const float x = r.x + 16 * s, right = r.x + r.w - 16 * s, w = right - x;
  float y = r.y + 14 * s;
  const std::optional<CaseDetail>& open = cases.open_case();
  // Drawn into a channel behind: the panel's height is known only at the end.
  p.dl->ChannelsSplit(2);
  p.dl->ChannelsSetCurrent(1);
  auto finish = [&](float bottom) {
    p.dl->ChannelsSetCurrent(0);
    p.Panel(UiRect{r.x, r.y, r.w, bottom - r.y});
    p.dl->ChannelsMerge();
    p.Item("panel:case", UiRect{r.x, r.y, r.w, bottom - r.y}, visible);
    return bottom;
  };
  if (cases.selected().empty() || !open) {
    const char* key = cases.selected().empty() ? "choose_case" : "opening";
    p.Text(p.f.body, x, y + 6 * s, kMuted, p.T(key));
    y += p.f.body->FontSize + 20 * s;
    if (!cases.error().empty()) {
      p.Text(p.f.small, x, y, kBadText, cases.error());
      y += p.f.small->FontSize + 14 * s;
    }
    return finish(y);
  }
  const CaseSummary& c = open->summary;
  const float cw = p.ChipWidth(p.T("close"));
  if (p.Button("case:close", UiRect{right - cw, y - 4 * s, cw, 28 * s}, p.T("close"), Look::kQuiet,
               visible)) {
    cases.Deselect();
    *changed = true;
    return finish(y + 30 * s);
  }
  p.Text(p.f.large, x, y, StateColour(c.state), StateLabel(p, c.state));
  float bx = x + p.Width(p.f.large, StateLabel(p, c.state)) + 10 * s;
  if (c.overdue) bx += Badge(p, bx, y + 2 * s, kBadText, p.T("overdue")) + 4 * s;
  if (c.escalated_ms) Badge(p, bx, y + 2 * s, kBadText, p.T("escalated"));
  y += p.f.large->FontSize + 8 * s;
  p.Text(p.f.body, x, y, kInk, c.location + "   " + ScoreLabel(c) + "   " + c.survey);
  y += p.f.body->FontSize + 4 * s;
  p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + 2 * p.f.small->FontSize + 8 * s), true);
  p.Text(p.f.small, x, y, kMuted,
         std::string(p.T("opened_at")) + " " + LocalTimeLabel(c.opened_ms, cases.utc_offset_min()) +
             "   " + p.T("due_at") + " " + LocalTimeLabel(c.due_ms, cases.utc_offset_min()) +
             "   " + (c.assignee.empty() ? std::string(p.T("unassigned")) : c.assignee));
  if (!c.category.empty()) {
    y += p.f.small->FontSize + 4 * s;
    p.Text(p.f.small, x, y, kMuted, std::string(p.T("root_cause")) + ": " + c.category);
  }
  p.dl->PopClipRect();
  y += p.f.small->FontSize + 14 * s;

  // The contact details: only what the server's answer holds, only while the case is open here.
  const float box_h = p.f.large->FontSize + p.f.small->FontSize + 26 * s;
  const UiRect box{x, y, w, box_h};
  p.dl->AddRectFilled(ImVec2(box.x, box.y), ImVec2(box.x + box.w, box.y + box.h), kContactBox,
                      6 * s);
  p.Text(p.f.small, x + 12 * s, y + 8 * s, kMuted, p.T("contact"));
  p.dl->PushClipRect(ImVec2(box.x, box.y), ImVec2(box.x + box.w - 8 * s, box.y + box.h), true);
  if (open->contact) {
    p.Text(p.f.large, x + 12 * s, y + 14 * s + p.f.small->FontSize, kInk, *open->contact);
  } else {
    p.Text(p.f.body, x + 12 * s, y + 14 * s + p.f.small->FontSize, kBadText,
           open->contact_error.empty() ? p.T("no_contact") : open->contact_error);
  }
  p.dl->PopClipRect();
  p.Item("case:contact", box, visible);
  y += box_h + 16 * s;

  // Assignment: staff take a case or give it back; managers and the owner pick anyone at the
  // location (the server's `assignees`).
  if (c.state != "resolved") {
    Flow flow(x, right, y, 28 * s, 6 * s);
    if (c.assignee != cases.me()) {
      if (p.Button("case:take", flow.Next(p.ChipWidth(p.T("take"))), p.T("take"),
                   cases.busy() ? Look::kDisabled : Look::kChip, visible)) {
        cases.Assign(cases.me());
        *changed = true;
      }
    } else if (p.Button("case:give_back", flow.Next(p.ChipWidth(p.T("give_back"))),
                        p.T("give_back"), cases.busy() ? Look::kDisabled : Look::kChip, visible)) {
      cases.Assign(std::nullopt);
      *changed = true;
    }
    if (!open->assignees.empty()) {
      const std::string label = std::string(p.T("assign_to")) + ":";
      const UiRect lr = flow.Next(p.Width(p.f.small, label) + 4 * s);
      p.Text(p.f.small, lr.x, lr.y + (lr.h - p.f.small->FontSize) / 2, kMuted, label);
      for (const std::string& name : open->assignees) {
        if (name == cases.me()) continue;
        if (p.Button("assign:" + name, flow.Next(p.ChipWidth(name)), name,
                     name == c.assignee ? Look::kSelected
                     : cases.busy()     ? Look::kDisabled
                                        : Look::kChip,
                     visible) &&
            name != c.assignee) {
          cases.Assign(name);
          *changed = true;
        }
      }
    }
    y = flow.Bottom() + 16 * s;
  }

  // The note field: a real <input> is laid over this box by the page.
  const float field_h = 40 * s;
  const UiRect field{x, y, w, field_h};
  if (field.y + field.h > visible.y && field.y < visible.y + visible.h) {
    p.dl->AddRectFilled(ImVec2(field.x, field.y), ImVec2(field.x + field.w, field.y + field.h),
                        kPanel, 6 * s);
    p.dl->AddRect(ImVec2(field.x, field.y), ImVec2(field.x + field.w, field.y + field.h), kBorder,
                  6 * s, 0, 1.5f * s);
    frame->text_fields.push_back({"note", field, p.f.body->FontSize, p.T("note_placeholder")});
    p.Item("field:note", field, visible);
  }
  y += field_h + 10 * s;

  // The next step, as the server names it; root_cause_found needs a category from the list.
  if (open->next_state == "root_cause_found") {
    p.Text(p.f.small, x, y, kMuted, p.T("root_cause"));
    y += p.f.small->FontSize + 6 * s;
    Flow flow(x, right, y, 28 * s, 6 * s);
    for (const std::string& cat : cases.categories()) {
      if (p.Button("category:" + cat, flow.Next(p.ChipWidth(cat)), cat,
                   cat == cases.chosen_category() ? Look::kSelected : Look::kChip, visible)) {
        cases.ChooseCategory(cat);
        *changed = true;
      }
    }
    y = flow.Bottom() + 10 * s;
  }
  {
    Flow flow(x, right, y, 34 * s, 8 * s);
    if (!open->next_state.empty()) {
      const std::string label = p.T(("next:" + open->next_state).c_str());
      if (p.Button("case:next", flow.Next(p.ChipWidth(label) + 12 * s), label,
                   cases.CanAdvance() ? Look::kSelected : Look::kDisabled, visible)) {
        cases.AdvanceState();
        *changed = true;
      }
    }
    if (p.Button("case:add_note", flow.Next(p.ChipWidth(p.T("add_note"))), p.T("add_note"),
                 cases.note_draft().empty() || cases.busy() ? Look::kDisabled : Look::kChip,
                 visible)) {
      cases.AddNote();
      *changed = true;
    }
    y = flow.Bottom() + 8 * s;
  }
  const char* hint = cases.busy()               ? "sending"
                     : open->next_state.empty() ? "done"
                     : open->next_state == "root_cause_found" && !cases.CanAdvance()
                         ? "need_category"
                         : nullptr;
  if (hint) {
    p.Text(p.f.small, x, y, kMuted, p.T(hint));
    y += p.f.small->FontSize + 8 * s;
  }
  if (!cases.error().empty()) {
    p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + 60 * s), true);
    p.Text(p.f.small, x, y, kBadText, cases.error());
    p.dl->PopClipRect();
    y += p.f.small->FontSize + 8 * s;
  }
  y += 8 * s;

  // Notes, newest last (as the server keeps them).
  p.Text(p.f.body, x, y, kInk, p.T("notes"));
  y += p.f.body->FontSize + 8 * s;
  if (open->notes.empty()) {
    p.Text(p.f.small, x, y, kFaintText, p.T("no_notes"));
    y += p.f.small->FontSize + 8 * s;
  }
  for (const CaseNoteView& n : open->notes) {
    p.Text(p.f.small, x, y, kMuted,
           n.author + "  " + LocalTimeLabel(n.time_ms, cases.utc_offset_min()));
    y += p.f.small->FontSize + 2 * s;
    p.dl->PushClipRect(ImVec2(x, y), ImVec2(right, y + p.f.body->FontSize + 4 * s), true);
    p.Text(p.f.body, x, y, kInk, n.text);
    p.dl->PopClipRect();
    y += p.f.body->FontSize + 10 * s;
  }
  return finish(y + 6 * s);
}

// The follow-up view: list and case side by side on a wide screen, else one under the other.
float DrawCases(Painter& p, const Model& m, CaseList& cases, UiRect r, const UiRect& visible,
                UiFrame* frame, bool* changed) {
  const float s = p.s, gap = 14 * s;
  // A case the location filter no longer shows is closed (its contact details wiped).
  if (!cases.selected().empty()) {
    bool shown = false;
    for (const CaseSummary* c : cases.Shown(m.filter().tags[0])) shown |= c->id == cases.selected();
    if (!shown && cases.loaded()) {
      cases.Deselect();
      *changed = true;
    }
  }
  const float rw = p.ChipWidth(p.T("refresh"));
  if (p.Button("cases:refresh", UiRect{r.x + r.w - rw, r.y - 44 * s, rw, 32 * s}, p.T("refresh"),
               Look::kQuiet, visible)) {
    cases.RequestList();
    *changed = true;
  }
  const bool side_by_side = r.w > 900 * s;
  if (side_by_side) {
    const float lw = (r.w - gap) * 0.56f;
    const float a = DrawCaseList(p, m, cases, UiRect{r.x, r.y, lw, 0}, visible, changed);
    const float b = DrawCaseDetail(p, cases, UiRect{r.x + lw + gap, r.y, r.w - lw - gap, 0},
                                   visible, frame, changed);
    return std::max(a, b) + gap;
  }
  const float a = DrawCaseList(p, m, cases, UiRect{r.x, r.y, r.w, 0}, visible, changed) + gap;
  return DrawCaseDetail(p, cases, UiRect{r.x, a, r.w, 0}, visible, frame, changed) + gap;
}

// [SECTION] Main area -------------------------------------------------------------------------

const char* TabName(Tab tab) {
  return tab == Tab::kOverview ? "overview" : tab == Tab::kCharts ? "charts" : "cases";
}

void DrawMain(Painter& p, Model& m, CaseList& cases, UiState& st, const Figures& fig,
              const UiRect& r, UiFrame* frame, bool* changed) {
  const float s = p.s;
  const ImGuiIO& io = ImGui::GetIO();
  const bool over = io.MousePos.x >= r.x && io.MousePos.x < r.x + r.w && io.MousePos.y >= r.y &&
                    io.MousePos.y < r.y + r.h;
  if (over && io.MouseWheel != 0) {
    st.main_scroll -= io.MouseWheel * 48 * s;
    *changed = true;
  }
  p.dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), true);
  const float pad = 20 * s;
  const float x0 = r.x + pad, w = r.w - 2 * pad;
  float y = r.y + 16 * s - st.main_scroll;

  // Tabs.
  float x = x0;
  for (Tab tab : {Tab::kOverview, Tab::kCharts, Tab::kCases}) {
    const char* key = TabName(tab);
    std::string label = p.T(key);
    if (tab == Tab::kCases && cases.loaded()) {
      int waiting = 0;
      for (const CaseSummary* c : cases.Shown(m.filter().tags[0])) waiting += c->call_back_today;
      if (waiting > 0) label += "  (" + std::to_string(waiting) + ")";
    }
    const float tw = p.ChipWidth(label) + 12 * s;
    if (p.Button(std::string("tab:") + key, UiRect{x, y, tw, 32 * s}, label,
                 st.tab == tab ? Look::kSelected : Look::kChip, r)) {
      st.tab = tab;
      st.main_scroll = 0;
      if (tab == Tab::kCases) cases.RequestList();  // fresh on every visit
      *changed = true;
    }
    x += tw + 8 * s;
  }
  y += 44 * s;

  if (st.tab == Tab::kCases) {
    y = DrawCases(p, m, cases, UiRect{x0, y, w, 0}, r, frame, changed);
    p.dl->PopClipRect();
    const float content = y + st.main_scroll - r.y;
    st.main_scroll = std::clamp(st.main_scroll, 0.0f, std::max(0.0f, content - r.h));
    return;
  }

  if (!fig.ready) {
    p.Text(p.f.large, x0, y + 20 * s, kMuted, fig.error.empty() ? p.T("loading") : fig.error);
    p.dl->PopClipRect();
    return;
  }
  // What is selected, against what.
  const Filter& f = m.filter();
  const int64_t days = f.to_day - f.from_day + 1;
  const std::string summary =
      DayLabel(f.from_day) + " .. " + DayLabel(f.to_day) + "  (" + std::to_string(days) + " " +
      p.T("days") + ")   " + Count(fig.current.all.outcomes.Offered()) + " " + p.T("offered") +
      ", " + Count(fig.current.all.outcomes.completed) + " " + p.T("completed") + "   " +
      p.T("vs") + " " + DayLabel(f.from_day - days) + " .. " + DayLabel(f.from_day - 1);
  p.Text(p.f.body, x0, y, kMuted, summary);
  y += p.f.body->FontSize + 14 * s;
  if (fig.current.selected == 0) {
    p.Text(p.f.large, x0, y + 10 * s, kMuted, p.T("nothing"));
    y += 60 * s;
  }

  if (st.tab == Tab::kOverview) {
    const std::vector<Card> cards = BuildCards(p, fig);
    const float gap = 14 * s;
    const int columns = std::clamp(static_cast<int>((w + gap) / (240 * s + gap)), 1, 4);
    const float cw = (w - gap * static_cast<float>(columns - 1)) / static_cast<float>(columns);
    const float ch = 186 * s;
    for (std::size_t i = 0; i < cards.size(); ++i) {
      const int col = static_cast<int>(i) % columns, row = static_cast<int>(i) / columns;
      DrawCard(p, cards[i],
               UiRect{x0 + (cw + gap) * static_cast<float>(col),
                      y + (ch + gap) * static_cast<float>(row), cw, ch},
               r);
    }
    y += (ch + gap) * std::ceil(static_cast<float>(cards.size()) / static_cast<float>(columns));
    const bool side_by_side = w > 900 * s;
    const float chart_h = 300 * s;
    const float trend_w = side_by_side ? (w - gap) * 0.62f : w;
    DrawTrend(p, m, fig, UiRect{x0, y, trend_w, chart_h}, r, changed);
    if (side_by_side) {
      DrawDistribution(p, fig, UiRect{x0 + trend_w + gap, y, w - trend_w - gap, chart_h}, r);
      y += chart_h + gap;
    } else {
      y += chart_h + gap;
      DrawDistribution(p, fig, UiRect{x0, y, w, chart_h}, r);
      y += chart_h + gap;
    }
  } else {
    const float gap = 14 * s;
    y = DrawGroups(p, m, fig, UiRect{x0, y, w, 0}, r, changed) + gap;
    const bool side_by_side = w > 900 * s;
    const float qh = 380 * s;
    const float qw = side_by_side ? (w - gap) * 0.55f : w;
    DrawQuadrant(p, m, st, fig, UiRect{x0, y, qw, qh}, r);
    if (side_by_side) {
      DrawDrivers(p, m, st, fig, UiRect{x0 + qw + gap, y, w - qw - gap, qh}, r);
      y += qh + gap;
    } else {
      y += qh + gap;
      DrawDrivers(p, m, st, fig, UiRect{x0, y, w, qh}, r);
      y += qh + gap;
    }
  }
  p.dl->PopClipRect();
  const float content = y + st.main_scroll - r.y;
  st.main_scroll = std::clamp(st.main_scroll, 0.0f, std::max(0.0f, content - r.h));
}

}  // namespace

const char* UiText(const std::string& language, const char* key) {
  for (const UiString& s : kStrings) {
    if (std::strcmp(s.key, key) == 0) {
      if (language == "ru") return s.ru;
      if (language == "uk") return s.uk;
      return s.en;
    }
  }
  return key;
}

std::string PickUiLanguage(const std::vector<std::string>& preferred) {
  for (const std::string& tag : preferred) {
    const std::string primary = tag.substr(0, tag.find('-'));
    std::string lower;
    for (char c : primary) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (lower == "en" || lower == "ru" || lower == "uk") return lower;
  }
  return "en";
}

bool DrawDashboard(Model& model, CaseList& cases, UiState& state, const UiFonts& fonts, float scale,
                   UiFrame* frame) {
  frame->items.clear();
  frame->text_fields.clear();
  frame->semantics.BeginFrame(state.language, scale);
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0);
  ImGui::PushStyleColor(ImGuiCol_WindowBg, kBackground);
  ImGui::Begin("dashboard", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoScrollWithMouse);
  Painter p(state, fonts, scale, frame);
  const Figures& fig = model.figures();
  bool changed = false;
  const float width = io.DisplaySize.x, height = io.DisplaySize.y;
  const float bar = 56 * scale;
  const float side = std::min(288 * scale, width * 0.34f);
  DrawTopBar(p, model, cases, state, width, &changed);
  DrawSidebar(p, model, state, UiRect{0, bar + 1, side, height - bar - 1}, &changed);
  DrawMain(p, model, cases, state, fig,
           UiRect{side + 1, bar + 1, width - side - 1, height - bar - 1}, frame, &changed);
  ImGui::End();
  ImGui::PopStyleColor();
  ImGui::PopStyleVar(2);
  frame->semantics.EndFrame();
  return changed;
}

}  // namespace canvass::dashboard
