// Tests for the UI toolkit's strings (wasm/ui/strings.h): the lookup every app's UiText goes
// through, the UI language picked from the browser's, and the languages' own names.
#include "ui/strings.h"

#include <catch2/catch.hpp>

#include <string>

namespace canvass::ui {
namespace {

constexpr UiString kTable[] = {
    {"next", "Next", "Далее", "Далі"},
    {"back", "Back", "Назад", "Назад"},
};

TEST_CASE("LookUp finds a key in the language, English otherwise, the key when missing", "[ui]") {
  CHECK(std::string(LookUp(kTable, "en", "next")) == "Next");
  CHECK(std::string(LookUp(kTable, "ru", "next")) == "Далее");
  CHECK(std::string(LookUp(kTable, "uk", "next")) == "Далі");
  CHECK(std::string(LookUp(kTable, "de", "back")) == "Back");
  CHECK(std::string(LookUp(kTable, "ru", "missing")) == "missing");
}

TEST_CASE("PickUiLanguage takes the first language the apps speak", "[ui]") {
  CHECK(PickUiLanguage({"de-DE", "uk-UA", "en"}) == "uk");
  CHECK(PickUiLanguage({"RU"}) == "ru");
  CHECK(PickUiLanguage({"fr", "de"}) == "en");
  CHECK(PickUiLanguage({}) == "en");
}

TEST_CASE("LanguageName gives a language's own name", "[ui]") {
  CHECK(std::string(LanguageName("uk")) == "Українська");
  CHECK(std::string(LanguageName("ru")) == "Русский");
  CHECK(std::string(LanguageName("en")) == "English");
  CHECK(std::string(LanguageName("pl")) == "pl");
}

}  // namespace
}  // namespace canvass::ui
