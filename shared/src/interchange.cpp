#include "canvass/interchange.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>

#include "canvass/crypto.h"

namespace canvass {
namespace {

using rapidjson::Value;

constexpr int kNotJson = static_cast<int>(Refusal::kNotJson);
constexpr int kWrongType = static_cast<int>(Refusal::kWrongType);

// Reads a fixed number of decimal digits at `pos`; -1 if they are not all digits.
int Digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Result<AnswerValue> ReadAnswer(const Value& v, const Question* q, const std::string& id) {
  const std::string where = "answers." + id;
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(where + ": " + why).WithReason(kWrongType);
  };
  if (v.IsInt()) return AnswerValue(ScaleAnswer{v.GetInt()});
  if (v.IsNumber()) return bad("must be a whole number");
  if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    if (q && (q->kind == QuestionKind::kSingleChoice || q->kind == QuestionKind::kMultiChoice)) {
      return AnswerValue(ChoiceAnswer{{s}, ""});
    }
    return AnswerValue(TextAnswer{s});
  }
  if (v.IsArray()) {
    ChoiceAnswer c;
    for (const Value& item : v.GetArray()) {
      if (!item.IsString()) return bad("choices must be strings");
      c.ids.emplace_back(item.GetString(), item.GetStringLength());
    }
    std::sort(c.ids.begin(), c.ids.end());
    c.ids.erase(std::unique(c.ids.begin(), c.ids.end()), c.ids.end());
    return AnswerValue(c);
  }
  if (v.IsObject()) {
    if (v.HasMember("importance") || v.HasMember("satisfaction")) {
      auto imp = v.FindMember("importance"), sat = v.FindMember("satisfaction");
      if (imp == v.MemberEnd() || sat == v.MemberEnd() || !imp->value.IsInt() ||
          !sat->value.IsInt()) {
        return bad("needs whole-number importance and satisfaction");
      }
      return AnswerValue(CsiAnswer{imp->value.GetInt(), sat->value.GetInt()});
    }
    if (v.HasMember("consent")) {
      auto c = v.FindMember("consent");
      if (!c->value.IsBool()) return bad("consent must be true or false");
      ContactAnswer contact{c->value.GetBool(), ""};
      // Details appear only in input typed at a device (canvass device record); they are
      // sealed before the record exists and never exported.
      if (auto d = v.FindMember("details"); d != v.MemberEnd()) {
        if (!d->value.IsString()) return bad("details must be a string");
        contact.details.assign(d->value.GetString(), d->value.GetStringLength());
      }
      return AnswerValue(contact);
    }
    if (v.HasMember("choices")) {
      auto list = v.FindMember("choices");
      auto other = v.FindMember("other");
      if (!list->value.IsArray()) return bad("choices must be a list");
      Result<AnswerValue> choice = ReadAnswer(list->value, q, id);
      if (!choice.ok()) return choice;
      ChoiceAnswer c = std::get<ChoiceAnswer>(*choice);
      if (other != v.MemberEnd()) {
        if (!other->value.IsString()) return bad("other must be a string");
        c.other = other->value.GetString();
      }
      return AnswerValue(c);
    }
    return bad("unknown answer object");
  }
  return bad("unsupported value");
}

}  // namespace

std::int64_t DaysFromCivil(std::int32_t y, std::uint32_t m, std::uint32_t d) {
  // Howard Hinnant's algorithm.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::uint32_t yoe = static_cast<std::uint32_t>(y - era * 400);
  const std::uint32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int32_t* year, std::uint32_t* month, std::uint32_t* day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::uint32_t doe = static_cast<std::uint32_t>(z - era * 146097);
  const std::uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const std::uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint32_t mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<std::int32_t>(y + (*month <= 2));
}

std::string FormatIsoTime(std::int64_t ms) {
  // Floor division without negating ms: -INT64_MIN overflows (a record may carry any time).
  std::int64_t days = ms / 86400000;
  std::int64_t rest = ms % 86400000;
  if (rest < 0) {
    --days;
    rest += 86400000;
  }
  std::int32_t y;
  std::uint32_t mo, d;
  CivilFromDays(days, &y, &mo, &d);
  char buf[40];
  const int h = static_cast<int>(rest / 3600000), mi = static_cast<int>(rest / 60000 % 60),
            s = static_cast<int>(rest / 1000 % 60), frac = static_cast<int>(rest % 1000);
  if (frac) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, frac);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
  }
  return buf;
}

Result<std::int64_t> ParseIsoTime(std::string_view t) {
  auto bad = [&]() {
    return Status::InvalidArgument("\"" + std::string(t) +
                                   "\" is not a time like 2026-11-22 or 2026-11-22T10:00:00Z");
  };
  int y = Digits(t, 0, 4), mo = Digits(t, 5, 2), d = Digits(t, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || t.size() < 10 || t[4] != '-' ||
      t[7] != '-') {
    return bad();
  }
  std::int64_t ms =
      DaysFromCivil(y, static_cast<std::uint32_t>(mo), static_cast<std::uint32_t>(d)) * 86400000;
  if (t.size() == 10) return ms;
  if (t[10] != 'T' && t[10] != ' ') return bad();
  int h = Digits(t, 11, 2), mi = Digits(t, 14, 2), s = Digits(t, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || t[13] != ':' || t[16] != ':') {
    return bad();
  }
  ms += (h * 3600 + mi * 60 + s) * 1000LL;
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    int scale = 100;
    for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos) {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos == t.size()) return bad();  // a time needs a zone: Z or an offset
  if (t[pos] == 'Z' && pos + 1 == t.size()) return ms;
  if ((t[pos] == '+' || t[pos] == '-') && pos + 6 == t.size() && t[pos + 3] == ':') {
    int oh = Digits(t, pos + 1, 2), om = Digits(t, pos + 4, 2);
    if (oh < 0 || om < 0) return bad();
    std::int64_t offset = (oh * 60 + om) * 60000LL;
    return t[pos] == '+' ? ms - offset : ms + offset;
  }
  return bad();
}

std::string CsvCell(std::string_view s) {
  std::string cell;
  if (!s.empty() && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) {
    // A number ("-5", "-0.25") is data, not a formula; anything else gets a leading '.
    std::size_t digits = 0, dots = 0, i = s[0] == '-' ? 1 : s.size();
    for (; i < s.size(); ++i) {
      if (s[i] >= '0' && s[i] <= '9') {
        ++digits;
      } else if (s[i] == '.' && ++dots == 1) {
        continue;
      } else {
        break;
      }
    }
    if (i != s.size() || digits == 0) cell = "'";
  }
  cell += s;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string ToJsonLine(const ResponseRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("survey");
  str(r.survey_id);
  w.Key("survey_version");
  str(ToHex(r.survey_version));
  w.Key("device");
  str(r.device_id);
  w.Key("seq");
  w.Uint64(r.seq);
  w.Key("time");
  str(FormatIsoTime(r.device_time_ms));
  w.Key("outcome");
  w.String(OutcomeName(r.outcome));
  w.Key("tags");
  w.StartObject();
  for (const auto& [k, v] : r.tags) {
    str(k);
    str(v);
  }
  w.EndObject();
  if (!r.customer_key.empty()) {
    w.Key("customer");
    str(r.customer_key);
  }
  w.Key("answers");
  w.StartObject();
  for (const auto& [id, value] : r.answers) {
    str(id);
    std::visit(
        [&](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, ScaleAnswer>) {
            w.Int(a.value);
          } else if constexpr (std::is_same_v<T, TextAnswer>) {
            str(a.text);
          } else if constexpr (std::is_same_v<T, ChoiceAnswer>) {
            if (!a.other.empty()) {
              w.StartObject();
              w.Key("choices");
            }
            w.StartArray();
            for (const auto& c : a.ids) str(c);
            w.EndArray();
            if (!a.other.empty()) {
              w.Key("other");
              str(a.other);
              w.EndObject();
            }
          } else if constexpr (std::is_same_v<T, CsiAnswer>) {
            w.StartObject();
            w.Key("importance");
            w.Int(a.importance);
            w.Key("satisfaction");
            w.Int(a.satisfaction);
            w.EndObject();
          } else {
            w.StartObject();
            w.Key("consent");
            w.Bool(a.consent);
            w.EndObject();
          }
        },
        value);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ResponseRecord> ParseJsonLine(std::string_view line, const Survey* survey) {
  rapidjson::Document doc;
  // Iterative: the recursive parser overflows the stack on deeply nested input ("[[[[...").
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument(std::string("not valid JSON at byte ") +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()))
        .WithReason(kNotJson);
  }
  if (!doc.IsObject()) {
    return Status::InvalidArgument("a line must be a JSON object").WithReason(kNotJson);
  }
  ResponseRecord r;
  auto get_string = [&](const char* key, bool required, std::string* out) -> Status {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd()) {
      return required ? Status::InvalidArgument(std::string(key) + ": is missing")
                            .WithReason(static_cast<int>(Refusal::kMissingField))
                      : Status::Ok();
    }
    if (!it->value.IsString()) {
      return Status::InvalidArgument(std::string(key) + ": must be a string")
          .WithReason(kWrongType);
    }
    *out = std::string(it->value.GetString(), it->value.GetStringLength());
    return Status::Ok();
  };
  std::string version, time, outcome;
  Status s = get_string("survey", true, &r.survey_id);
  if (s.ok()) s = get_string("survey_version", false, &version);
  if (s.ok()) s = get_string("device", false, &r.device_id);
  if (s.ok()) s = get_string("time", true, &time);
  if (s.ok()) s = get_string("outcome", true, &outcome);
  if (s.ok()) s = get_string("customer", false, &r.customer_key);
  if (!s.ok()) return s;
  if (survey && r.survey_id != survey->id) {
    return Status::InvalidArgument("survey: \"" + r.survey_id + "\" is not the survey \"" +
                                   survey->id + "\"")
        .WithReason(static_cast<int>(Refusal::kOtherSurvey));
  }
  if (!version.empty()) {
    Result<Hash256> h = ArrayFromHex<32>(version);
    if (!h.ok()) return h.status().WithContext("survey_version");
    r.survey_version = *h;
  }
  Result<std::int64_t> ms = ParseIsoTime(time);
  if (!ms.ok()) return ms.status().WithContext("time");
  r.device_time_ms = *ms;
  Result<Outcome> o = ParseOutcome(outcome);
  if (!o.ok()) return o.status().WithContext("outcome");
  r.outcome = *o;
  if (auto seq = doc.FindMember("seq"); seq != doc.MemberEnd()) {
    if (!seq->value.IsUint64()) {
      return Status::InvalidArgument("seq: must be a whole number").WithReason(kWrongType);
    }
    r.seq = seq->value.GetUint64();
  }
  if (auto tags = doc.FindMember("tags"); tags != doc.MemberEnd()) {
    if (!tags->value.IsObject()) {
      return Status::InvalidArgument("tags: must be an object").WithReason(kWrongType);
    }
    for (const auto& m : tags->value.GetObject()) {
      if (!m.value.IsString()) {
        return Status::InvalidArgument(std::string("tags.") + m.name.GetString() +
                                       ": must be a string")
            .WithReason(kWrongType);
      }
      r.tags[m.name.GetString()] = std::string(m.value.GetString(), m.value.GetStringLength());
    }
  }
  if (auto answers = doc.FindMember("answers"); answers != doc.MemberEnd()) {
    if (!answers->value.IsObject()) {
      return Status::InvalidArgument("answers: must be an object").WithReason(kWrongType);
    }
    for (const auto& m : answers->value.GetObject()) {
      std::string id(m.name.GetString(), m.name.GetStringLength());
      const Question* q = nullptr;
      if (survey) {
        int index = survey->FindQuestion(id);
        if (index < 0) {
          return Status::InvalidArgument("answers." + id + ": no such question in survey \"" +
                                         survey->id + "\"")
              .WithReason(static_cast<int>(Refusal::kUnknownQuestion));
        }
        q = &survey->questions[static_cast<std::size_t>(index)];
      }
      Result<AnswerValue> value = ReadAnswer(m.value, q, id);
      if (!value.ok()) return value.status();
      if (q) {
        Status valid = ValidateAnswer(*q, *value);
        // Optional text may be empty in an export; consent without details is how it is exported.
        if (!valid.ok() && !std::holds_alternative<ContactAnswer>(*value)) {
          return valid.WithContext("answers." + id);
        }
      }
      r.answers[id] = std::move(*value);
    }
  }
  return r;
}

}  // namespace canvass
