// UI strings of the wasm apps (the Canvass UI toolkit, wasm/ui/): each app keeps its own table of
// chrome texts in English, Russian and Ukrainian (survey texts come from the survey itself) and
// looks them up here, English when the language is another, the key itself when it is missing.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace canvass::ui {

struct UiString {
  const char* key;
  const char* en;
  const char* ru;
  const char* uk;
};

// The text of `key` in `language` ("en", "ru", "uk"; English for any other), or `key` itself.
const char* LookUp(std::span<const UiString> table, const std::string& language, const char* key);

// The first of `preferred` (e.g. navigator.languages, "uk-UA") the apps speak, else "en".
std::string PickUiLanguage(const std::vector<std::string>& preferred);

// A language's own name ("Русский"), for language buttons; other codes as they are.
const char* LanguageName(const std::string& code);

}  // namespace canvass::ui
