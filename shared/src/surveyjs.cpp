#include "canvass/surveyjs.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "canvass/survey.h"

namespace canvass {
namespace {

using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// What the importer knows about each question it produced, for visibleIf.
struct Produced {
  std::string id;
  std::string kind;  // canvass kind
  int min = 0, max = 0;
};

class Importer {
 public:
  explicit Importer(const Value& root) : root_(root) {
    if (auto it = root.FindMember("locale");
        it != root.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0) {
      default_language_ = it->value.GetString();
    }
    languages_.insert(default_language_);
  }

  Result<SurveyJsImport> Run(std::string survey_id) {
    out_.SetObject();
    Value questions(rapidjson::kArrayType);
    if (auto pages = root_.FindMember("pages");
        pages != root_.MemberEnd() && pages->value.IsArray()) {
      for (const Value& page : pages->value.GetArray()) {
        if (!page.IsObject()) continue;
        ImportElements(page, &questions);
      }
    }
    ImportElements(root_, &questions);  // single-page surveys put elements at the top
    if (questions.Empty()) {
      return Status::InvalidArgument(
          "the SurveyJS definition has no question that can be imported" + Summary());
    }
    Value title = Localized(Find(root_, "title"));
    if (title.ObjectEmpty()) title = Text("Survey");
    if (survey_id.empty()) survey_id = Slug(FirstText(Find(root_, "title")));
    if (survey_id.empty()) survey_id = "imported";

    Allocator& a = out_.GetAllocator();
    out_.AddMember("format", "canvass.survey/1", a);
    out_.AddMember("id", Value(survey_id.c_str(), a), a);
    Value langs(rapidjson::kArrayType);
    langs.PushBack(Value(default_language_.c_str(), a), a);
    for (const std::string& l : languages_) {
      if (l != default_language_) langs.PushBack(Value(l.c_str(), a), a);
    }
    out_.AddMember("languages", langs, a);
    out_.AddMember("fallback_language", Value(default_language_.c_str(), a), a);
    out_.AddMember("title", title, a);
    if (const Value* done = Find(root_, "completedHtml")) {
      Value thanks = Localized(done, /*strip_html=*/true);
      if (!thanks.ObjectEmpty()) out_.AddMember("thanks", thanks, a);
    }
    out_.AddMember("questions", questions, a);

    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    out_.Accept(w);
    SurveyJsImport result;
    result.definition = std::string(buf.GetString(), buf.GetSize()) + "\n";
    result.unmapped = issues_;
    Result<Survey> check = ParseSurvey(result.definition);
    if (!check.ok()) {
      return Status::InvalidArgument(
          "the imported survey does not validate: " + check.status().message() + Summary());
    }
    return result;
  }

 private:
  static const Value* Find(const Value& v, const char* key) {
    if (!v.IsObject()) return nullptr;
    auto it = v.FindMember(key);
    return it == v.MemberEnd() ? nullptr : &it->value;
  }
  std::string Summary() const {
    std::string s;
    for (const auto& i : issues_) s += "; " + i.element + ": " + i.reason;
    return s;
  }
  void Issue(const std::string& element, const std::string& reason) {
    issues_.push_back({element, reason});
  }

  static std::string StripHtml(const std::string& s) {
    std::string out;
    bool in_tag = false;
    for (char c : s) {
      if (c == '<')
        in_tag = true;
      else if (c == '>')
        in_tag = false;
      else if (!in_tag)
        out += c;
    }
    return out;
  }

  Value Text(const std::string& s) {
    Allocator& a = out_.GetAllocator();
    Value t(rapidjson::kObjectType);
    t.AddMember(Value(default_language_.c_str(), a), Value(s.c_str(), a), a);
    return t;
  }

  // A SurveyJS string or {"default": ..., "ru": ...} as a Canvass text.
  Value Localized(const Value* v, bool strip_html = false) {
    Allocator& a = out_.GetAllocator();
    Value t(rapidjson::kObjectType);
    if (!v) return t;
    auto put = [&](std::string lang, std::string text) {
      if (lang == "default") lang = default_language_;
      if (strip_html) text = StripHtml(text);
      if (text.empty() || t.HasMember(lang.c_str())) return;
      languages_.insert(lang);
      t.AddMember(Value(lang.c_str(), a), Value(text.c_str(), a), a);
    };
    if (v->IsString()) {
      put(default_language_, v->GetString());
    } else if (v->IsObject()) {
      // "default" first, so that it wins over an explicit entry for the same language.
      if (auto d = v->FindMember("default"); d != v->MemberEnd() && d->value.IsString()) {
        put("default", d->value.GetString());
      }
      for (const auto& m : v->GetObject()) {
        if (m.value.IsString() && std::string(m.name.GetString()) != "default") {
          put(m.name.GetString(), m.value.GetString());
        }
      }
    }
    return t;
  }

  std::string FirstText(const Value* v) {
    if (!v) return "";
    if (v->IsString()) return v->GetString();
    if (v->IsObject()) {
      if (auto d = v->FindMember("default"); d != v->MemberEnd() && d->value.IsString()) {
        return d->value.GetString();
      }
      for (const auto& m : v->GetObject()) {
        if (m.value.IsString()) return m.value.GetString();
      }
    }
    return "";
  }

  static std::string Slug(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c)) {
        out += static_cast<char>(std::tolower(c));
      } else if (!out.empty() && out.back() != '-') {
        out += '-';
      }
      if (out.size() >= 48) break;
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out;
  }

  // SurveyJS names may hold spaces and other characters our ids do not allow.
  std::string MakeId(const std::string& name) {
    std::string id;
    for (unsigned char c : name) {
      id += (std::isalnum(c) || c == '_' || c == '-' || c == '.') ? static_cast<char>(c) : '_';
    }
    if (id.empty()) id = "q";
    if (id.size() > 60) id.resize(60);
    std::string unique = id;
    for (int n = 2; used_ids_.count(unique); ++n) unique = id + "_" + std::to_string(n);
    used_ids_.insert(unique);
    return unique;
  }

  // Value of a choice: a string, a number, or {"value": ..., "text": ...}.
  static std::string ChoiceValue(const Value& c) {
    const Value* v = c.IsObject() ? Find(c, "value") : &c;
    if (!v) return "";
    if (v->IsString()) return v->GetString();
    if (v->IsInt64()) return std::to_string(v->GetInt64());
    if (v->IsBool()) return v->GetBool() ? "true" : "false";
    return "";
  }

  Value Choices(const Value& list, const std::string& element, bool* ok) {
    Allocator& a = out_.GetAllocator();
    Value out(rapidjson::kArrayType);
    std::set<std::string> seen;
    *ok = true;
    for (const Value& c : list.GetArray()) {
      std::string value = ChoiceValue(c);
      if (value.empty()) {
        Issue(element, "a choice without a usable value");
        *ok = false;
        return out;
      }
      std::string id;
      for (unsigned char ch : value) {
        id +=
            (std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.') ? static_cast<char>(ch) : '_';
      }
      if (id.size() > 60) id.resize(60);
      if (!seen.insert(id).second) continue;
      Value choice(rapidjson::kObjectType);
      choice.AddMember("id", Value(id.c_str(), a), a);
      Value text = Localized(c.IsObject() ? Find(c, "text") : nullptr);
      if (text.ObjectEmpty()) text = Text(value);
      choice.AddMember("text", text, a);
      out.PushBack(choice, a);
      choice_ids_[element + "\x1f" + value] = id;
    }
    return out;
  }

  // Maps visibleIf to a show_if on an earlier question, or reports why it cannot.
  std::optional<Value> Condition(const std::string& element, const std::string& expr) {
    Allocator& a = out_.GetAllocator();
    auto fail = [&](const std::string& why) -> std::optional<Value> {
      Issue(element, "visibleIf \"" + expr + "\" " + why + "; the question is left out");
      return std::nullopt;
    };
    // Tokens: {name}, operators, numbers, quoted strings, "and", "notempty", "contains".
    struct Clause {
      std::string name, op, text;
      std::optional<long long> number;
    };
    std::vector<Clause> clauses;
    std::size_t i = 0;
    auto skip_spaces = [&] {
      while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    };
    auto word = [&](const char* w) {
      skip_spaces();
      std::size_t n = std::char_traits<char>::length(w);
      if (expr.compare(i, n, w) == 0) {
        i += n;
        return true;
      }
      return false;
    };
    for (;;) {
      Clause c;
      skip_spaces();
      if (i >= expr.size() || expr[i] != '{') return fail("is not of a supported form");
      std::size_t close = expr.find('}', i);
      if (close == std::string::npos) return fail("has an unclosed {name}");
      c.name = expr.substr(i + 1, close - i - 1);
      i = close + 1;
      skip_spaces();
      for (const char* op : {">=", "<=", "!=", "<>", "==", ">", "<", "=", "notempty", "contains"}) {
        if (word(op)) {
          c.op = op;
          break;
        }
      }
      if (c.op.empty() || c.op == "!=" || c.op == "<>") return fail("uses an unsupported operator");
      if (c.op != "notempty") {
        skip_spaces();
        if (i < expr.size() && (expr[i] == '\'' || expr[i] == '"')) {
          char q = expr[i];
          std::size_t end = expr.find(q, i + 1);
          if (end == std::string::npos) return fail("has an unclosed string");
          c.text = expr.substr(i + 1, end - i - 1);
          i = end + 1;
        } else {
          std::size_t start = i;
          if (i < expr.size() && expr[i] == '-') ++i;
          while (i < expr.size() && std::isdigit(static_cast<unsigned char>(expr[i]))) ++i;
          // from_chars, not stoll: "-" alone or 30 digits must be a refusal, not an exception.
          long long value = 0;
          const auto [end, ec] = std::from_chars(expr.data() + start, expr.data() + i, value);
          if (start == i || ec != std::errc() || end != expr.data() + i) {
            return fail("compares with something that is not a number or a string");
          }
          c.number = value;
        }
      }
      clauses.push_back(c);
      skip_spaces();
      if (i >= expr.size()) break;
      if (!word("and")) return fail("combines clauses with something other than 'and'");
    }
    const std::string& name = clauses[0].name;
    for (const Clause& c : clauses) {
      if (c.name != name) return fail("refers to more than one question");
    }
    auto known = ids_by_name_.find(name);
    auto it = known == ids_by_name_.end()
                  ? produced_.end()
                  : std::find_if(produced_.begin(), produced_.end(),
                                 [&](const Produced& p) { return p.id == known->second; });
    if (it == produced_.end()) {
      return fail("refers to '" + name + "', which is not an earlier imported question");
    }
    const Produced& target = *it;
    Value cond(rapidjson::kObjectType);
    cond.AddMember("question", Value(target.id.c_str(), a), a);
    const bool numeric = target.kind == "nps" || target.kind == "rating";
    if (numeric) {
      long long lo = target.min, hi = target.max;
      for (const Clause& c : clauses) {
        if (c.op == "notempty") continue;
        if (!c.number) return fail("compares a rating with a string");
        long long n = *c.number;
        if (c.op == ">=")
          lo = std::max(lo, n);
        else if (c.op == ">")
          lo = std::max(lo, n + 1);
        else if (c.op == "<=")
          hi = std::min(hi, n);
        else if (c.op == "<")
          hi = std::min(hi, n - 1);
        else if (c.op == "=" || c.op == "==")
          lo = std::max(lo, n), hi = std::min(hi, n);
        else
          return fail("uses 'contains' on a rating");
      }
      if (lo > hi) return fail("can never be true");
      Value range(rapidjson::kArrayType);
      range.PushBack(static_cast<int>(lo), a).PushBack(static_cast<int>(hi), a);
      cond.AddMember("range", range, a);
      return cond;
    }
    const bool choice = target.kind == "single_choice" || target.kind == "multi_choice";
    if (!choice || clauses.size() != 1) return fail("is not supported for this kind of question");
    const Clause& c = clauses[0];
    if (c.op == "notempty") {
      // Any choice counts as an answer.
      Value in(rapidjson::kArrayType);
      for (const auto& [key, id] : choice_ids_) {
        if (key.rfind(name + "\x1f", 0) == 0) in.PushBack(Value(id.c_str(), a), a);
      }
      cond.AddMember("in", in, a);
      return cond;
    }
    if (c.op != "=" && c.op != "==" && c.op != "contains")
      return fail("compares a choice by order");
    std::string value = c.number ? std::to_string(*c.number) : c.text;
    auto id = choice_ids_.find(name + "\x1f" + value);
    if (id == choice_ids_.end())
      return fail("names a value that is not a choice of '" + name + "'");
    cond.AddMember("equals", Value(id->second.c_str(), a), a);
    return cond;
  }

  void ImportElements(const Value& container, Value* questions, int depth = 0) {
    for (const char* key : {"elements", "questions"}) {  // "questions": the legacy name
      const Value* list = Find(container, key);
      if (!list || !list->IsArray()) continue;
      for (const Value& e : list->GetArray()) ImportElement(e, questions, depth);
    }
  }

  void ImportElement(const Value& e, Value* questions, int depth) {
    Allocator& a = out_.GetAllocator();
    if (!e.IsObject()) return;
    const Value* type_v = Find(e, "type");
    const Value* name_v = Find(e, "name");
    std::string type = type_v && type_v->IsString() ? type_v->GetString() : "";
    std::string name = name_v && name_v->IsString() ? name_v->GetString() : "";
    if (name.empty()) name = "(unnamed " + (type.empty() ? std::string("element") : type) + ")";
    if (type == "panel") {
      // Panels nest; a hostile definition could nest them deep enough to exhaust the stack.
      if (depth >= 16) {
        Issue(name, "panels nested more than 16 deep; not imported");
        return;
      }
      ImportElements(e, questions, depth + 1);
      return;
    }
    if (type == "html" || type == "image" || type == "expression") {
      Issue(name, "a '" + type + "' element shows content but asks nothing; not imported");
      return;
    }
    Value q(rapidjson::kObjectType);
    Value text = Localized(Find(e, "title"));
    if (text.ObjectEmpty()) text = Text(name);
    Produced produced;
    std::string kind;

    if (type == "rating") {
      int min = 1, max = 5, step = 1;
      if (const Value* v = Find(e, "rateMin"); v && v->IsInt()) min = v->GetInt();
      if (const Value* v = Find(e, "rateMax"); v && v->IsInt()) max = v->GetInt();
      if (const Value* v = Find(e, "rateStep"); v && v->IsInt()) step = v->GetInt();
      if (const Value* values = Find(e, "rateValues");
          values && values->IsArray() && !values->Empty()) {
        // Consecutive whole numbers are a scale; anything else is not a rating we can compute on.
        std::vector<long long> nums;
        for (const Value& rv : values->GetArray()) {
          std::string s = ChoiceValue(rv);
          char* end = nullptr;
          long long n = std::strtoll(s.c_str(), &end, 10);
          if (s.empty() || *end) {
            Issue(name, "rateValues are not whole numbers; not imported");
            return;
          }
          nums.push_back(n);
        }
        for (std::size_t k = 1; k < nums.size(); ++k) {
          if (nums[k] != nums[k - 1] + 1) {
            Issue(name, "rateValues are not consecutive whole numbers; not imported");
            return;
          }
        }
        min = static_cast<int>(nums.front());
        max = static_cast<int>(nums.back());
        step = 1;
      }
      if (step != 1) {
        Issue(name,
              "rateStep " + std::to_string(step) + " is not supported (only 1); not imported");
        return;
      }
      if (min >= max) {
        Issue(name,
              "rating range " + std::to_string(min) + ".." + std::to_string(max) + " is empty");
        return;
      }
      Value min_label = Localized(Find(e, "minRateDescription"));
      if (min_label.ObjectEmpty()) min_label = Localized(Find(e, "mininumRateDescription"));
      Value max_label = Localized(Find(e, "maxRateDescription"));
      if (max_label.ObjectEmpty()) max_label = Localized(Find(e, "maximumRateDescription"));
      std::string metric;
      if (const Value* m = Find(e, "canvassMetric"); m && m->IsString()) metric = m->GetString();
      const bool nps = (min == 0 && max == 10 && (metric.empty() || metric == "nps"));
      if (nps) {
        kind = "nps";
        if (!min_label.ObjectEmpty()) q.AddMember("min_label", min_label, a);
        if (!max_label.ObjectEmpty()) q.AddMember("max_label", max_label, a);
      } else {
        kind = "rating";
        Value scale(rapidjson::kObjectType);
        scale.AddMember("min", min, a);
        scale.AddMember("max", max, a);
        std::string rate_type;
        if (const Value* rt = Find(e, "rateType"); rt && rt->IsString())
          rate_type = rt->GetString();
        const int points = max - min + 1;
        if (rate_type == "smileys" && (points == 4 || points == 5)) {
          scale.AddMember("style", "smileys", a);
        } else if (rate_type == "stars") {
          scale.AddMember("style", "stars", a);
        } else if (rate_type == "smileys") {
          Issue(name, "smileys on a " + std::to_string(points) + "-point scale shown as numbers");
        }
        if (!min_label.ObjectEmpty()) scale.AddMember("min_label", min_label, a);
        if (!max_label.ObjectEmpty()) scale.AddMember("max_label", max_label, a);
        q.AddMember("scale", scale, a);
        if (!metric.empty()) q.AddMember("metric", Value(metric.c_str(), a), a);
      }
      produced.min = min;
      produced.max = max;
    } else if (type == "radiogroup" || type == "dropdown" || type == "checkbox") {
      const Value* list = Find(e, "choices");
      if (!list || !list->IsArray() || list->Empty()) {
        Issue(name,
              "no choices (choicesByUrl and choicesFromQuestion are not supported); not imported");
        return;
      }
      bool ok = true;
      Value choices = Choices(*list, name, &ok);
      if (!ok) return;
      kind = type == "checkbox" ? "multi_choice" : "single_choice";
      q.AddMember("choices", choices, a);
      const Value* other = Find(e, "showOtherItem");
      if (!other) other = Find(e, "hasOther");  // the legacy name
      if (other && other->IsBool() && other->GetBool()) q.AddMember("allow_other", true, a);
    } else if (type == "boolean") {
      kind = "single_choice";
      Value choices(rapidjson::kArrayType);
      for (auto [value, label_key, fallback] :
           {std::tuple{"true", "labelTrue", "Yes"}, std::tuple{"false", "labelFalse", "No"}}) {
        Value c(rapidjson::kObjectType);
        c.AddMember("id", Value(value, a), a);
        Value label = Localized(Find(e, label_key));
        if (label.ObjectEmpty()) label = Text(fallback);
        c.AddMember("text", label, a);
        choices.PushBack(c, a);
        choice_ids_[name + "\x1f" + value] = value;
      }
      q.AddMember("choices", choices, a);
    } else if (type == "text" || type == "comment") {
      kind = "text";
      if (const Value* n = Find(e, "maxLength"); n && n->IsInt() && n->GetInt() > 0) {
        q.AddMember("max_length", std::min(n->GetInt(), 4000), a);
      }
    } else if (type == "matrix") {
      ImportMatrix(e, name, questions);
      return;
    } else {
      Issue(name, "element type '" + type + "' is not supported; not imported");
      return;
    }

    std::string id = MakeId(name);
    ids_by_name_[name] = id;
    produced.id = id;
    produced.kind = kind;
    q.AddMember("id", Value(id.c_str(), a), a);
    q.AddMember("kind", Value(kind.c_str(), a), a);
    q.AddMember("text", text, a);
    Value hint = Localized(Find(e, "description"));
    if (!hint.ObjectEmpty()) q.AddMember("hint", hint, a);
    const Value* required = Find(e, "isRequired");
    q.AddMember("required", required && required->IsBool() && required->GetBool(), a);
    if (const Value* vis = Find(e, "visibleIf"); vis && vis->IsString() && vis->GetStringLength()) {
      std::optional<Value> cond = Condition(name, vis->GetString());
      if (!cond) {
        ids_by_name_.erase(name);
        return;
      }
      q.AddMember("show_if", *cond, a);
    }
    produced_.push_back(produced);
    questions->PushBack(q, a);
  }

  // A simple matrix: one single-choice question per row, the columns as choices.
  void ImportMatrix(const Value& e, const std::string& name, Value* questions) {
    Allocator& a = out_.GetAllocator();
    const Value* rows = Find(e, "rows");
    const Value* columns = Find(e, "columns");
    if (!rows || !rows->IsArray() || rows->Empty() || !columns || !columns->IsArray() ||
        columns->Empty()) {
      Issue(name, "a matrix needs rows and columns; not imported");
      return;
    }
    if (Find(e, "visibleIf"))
      Issue(name, "visibleIf on a matrix is not supported; rows always shown");
    const Value* required = Find(e, "isRequired");
    for (const Value& row : rows->GetArray()) {
      std::string row_value = ChoiceValue(row);
      if (row_value.empty()) {
        Issue(name, "a matrix row without a value");
        continue;
      }
      std::string row_name = name + "." + row_value;
      bool ok = true;
      Value choices = Choices(*columns, row_name, &ok);
      if (!ok) return;
      Value q(rapidjson::kObjectType);
      std::string id = MakeId(row_name);
      ids_by_name_[row_name] = id;
      q.AddMember("id", Value(id.c_str(), a), a);
      q.AddMember("kind", "single_choice", a);
      Value text = Localized(row.IsObject() ? Find(row, "text") : nullptr);
      if (text.ObjectEmpty()) text = Text(row_value);
      q.AddMember("text", text, a);
      Value hint = Localized(Find(e, "title"));
      if (!hint.ObjectEmpty()) q.AddMember("hint", hint, a);
      q.AddMember("required", required && required->IsBool() && required->GetBool(), a);
      q.AddMember("choices", choices, a);
      produced_.push_back({id, "single_choice", 0, 0});
      questions->PushBack(q, a);
    }
  }

  const Value& root_;
  rapidjson::Document out_;
  std::string default_language_ = "en";
  std::set<std::string> languages_;
  std::vector<SurveyJsIssue> issues_;
  std::set<std::string> used_ids_;
  std::map<std::string, std::string> ids_by_name_;
  std::map<std::string, std::string> choice_ids_;  // element \x1f value -> choice id
  std::vector<Produced> produced_;
};

}  // namespace

Result<SurveyJsImport> ImportSurveyJs(std::string_view json, std::string survey_id) {
  if (json.size() > (1u << 20)) return Status::InvalidArgument("SurveyJS definition is over 1 MiB");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return Status::InvalidArgument("SurveyJS JSON is not valid at byte " +
                                   std::to_string(doc.GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Status::InvalidArgument("a SurveyJS definition is a JSON object");
  Importer importer(doc);
  return importer.Run(std::move(survey_id));
}

}  // namespace canvass
