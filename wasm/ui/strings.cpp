#include "strings.h"

#include <cstring>

namespace canvass::ui {

const char* LookUp(std::span<const UiString> table, const std::string& language, const char* key) {
  for (const UiString& s : table) {
    if (std::strcmp(s.key, key) != 0) continue;
    if (language == "ru") return s.ru;
    if (language == "uk") return s.uk;
    return s.en;
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

const char* LanguageName(const std::string& code) {
  if (code == "ru") return "Русский";
  if (code == "uk") return "Українська";
  if (code == "en") return "English";
  return code.c_str();
}

}  // namespace canvass::ui
