#include "canvass/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace canvass {

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string FormatNumber(double value, int decimals) {
  static constexpr int64_t kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  decimals = std::clamp(decimals, 0, 6);
  // Only finite values of a sane size reach here from the metrics; anything else prints as null
  // so the JSON stays valid.
  if (!(value > -1e12 && value < 1e12)) return "null";
  // One correctly rounded multiplication and exact floor: the same digits on every target.
  const double scaled = value * static_cast<double>(kScale[decimals]);
  const double rounded = scaled < 0 ? -std::floor(-scaled + 0.5) : std::floor(scaled + 0.5);
  const int64_t units = static_cast<int64_t>(rounded);
  if (units == 0) return "0";
  const uint64_t magnitude = static_cast<uint64_t>(units < 0 ? -units : units);
  const uint64_t scale = static_cast<uint64_t>(kScale[decimals]);
  std::string out = (units < 0 ? "-" : "") + std::to_string(magnitude / scale);
  uint64_t fraction = magnitude % scale;
  if (fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, static_cast<std::size_t>(decimals) - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

int Json::Depth() const {
  int depth = 0;
  for (const auto& m : members_) depth = std::max(depth, m.second.Depth());
  return type_ == kScalar ? 0 : depth + 1;
}

void Json::WriteCompact(std::string* out, bool spaced) const {
  if (type_ == kScalar) {
    *out += scalar_;
    return;
  }
  const bool object = type_ == kObject;
  *out += object ? '{' : '[';
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (i) *out += spaced ? ", " : ",";
    if (object) {
      *out += JsonQuote(members_[i].first);
      *out += spaced ? ": " : ":";
    }
    members_[i].second.WriteCompact(out, spaced);
  }
  *out += object ? '}' : ']';
}

void Json::WritePretty(std::string* out, int indent) const {
  if (type_ == kScalar) {
    *out += scalar_;
    return;
  }
  std::string compact;
  WriteCompact(&compact, true);
  if (Depth() <= 2 && static_cast<std::size_t>(indent) + compact.size() <= 100) {
    *out += compact;
    return;
  }
  const bool object = type_ == kObject;
  *out += object ? "{\n" : "[\n";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    out->append(static_cast<std::size_t>(indent + 2), ' ');
    if (object) *out += JsonQuote(members_[i].first) + ": ";
    members_[i].second.WritePretty(out, indent + 2);
    *out += i + 1 < members_.size() ? ",\n" : "\n";
  }
  out->append(static_cast<std::size_t>(indent), ' ');
  *out += object ? "}" : "]";
}

std::string Json::Compact() const {
  std::string out;
  WriteCompact(&out, false);
  return out;
}

std::string Json::Pretty() const {
  std::string out;
  WritePretty(&out, 0);
  return out;
}

}  // namespace canvass
