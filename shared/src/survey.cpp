#include "canvass/survey.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace canvass {
namespace {

using rapidjson::Value;

// A validation failure at a field path; caught once in ParseSurvey.
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& path, const std::string& why) {
  throw FieldError(path + ": " + why);
}

// Reads the members of one JSON object, remembering which were used so that an unknown (e.g.
// misspelt) field is reported instead of silently ignored.
class ObjectReader {
 public:
  ObjectReader(const Value& v, std::string path) : v_(v), path_(std::move(path)) {
    if (!v.IsObject()) Fail(path_, "must be an object");
  }
  const std::string& path() const { return path_; }
  std::string At(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const Value* Find(const char* key) {
    used_.insert(key);
    auto it = v_.FindMember(key);
    return it == v_.MemberEnd() ? nullptr : &it->value;
  }
  const Value& Need(const char* key) {
    const Value* v = Find(key);
    if (!v) Fail(At(key), "is missing");
    return *v;
  }
  std::string String(const char* key, std::optional<std::string> fallback = std::nullopt) {
    const Value* v = Find(key);
    if (!v) {
      if (fallback) return *fallback;
      Fail(At(key), "is missing");
    }
    if (!v->IsString()) Fail(At(key), "must be a string");
    return std::string(v->GetString(), v->GetStringLength());
  }
  std::int32_t Int(const char* key, std::optional<std::int32_t> fallback = std::nullopt) {
    const Value* v = Find(key);
    if (!v) {
      if (fallback) return *fallback;
      Fail(At(key), "is missing");
    }
    if (!v->IsInt()) Fail(At(key), "must be a whole number");
    return v->GetInt();
  }
  bool Bool(const char* key, bool fallback) {
    const Value* v = Find(key);
    if (!v) return fallback;
    if (!v->IsBool()) Fail(At(key), "must be true or false");
    return v->GetBool();
  }
  void RejectUnknown() const {
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      std::string name(it->name.GetString(), it->name.GetStringLength());
      if (!used_.count(name)) Fail(At(name.c_str()), "unknown field (misspelt?)");
    }
  }

 private:
  const Value& v_;
  std::string path_;
  std::set<std::string> used_;
};

void CheckId(const std::string& id, const std::string& path) {
  if (id.empty() || id.size() > 64) Fail(path, "must be 1 to 64 characters");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) Fail(path, "\"" + id + "\" may hold only letters, digits, '_', '-' and '.'");
  }
}

LocalizedText ReadText(const Value* v, const std::string& path) {
  LocalizedText t;
  if (!v) return t;
  if (v->IsString()) Fail(path, "must be an object of language -> text, e.g. {\"en\": \"...\"}");
  if (!v->IsObject()) Fail(path, "must be an object of language -> text");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string lang(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsString()) Fail(path + "." + lang, "must be a string");
    t.by_language[lang] = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  return t;
}

// Every text must exist in the fallback language; others may be missing (they fall back).
void RequireFallback(const LocalizedText& t, const std::string& fallback, const std::string& path) {
  auto it = t.by_language.find(fallback);
  if (it == t.by_language.end() || it->second.empty()) {
    Fail(path, "no text in the fallback language \"" + fallback + "\"");
  }
}

ScaleStyle ReadStyle(ObjectReader& o) {
  std::string s = o.String("style", std::string("numbers"));
  if (s == "numbers") return ScaleStyle::kNumbers;
  if (s == "stars") return ScaleStyle::kStars;
  if (s == "smileys") return ScaleStyle::kSmileys;
  Fail(o.At("style"), "unknown style \"" + s + "\" (expected numbers, stars or smileys)");
}

Scale ReadScale(const Value& v, const std::string& path) {
  ObjectReader o(v, path);
  Scale s;
  s.min = o.Int("min");
  s.max = o.Int("max");
  if (s.min >= s.max) {
    Fail(path, "min (" + std::to_string(s.min) + ") must be less than max (" +
                   std::to_string(s.max) + ")");
  }
  if (s.max - s.min > 100) Fail(path, "a scale may have at most 101 points");
  s.style = ReadStyle(o);
  if (s.style == ScaleStyle::kSmileys && s.max - s.min + 1 != 4 && s.max - s.min + 1 != 5) {
    Fail(o.At("style"), "smileys need a scale of 4 or 5 points");
  }
  s.min_label = ReadText(o.Find("min_label"), o.At("min_label"));
  s.max_label = ReadText(o.Find("max_label"), o.At("max_label"));
  o.RejectUnknown();
  return s;
}

QuestionKind ParseKind(const std::string& s, const std::string& path) {
  static const std::pair<const char*, QuestionKind> kKinds[] = {
      {"nps", QuestionKind::kNps},
      {"rating", QuestionKind::kRating},
      {"single_choice", QuestionKind::kSingleChoice},
      {"multi_choice", QuestionKind::kMultiChoice},
      {"text", QuestionKind::kText},
      {"csi_attribute", QuestionKind::kCsiAttribute},
      {"contact", QuestionKind::kContact},
  };
  for (const auto& [name, kind] : kKinds) {
    if (s == name) return kind;
  }
  Fail(path, "unknown question kind \"" + s +
                 "\" (expected nps, rating, single_choice, multi_choice, text, csi_attribute or "
                 "contact)");
}

MetricRole ParseRole(const std::string& s, const std::string& path) {
  for (MetricRole r :
       {MetricRole::kNps, MetricRole::kCsat, MetricRole::kCes, MetricRole::kCliRecommend,
        MetricRole::kCliRepurchase, MetricRole::kCliCrossBuy, MetricRole::kCsi}) {
    if (s == MetricRoleName(r)) return r;
  }
  Fail(path, "unknown metric role \"" + s +
                 "\" (expected nps, csat, ces, cli.recommend, cli.repurchase, cli.cross_buy or "
                 "csi)");
}

std::variant<std::int32_t, std::string> ReadConditionValue(const Value& v,
                                                           const std::string& path) {
  if (v.IsInt()) return v.GetInt();
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  Fail(path, "must be a whole number or a string");
}

Condition ReadCondition(const Value& v, const std::string& path, const Survey& survey,
                        int self_index) {
  ObjectReader o(v, path);
  Condition c;
  c.question = o.String("question");
  int target = survey.FindQuestion(c.question);
  if (target < 0 || target >= self_index) {
    Fail(o.At("question"), "\"" + c.question + "\" is not an earlier question of this survey");
  }
  const Question& q = survey.questions[static_cast<std::size_t>(target)];
  if (q.kind == QuestionKind::kContact || q.kind == QuestionKind::kMultiChoice) {
    if (q.kind == QuestionKind::kContact) {
      Fail(o.At("question"), "a condition cannot depend on a contact question");
    }
  }
  int ops = 0;
  if (const Value* e = o.Find("equals")) {
    ++ops;
    c.op = Condition::Op::kEquals;
    c.values.push_back(ReadConditionValue(*e, o.At("equals")));
  }
  if (const Value* in = o.Find("in")) {
    ++ops;
    c.op = Condition::Op::kIn;
    if (!in->IsArray() || in->Empty()) Fail(o.At("in"), "must be a non-empty list");
    for (rapidjson::SizeType i = 0; i < in->Size(); ++i) {
      c.values.push_back(ReadConditionValue((*in)[i], o.At("in") + "[" + std::to_string(i) + "]"));
    }
  }
  if (const Value* r = o.Find("range")) {
    ++ops;
    c.op = Condition::Op::kRange;
    if (!r->IsArray() || r->Size() != 2 || !(*r)[0].IsInt() || !(*r)[1].IsInt()) {
      Fail(o.At("range"), "must be [low, high] with whole numbers");
    }
    c.low = (*r)[0].GetInt();
    c.high = (*r)[1].GetInt();
    if (c.low > c.high) Fail(o.At("range"), "low must not exceed high");
  }
  if (ops != 1) Fail(path, "needs exactly one of equals, in, range");
  // The values must be ones the earlier question can produce.
  bool choices = q.kind == QuestionKind::kSingleChoice || q.kind == QuestionKind::kMultiChoice;
  for (const auto& value : c.values) {
    if (choices) {
      const auto* id = std::get_if<std::string>(&value);
      bool known = id && std::any_of(q.choices.begin(), q.choices.end(),
                                     [&](const Choice& ch) { return ch.id == *id; });
      if (!known) Fail(path, "value is not a choice id of \"" + q.id + "\"");
    }
  }
  if (c.op == Condition::Op::kRange && (choices || q.kind == QuestionKind::kText)) {
    Fail(o.At("range"), "\"" + q.id + "\" has no numeric answer to compare");
  }
  o.RejectUnknown();
  return c;
}

Question ReadQuestion(const Value& v, const std::string& path, const Survey& survey, int index) {
  ObjectReader o(v, path);
  Question q;
  q.id = o.String("id");
  CheckId(q.id, o.At("id"));
  if (survey.FindQuestion(q.id) >= 0) Fail(o.At("id"), "\"" + q.id + "\" is used twice");
  q.kind = ParseKind(o.String("kind"), o.At("kind"));
  if (const Value* m = o.Find("metric")) {
    if (!m->IsString()) Fail(o.At("metric"), "must be a string");
    q.metric = ParseRole(m->GetString(), o.At("metric"));
  }
  q.required = o.Bool("required", true);
  q.text = ReadText(o.Find("text"), o.At("text"));
  RequireFallback(q.text, survey.fallback_language, o.At("text"));
  q.hint = ReadText(o.Find("hint"), o.At("hint"));
  const std::string& fb = survey.fallback_language;

  switch (q.kind) {
    case QuestionKind::kNps: {
      q.scale.min = 0;
      q.scale.max = 10;
      q.scale.min_label = ReadText(o.Find("min_label"), o.At("min_label"));
      q.scale.max_label = ReadText(o.Find("max_label"), o.At("max_label"));
      if (q.metric == MetricRole::kNone) q.metric = MetricRole::kNps;
      break;
    }
    case QuestionKind::kRating:
      q.scale = ReadScale(o.Need("scale"), o.At("scale"));
      break;
    case QuestionKind::kSingleChoice:
    case QuestionKind::kMultiChoice: {
      const Value& list = o.Need("choices");
      if (!list.IsArray()) Fail(o.At("choices"), "must be a list");
      if (list.Empty()) Fail(o.At("choices"), "must list at least one choice");
      for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        std::string cp = o.At("choices") + "[" + std::to_string(i) + "]";
        ObjectReader c(list[i], cp);
        Choice choice;
        choice.id = c.String("id");
        CheckId(choice.id, c.At("id"));
        for (const Choice& other : q.choices) {
          if (other.id == choice.id) Fail(c.At("id"), "\"" + choice.id + "\" is used twice");
        }
        choice.text = ReadText(c.Find("text"), c.At("text"));
        RequireFallback(choice.text, fb, c.At("text"));
        c.RejectUnknown();
        q.choices.push_back(std::move(choice));
      }
      q.allow_other = o.Bool("allow_other", false);
      break;
    }
    case QuestionKind::kText: {
      std::int32_t n = o.Int("max_length", 1000);
      if (n < 1 || n > 4000) Fail(o.At("max_length"), "must be between 1 and 4000");
      q.max_length = static_cast<std::uint32_t>(n);
      break;
    }
    case QuestionKind::kCsiAttribute: {
      q.scale = ReadScale(o.Need("satisfaction"), o.At("satisfaction"));
      if (const Value* imp = o.Find("importance")) {
        if (imp->IsString() && std::string(imp->GetString()) == "binary") {
          q.importance_binary = true;
        } else if (imp->IsObject()) {
          q.importance_binary = false;
          q.importance = ReadScale(*imp, o.At("importance"));
        } else {
          Fail(o.At("importance"), "must be \"binary\" or a scale {\"min\": .., \"max\": ..}");
        }
      }
      if (q.metric == MetricRole::kNone) q.metric = MetricRole::kCsi;
      break;
    }
    case QuestionKind::kContact: {
      const Value* fields = o.Find("fields");
      if (fields) {
        if (!fields->IsArray() || fields->Empty()) Fail(o.At("fields"), "must be a non-empty list");
        for (rapidjson::SizeType i = 0; i < fields->Size(); ++i) {
          std::string fp = o.At("fields") + "[" + std::to_string(i) + "]";
          if (!(*fields)[i].IsString()) Fail(fp, "must be a string");
          std::string f = (*fields)[i].GetString();
          if (f != "name" && f != "phone" && f != "email") {
            Fail(fp, "unknown contact field \"" + f + "\" (expected name, phone or email)");
          }
          q.contact_fields.push_back(f);
        }
      } else {
        q.contact_fields = {"name", "phone"};
      }
      q.consent_text = ReadText(o.Find("consent_text"), o.At("consent_text"));
      RequireFallback(q.consent_text, fb, o.At("consent_text"));
      q.required = o.Bool("required", false);
      break;
    }
  }

  // A metric role must fit the answers the question produces.
  bool scale_kind = q.kind == QuestionKind::kNps || q.kind == QuestionKind::kRating;
  switch (q.metric) {
    case MetricRole::kNone:
      break;
    case MetricRole::kNps:
    case MetricRole::kCliRecommend:
    case MetricRole::kCliRepurchase:
    case MetricRole::kCliCrossBuy:
      if (!scale_kind || q.scale.min != 0 || q.scale.max != 10) {
        Fail(o.At("metric"), std::string(MetricRoleName(q.metric)) + " needs a 0..10 scale");
      }
      break;
    case MetricRole::kCsat:
    case MetricRole::kCes:
      if (!scale_kind) Fail(o.At("metric"), "needs a rating question");
      break;
    case MetricRole::kCsi:
      if (q.kind != QuestionKind::kCsiAttribute) Fail(o.At("metric"), "needs a csi_attribute");
      break;
  }

  if (const Value* c = o.Find("show_if"))
    q.show_if = ReadCondition(*c, o.At("show_if"), survey, index);
  o.RejectUnknown();
  return q;
}

Sampling ReadSampling(const Value* v, const std::string& path) {
  Sampling s;
  if (!v) return s;
  ObjectReader o(*v, path);
  std::string mode = o.String("mode", std::string("every"));
  if (mode == "every") {
    s.mode = Sampling::Mode::kEvery;
  } else if (mode == "every_kth") {
    s.mode = Sampling::Mode::kEveryKth;
    std::int32_t k = o.Int("k");
    if (k < 1 || k > 1000000) Fail(o.At("k"), "must be between 1 and 1000000");
    s.k = static_cast<std::uint32_t>(k);
  } else if (mode == "probability") {
    s.mode = Sampling::Mode::kProbability;
    const Value& p = o.Need("p");
    if (!p.IsNumber() || !(p.GetDouble() > 0.0) || p.GetDouble() > 1.0) {
      Fail(o.At("p"), "must be a number in (0, 1]");
    }
    s.probability = p.GetDouble();
    // Fixed once here, so that both targets compare integers at run time.
    s.threshold53 = static_cast<std::uint64_t>(std::ldexp(s.probability, 53));
  } else {
    Fail(o.At("mode"),
         "unknown sampling mode \"" + mode + "\" (expected every, every_kth or probability)");
  }
  std::int32_t cap = o.Int("cap_days", 0);
  if (cap < 0 || cap > 3650) Fail(o.At("cap_days"), "must be between 0 and 3650");
  s.cap_days = static_cast<std::uint32_t>(cap);
  if (const Value* t = o.Find("trigger")) {
    ObjectReader tr(*t, o.At("trigger"));
    std::int32_t after = tr.Int("after_seconds", 0);
    if (after < 0 || after > 86400) Fail(tr.At("after_seconds"), "must be between 0 and 86400");
    s.trigger_after_seconds = static_cast<std::uint32_t>(after);
    s.trigger_path_prefix = tr.String("path_prefix", std::string());
    tr.RejectUnknown();
  }
  o.RejectUnknown();
  return s;
}

std::vector<std::string> ReadStringList(const Value& v, const std::string& path) {
  if (!v.IsArray()) Fail(path, "must be a list of strings");
  std::vector<std::string> out;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsString()) Fail(path + "[" + std::to_string(i) + "]", "must be a string");
    out.emplace_back(v[i].GetString(), v[i].GetStringLength());
  }
  return out;
}

Survey ReadSurvey(const Value& root) {
  ObjectReader o(root, "");
  Survey s;
  std::string format = o.String("format");
  if (format != "canvass.survey/1") {
    Fail("format", "\"" + format + "\" is not a format this build reads (canvass.survey/1)");
  }
  s.id = o.String("id");
  CheckId(s.id, "id");
  std::int32_t revision = o.Int("revision", 1);
  if (revision < 1) Fail("revision", "must be 1 or more");
  s.revision = static_cast<std::uint32_t>(revision);
  s.languages = ReadStringList(o.Need("languages"), "languages");
  if (s.languages.empty()) Fail("languages", "must list at least one language");
  s.fallback_language = o.String("fallback_language", s.languages.front());
  if (std::find(s.languages.begin(), s.languages.end(), s.fallback_language) == s.languages.end()) {
    Fail("fallback_language", "\"" + s.fallback_language + "\" is not one of languages");
  }
  s.title = ReadText(o.Find("title"), "title");
  RequireFallback(s.title, s.fallback_language, "title");
  s.intro = ReadText(o.Find("intro"), "intro");
  s.thanks = ReadText(o.Find("thanks"), "thanks");
  if (const Value* tags = o.Find("context")) s.context_tags = ReadStringList(*tags, "context");
  s.sampling = ReadSampling(o.Find("sampling"), "sampling");

  const Value& questions = o.Need("questions");
  if (!questions.IsArray() || questions.Empty()) {
    Fail("questions", "must be a non-empty list");
  }
  if (questions.Size() > 200) Fail("questions", "a survey may have at most 200 questions");
  for (rapidjson::SizeType i = 0; i < questions.Size(); ++i) {
    s.questions.push_back(
        ReadQuestion(questions[i], "questions[" + std::to_string(i) + "]", s, static_cast<int>(i)));
  }

  if (const Value* d = o.Find("delivery")) {
    ObjectReader dr(*d, "delivery");
    std::string mode = dr.String("mode");
    if (mode == "series") {
      s.mode = DeliveryMode::kSeries;
    } else if (mode == "rotate_one") {
      s.mode = DeliveryMode::kRotateOne;
      s.rotate_pool = ReadStringList(dr.Need("pool"), "delivery.pool");
      if (s.rotate_pool.size() < 2) Fail("delivery.pool", "must list at least two questions");
      for (std::size_t i = 0; i < s.rotate_pool.size(); ++i) {
        std::string p = "delivery.pool[" + std::to_string(i) + "]";
        int q = s.FindQuestion(s.rotate_pool[i]);
        if (q < 0) Fail(p, "\"" + s.rotate_pool[i] + "\" is not a question of this survey");
        if (s.questions[static_cast<std::size_t>(q)].show_if) {
          Fail(p, "a rotated question cannot have show_if");
        }
        if (std::count(s.rotate_pool.begin(), s.rotate_pool.end(), s.rotate_pool[i]) > 1) {
          Fail(p, "\"" + s.rotate_pool[i] + "\" is listed twice");
        }
      }
    } else {
      Fail("delivery.mode",
           "unknown delivery mode \"" + mode + "\" (expected series or rotate_one)");
    }
    dr.RejectUnknown();
  }
  o.RejectUnknown();
  return s;
}

}  // namespace

const std::string& LocalizedText::Get(const std::string& language,
                                      const std::string& fallback) const {
  static const std::string kEmpty;
  auto it = by_language.find(language);
  if (it != by_language.end() && !it->second.empty()) return it->second;
  it = by_language.find(fallback);
  return it != by_language.end() ? it->second : kEmpty;
}

const char* QuestionKindName(QuestionKind kind) {
  switch (kind) {
    case QuestionKind::kNps:
      return "nps";
    case QuestionKind::kRating:
      return "rating";
    case QuestionKind::kSingleChoice:
      return "single_choice";
    case QuestionKind::kMultiChoice:
      return "multi_choice";
    case QuestionKind::kText:
      return "text";
    case QuestionKind::kCsiAttribute:
      return "csi_attribute";
    case QuestionKind::kContact:
      return "contact";
  }
  return "unknown";
}

const char* MetricRoleName(MetricRole role) {
  switch (role) {
    case MetricRole::kNone:
      return "";
    case MetricRole::kNps:
      return "nps";
    case MetricRole::kCsat:
      return "csat";
    case MetricRole::kCes:
      return "ces";
    case MetricRole::kCliRecommend:
      return "cli.recommend";
    case MetricRole::kCliRepurchase:
      return "cli.repurchase";
    case MetricRole::kCliCrossBuy:
      return "cli.cross_buy";
    case MetricRole::kCsi:
      return "csi";
  }
  return "";
}

int Survey::FindQuestion(std::string_view qid) const {
  for (std::size_t i = 0; i < questions.size(); ++i) {
    if (questions[i].id == qid) return static_cast<int>(i);
  }
  return -1;
}

std::string Survey::PickLanguage(const std::vector<std::string>& preferred) const {
  for (const std::string& want : preferred) {
    // "ru-RU" matches "ru".
    std::string base = want.substr(0, want.find('-'));
    for (const std::string& have : languages) {
      if (have == want || have == base) return have;
    }
  }
  return fallback_language;
}

Result<Survey> ParseSurvey(std::string_view json) {
  if (json.size() > (1u << 20)) {
    return Status::InvalidArgument("survey definition is over 1 MiB");
  }
  rapidjson::Document doc;
  // Iterative: the recursive parser overflows the stack on deeply nested input ("[[[[...").
  doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument("survey JSON is not valid at byte " +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  try {
    return ReadSurvey(doc);
  } catch (const FieldError& e) {
    return Status::InvalidArgument(e.what());
  }
}

//-----------------------------------------------------------------------------
// Answers
//-----------------------------------------------------------------------------

const char* RefusalName(Refusal refusal) {
  switch (refusal) {
    case Refusal::kInvalid:
      return "invalid";
    case Refusal::kNotJson:
      return "not valid JSON";
    case Refusal::kUnknownQuestion:
      return "unknown question";
    case Refusal::kOutsideScale:
      return "outside the scale";
    case Refusal::kWrongType:
      return "wrong type";
    case Refusal::kMissingField:
      return "missing field";
    case Refusal::kOtherSurvey:
      return "other survey";
  }
  return "invalid";
}

Refusal RefusalOf(const Status& status) {
  const int reason = status.reason();
  if (reason <= 0 || reason > static_cast<int>(Refusal::kOtherSurvey)) return Refusal::kInvalid;
  return static_cast<Refusal>(reason);
}

namespace {

Status CheckScale(const Scale& scale, std::int32_t v, const std::string& what) {
  if (v < scale.min || v > scale.max) {
    return Status::InvalidArgument(what + " " + std::to_string(v) + " is outside " +
                                   std::to_string(scale.min) + ".." + std::to_string(scale.max))
        .WithReason(static_cast<int>(Refusal::kOutsideScale));
  }
  return Status::Ok();
}

// Length in code points, so a limit means the same for Cyrillic and Latin text.
std::uint32_t Utf8Length(const std::string& s) {
  std::uint32_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

Status ValidateAnswer(const Question& q, const AnswerValue& value) {
  const std::string kind = QuestionKindName(q.kind);
  auto wrong = [&]() {
    return Status::InvalidArgument("question '" + q.id + "' (" + kind +
                                   ") got an answer of the wrong type")
        .WithReason(static_cast<int>(Refusal::kWrongType));
  };
  switch (q.kind) {
    case QuestionKind::kNps:
    case QuestionKind::kRating: {
      const auto* s = std::get_if<ScaleAnswer>(&value);
      if (!s) return wrong();
      return CheckScale(q.scale, s->value, "answer");
    }
    case QuestionKind::kText: {
      const auto* t = std::get_if<TextAnswer>(&value);
      if (!t) return wrong();
      if (Utf8Length(t->text) > q.max_length) {
        return Status::InvalidArgument("answer is longer than " + std::to_string(q.max_length) +
                                       " characters");
      }
      if (q.required && t->text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::InvalidArgument("answer is empty");
      }
      return Status::Ok();
    }
    case QuestionKind::kSingleChoice:
    case QuestionKind::kMultiChoice: {
      const auto* c = std::get_if<ChoiceAnswer>(&value);
      if (!c) return wrong();
      if (!c->other.empty() && !q.allow_other) {
        return Status::InvalidArgument("this question has no 'other' field");
      }
      if (Utf8Length(c->other) > q.max_length) {
        return Status::InvalidArgument("'other' text is too long");
      }
      std::size_t picked = c->ids.size() + (c->other.empty() ? 0 : 1);
      if (picked == 0) return Status::InvalidArgument("no choice made");
      if (q.kind == QuestionKind::kSingleChoice && picked != 1) {
        return Status::InvalidArgument("exactly one choice is allowed");
      }
      if (!std::is_sorted(c->ids.begin(), c->ids.end()) ||
          std::adjacent_find(c->ids.begin(), c->ids.end()) != c->ids.end()) {
        return Status::InvalidArgument("choice ids must be sorted and unique");
      }
      for (const std::string& id : c->ids) {
        bool known = std::any_of(q.choices.begin(), q.choices.end(),
                                 [&](const Choice& ch) { return ch.id == id; });
        if (!known)
          return Status::InvalidArgument("'" + id + "' is not a choice of '" + q.id + "'");
      }
      return Status::Ok();
    }
    case QuestionKind::kCsiAttribute: {
      const auto* c = std::get_if<CsiAnswer>(&value);
      if (!c) return wrong();
      Status s = CheckScale(q.scale, c->satisfaction, "satisfaction");
      if (!s.ok()) return s;
      if (q.importance_binary) {
        if (c->importance != 0 && c->importance != 1) {
          return Status::InvalidArgument("importance must be 0 (not important) or 1 (important)")
              .WithReason(static_cast<int>(Refusal::kOutsideScale));
        }
        return Status::Ok();
      }
      return CheckScale(q.importance, c->importance, "importance");
    }
    case QuestionKind::kContact: {
      const auto* c = std::get_if<ContactAnswer>(&value);
      if (!c) return wrong();
      if (c->consent && c->details.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::InvalidArgument("consent given but no contact details");
      }
      if (!c->consent && !c->details.empty()) {
        return Status::InvalidArgument("contact details without consent are not kept");
      }
      if (Utf8Length(c->details) > q.max_length) {
        return Status::InvalidArgument("contact details are too long");
      }
      return Status::Ok();
    }
  }
  return wrong();
}

}  // namespace canvass
