// The one JSON writer of Canvass: a small tree of values, built member by member and printed in
// one of two layouts. Reports (docs/report.md), the dashboard's and the widget's embind answers,
// the server's hand-made bodies and the CLI's files all write JSON through this, so quoting and
// numbers are the same everywhere. Reading JSON stays with rapidjson.
//
//   Json j = Json::Object();
//   j.Add("ok", Json::Bool(true)).Add("n", Json::Count(3));
//   j.Compact()  -> {"ok":true,"n":3}
//   j.Pretty()   -> {"ok": true, "n": 3}      (the report layout, below)
//
// Keys keep the order they were added in (the caller fixes the layout); nothing checks that they
// are unique. Numbers are printed with FormatNumber (our own digits, never "-0", the same natively
// and in wasm); a non-finite number prints as null. Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace canvass {

// `s` as a JSON string literal, quotes included: " and \ escaped, \n \r \t, other control
// characters as \u00xx; every other byte as it is (UTF-8 passes through).
std::string JsonQuote(std::string_view s);

// A number as JSON and reports print it: rounded half away from zero to `decimals` (0..6) by
// integer arithmetic, trailing zeros dropped, never "-0": 22.375, -5, 0.3333. Identical on every
// target. Values outside +-1e12 (or not finite) print as "null".
std::string FormatNumber(double value, int decimals = 4);

class Json {
 public:
  static Json Null() { return Json(kScalar, "null"); }
  static Json Bool(bool b) { return Json(kScalar, b ? "true" : "false"); }
  static Json Number(double v, int decimals = 4) {
    return Json(kScalar, FormatNumber(v, decimals));
  }
  static Json Count(uint64_t v) { return Json(kScalar, std::to_string(v)); }
  static Json Int(int64_t v) { return Json(kScalar, std::to_string(v)); }
  static Json Str(std::string_view s) { return Json(kScalar, JsonQuote(s)); }
  static Json StrOrNull(std::string_view s) { return s.empty() ? Null() : Str(s); }
  // Text that already is one JSON value (e.g. printed by another Json, or a stored document).
  // Printed as it is, and counted as a scalar by the pretty layout.
  static Json Raw(std::string json) { return Json(kScalar, std::move(json)); }
  static Json Array() { return Json(kArray, ""); }
  static Json Object() { return Json(kObject, ""); }

  // Object: appends the member `key`. Array: appends `value` (the key is ignored).
  Json& Add(std::string key, Json value) {
    members_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  // Array: appends `value`.
  Json& Push(Json value) { return Add(std::string(), std::move(value)); }
  bool empty() const { return members_.empty(); }  // a container with no member yet

  // No whitespace at all: {"a":1,"b":[2,3]}. For machines (embind answers, request bodies).
  std::string Compact() const;
  // The report layout: a container goes on one line ({"a": 1, "b": [2, 3]}) when that line fits
  // in 100 columns and holds nothing deeper than arrays of scalars; otherwise one member per line,
  // indented by two. No trailing newline.
  std::string Pretty() const;
  // Pretty(), appended to `out` as if it started at column `indent`.
  void WritePretty(std::string* out, int indent) const;

 private:
  enum Type { kScalar, kArray, kObject };
  Json(Type type, std::string scalar) : type_(type), scalar_(std::move(scalar)) {}

  int Depth() const;
  void WriteCompact(std::string* out, bool spaced) const;

  Type type_;
  std::string scalar_;  // kScalar: the printed value
  std::vector<std::pair<std::string, Json>> members_;
};

}  // namespace canvass
