// The dashboard's UI strings (texts.cpp), in "en", "ru" and "uk".
#pragma once

#include <string>
#include <vector>

namespace canvass::dashboard {

// UI strings in "en", "ru" or "uk" (English when missing).
const char* UiText(const std::string& language, const char* key);
// The first of `preferred` (e.g. navigator.languages, "uk-UA") the dashboard speaks, else "en".
std::string PickUiLanguage(const std::vector<std::string>& preferred);

}  // namespace canvass::dashboard
