#include "canvass/json.h"

#include <catch2/catch.hpp>

using canvass::Json;

TEST_CASE("json: compact has no whitespace; pretty is the report layout") {
  Json j = Json::Object();
  j.Add("ok", Json::Bool(true)).Add("n", Json::Count(3)).Add("none", Json::Null());
  j.Add("list", Json::Array().Push(Json::Int(-2)).Push(Json::Number(0.125, 2)));
  CHECK(j.Compact() == R"({"ok":true,"n":3,"none":null,"list":[-2,0.13]})");
  CHECK(j.Pretty() == R"({"ok": true, "n": 3, "none": null, "list": [-2, 0.13]})");
}

TEST_CASE("json: pretty breaks deep or long containers one member per line") {
  Json inner = Json::Object().Add("a", Json::Array().Push(Json::Count(1)));
  Json outer = Json::Object();
  outer.Add("inner", std::move(inner)).Add("s", Json::Str("x"));
  CHECK(outer.Pretty() == "{\n  \"inner\": {\"a\": [1]},\n  \"s\": \"x\"\n}");
  Json wide = Json::Array();
  for (int i = 0; i < 30; ++i) wide.Push(Json::Str("abc"));
  CHECK(wide.Pretty().find("[\n  \"abc\",\n") == 0);
}

TEST_CASE("json: strings are quoted once, raw text is kept, numbers as FormatNumber") {
  CHECK(Json::Str("a\"b\\c\n\x01").Compact() == "\"a\\\"b\\\\c\\n\\u0001\"");
  CHECK(Json::StrOrNull("").Compact() == "null");
  Json j = Json::Object().Add("doc", Json::Raw(R"({"x": 1})"));
  CHECK(j.Compact() == R"({"doc":{"x": 1}})");
  CHECK(Json::Number(-0.00001).Compact() == "0");
  CHECK(Json::Number(1e13).Compact() == "null");
  CHECK(Json::Array().Compact() == "[]");
  CHECK(Json::Object().Pretty() == "{}");
}
