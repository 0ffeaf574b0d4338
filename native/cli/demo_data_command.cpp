// `canvass demo-data`: realistic interchange JSON Lines for a survey, for demos, reports and
// benchmarks. Every line is an offer: declined and ignored ones too. Answers are driven through
// the flow engine (FlowSession, RotationPicker), so they are valid for the survey and respect
// show_if and rotation. All randomness comes from one SplitMix64 seeded by --seed: the same
// arguments give the same bytes.
//
// The story the data tells: one location is clearly worse (lower scores, more declines); all
// locations drift week by week (the good ones improve, the bad one slips); a share of customers
// show a loyalty card (a pseudonymous key), and some of them come back.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/flow.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/random.h"
#include "canvass/survey.h"
#include "commands.h"

namespace canvass::cli {
namespace {

constexpr char kHelp[] = R"(canvass demo-data - realistic responses for a survey, as JSON Lines

Usage:
  canvass demo-data --survey SURVEY.json --count N --seed S [options]

  --survey FILE     the survey to answer (docs/survey-format.md)
  --count N         offers to write (one line each, in time order)
  --seed S          any whole number; the same arguments always give the same output
  --locations K     locations (default 4); the last one is clearly worse than the others
  --staff M         staff members per location (default 3)
  --days D          days of data (default 28), starting on --start
  --start DATE      first day (default 2026-11-02, a Monday)
  --out FILE        write there instead of standard output

Each line is an offer with its outcome (about 60% completed, 7% partial, the rest declined or
ignored), device time, tags for the survey's context (location, staff, channel, segment, ...),
a customer key for about a third of offers (some customers return), and answers that are valid
for the survey: branching (show_if) and rotate_one delivery are followed.
Format: docs/interchange.md. Read it back with canvass report.
)";

constexpr const char* kLocations[] = {"central", "riverside",  "old-town", "airport",
                                      "harbour", "university", "mall",     "station"};
constexpr const char* kStaff[] = {"anna",  "bohdan", "olena",  "ivan",  "maria",
                                  "taras", "sofia",  "dmytro", "iryna", "pavlo"};
constexpr const char* kPraise[] = {"Great food and friendly staff", "Всё понравилось, спасибо!",
                                   "Швидко і смачно", "Lovely place, will come back"};
constexpr const char* kNeutral[] = {"OK overall", "Нормально, но дороговато",
                                    "Could be faster at lunch time"};
constexpr const char* kComplaint[] = {"Waited 40 minutes for the order", "Дорого и долго",
                                      "Холодна їжа, неввічливий офіціант",
                                      "Dirty tables, nobody cleaned up"};

struct Options {
  uint64_t count = 0;
  uint64_t seed = 0;
  uint32_t locations = 4;
  uint32_t staff = 3;
  uint32_t days = 28;
  int64_t start_ms = 0;
};

class Generator {
 public:
  Generator(const Survey& survey, const Hash256& version, const Options& options)
      : survey_(survey), version_(version), options_(options), rng_(options.seed) {
    for (uint32_t l = 0; l < options.locations; ++l) {
      locations_.push_back(l < std::size(kLocations) ? kLocations[l]
                                                     : "location-" + std::to_string(l + 1));
      pickers_.emplace_back(MixSeed(options.seed, l));
    }
    seq_.assign(options.locations, 0);
    // About a third of offers are identified: a few regulars make many of those visits, most
    // cards are seen once or twice.
    const uint64_t identified = options.count * 35 / 100;
    regulars_ = std::max<uint64_t>(1, identified / 8);
    occasional_ = std::max<uint64_t>(1, identified * 2);
    for (std::size_t i = 0; i < survey.questions.size(); ++i) {
      if (survey.questions[i].kind == QuestionKind::kCsiAttribute) csi_.push_back(i);
    }
    for (std::size_t i = 0; i < kDemoKey.size(); ++i) kDemoKey[i] = static_cast<uint8_t>(0xC0 + i);
  }

  void Write(std::ostream& out) {
    std::string buffer;
    for (uint32_t day = 0; day < options_.days; ++day) {
      const uint64_t n = options_.count / options_.days + (day < options_.count % options_.days);
      std::vector<int64_t> times(n);
      for (int64_t& t : times) {
        // Open 09:00-22:00, busier around lunch and dinner.
        const int64_t minute = rng_.Below(3) == 0 ? 12 * 60 + static_cast<int64_t>(rng_.Below(150))
                                                  : 9 * 60 + static_cast<int64_t>(rng_.Below(780));
        t = options_.start_ms + (int64_t{day} * 1440 + minute) * 60000 +
            static_cast<int64_t>(rng_.Below(60000));
      }
      std::sort(times.begin(), times.end());
      for (int64_t t : times) {
        buffer += ToJsonLine(Offer(t, day)) + "\n";
        if (buffer.size() > (1 << 20)) {
          out << buffer;
          buffer.clear();
        }
      }
    }
    out << buffer;
  }

 private:
  bool Chance(uint64_t percent) { return rng_.Below(100) < percent; }
  int64_t Noise(int64_t half_width) {  // triangular, -2w..2w
    // Two statements: the order of two draws in one expression would be unspecified.
    const uint64_t span = static_cast<uint64_t>(2 * half_width + 1);
    const int64_t a = static_cast<int64_t>(rng_.Below(span));
    const int64_t b = static_cast<int64_t>(rng_.Below(span));
    return a + b - 2 * half_width;
  }
  // A mood on 0..100 mapped to a point of min..max, with the answer's own noise.
  int32_t ScalePoint(int64_t mood, int32_t min, int32_t max) {
    const int64_t m = std::clamp<int64_t>(mood + Noise(5), 0, 100);
    return min + static_cast<int32_t>((m * (max - min) + 50) / 100);
  }

  ResponseRecord Offer(int64_t time_ms, uint32_t day) {
    const uint32_t location = static_cast<uint32_t>(rng_.Below(options_.locations));
    const bool bad = options_.locations > 1 && location + 1 == options_.locations;
    const int64_t week = day / 7;
    // Good locations around 80 and improving; the bad one around 70 and slipping.
    const int64_t base = bad ? 71 - 2 * week : 78 + 2 * (location % 3) + 2 * week;
    const int64_t mood = base + Noise(10);

    ResponseRecord r;
    r.survey_id = survey_.id;
    r.survey_version = version_;
    r.device_id = "kiosk-" + locations_[location];
    r.seq = ++seq_[location];
    r.device_time_ms = time_ms;
    const std::string staff =
        kStaff[(location * options_.staff + rng_.Below(options_.staff)) % std::size(kStaff)];
    for (const std::string& key : survey_.context_tags) {
      if (key == "location") {
        r.tags[key] = locations_[location];
      } else if (key == "staff") {
        r.tags[key] = staff + "@" + locations_[location];
      } else if (key == "channel") {
        r.tags[key] = Chance(85) ? "kiosk" : "web";
      } else if (key == "segment") {
        r.tags[key] = Chance(70) ? "regular" : (Chance(50) ? "new" : "business");
      } else {
        r.tags[key] = key + "-" + std::to_string(1 + rng_.Below(3));
      }
    }
    if (Chance(35)) {
      const bool regular = Chance(35);
      const uint64_t card = regular ? rng_.Below(regulars_) : regulars_ + rng_.Below(occasional_);
      r.customer_key = CustomerKey(kDemoKey, "4000" + std::to_string(card));
    }

    // Outcome first: who says no never sees a question.
    const uint64_t roll = rng_.Below(100);
    const uint64_t declined = bad ? 26 : 17, ignored = 15, partial = 7;
    if (roll < declined) {
      r.outcome = Outcome::kDeclined;
      return r;
    }
    if (roll < declined + ignored) {
      r.outcome = Outcome::kIgnored;
      return r;
    }
    const bool leaves = roll < declined + ignored + partial;

    FlowSession session = FlowSession::Series(survey_);
    if (survey_.mode == DeliveryMode::kRotateOne) {
      const std::string& id = pickers_[location].Next(survey_.rotate_pool);
      Result<FlowSession> single = FlowSession::Single(survey_, id);
      if (single.ok()) session = std::move(*single);
    }
    const int leave_after = leaves ? 1 + static_cast<int>(rng_.Below(3)) : 1 << 30;
    int answered = 0;
    while (const Question* q = session.Current()) {
      if (answered >= leave_after) break;
      Status s = !q->required && Chance(q->kind == QuestionKind::kText ? 60 : 15)
                     ? session.Skip()
                     : session.Answer(AnswerFor(*q, mood));
      if (!s.ok()) s = q->required ? s : session.Skip();
      if (!s.ok()) break;  // cannot happen for a valid survey; never loop forever
      ++answered;
    }
    r.outcome = session.IsComplete() ? Outcome::kCompleted : session.OutcomeIfLeftNow();
    r.answers = session.FinalAnswers();
    for (auto& [id, value] : r.answers) {
      // The export never holds contact details (they are sealed on the device); consent stays.
      if (auto* contact = std::get_if<ContactAnswer>(&value)) contact->details.clear();
    }
    return r;
  }

  AnswerValue AnswerFor(const Question& q, int64_t mood) {
    switch (q.kind) {
      case QuestionKind::kNps:
      case QuestionKind::kRating:
        return ScaleAnswer{ScalePoint(mood, q.scale.min, q.scale.max)};
      case QuestionKind::kCsiAttribute: {
        // Attributes differ: price is the sore point, food and staff carry the place.
        // How much each attribute follows the overall mood differs, so the drivers differ.
        static constexpr int64_t kOffset[] = {-14, 6, 0, 8, -8, 3, -3};
        static constexpr int64_t kOwnNoise[] = {4, 12, 8, 3, 16, 6, 10};
        static constexpr uint64_t kImportant[] = {89, 11, 60, 80, 30, 50, 40};
        const std::size_t a = static_cast<std::size_t>(
            std::find(csi_.begin(), csi_.end(),
                      static_cast<std::size_t>(survey_.FindQuestion(q.id))) -
            csi_.begin());
        const std::size_t slot = a % std::size(kOffset);
        CsiAnswer answer;
        answer.satisfaction =
            ScalePoint(mood + kOffset[slot] + Noise(kOwnNoise[slot]), q.scale.min, q.scale.max);
        if (q.importance_binary) {
          answer.importance = Chance(kImportant[slot]) ? 1 : 0;
        } else {
          answer.importance = ScalePoint(static_cast<int64_t>(kImportant[slot]) + Noise(8),
                                         q.importance.min, q.importance.max);
        }
        return answer;
      }
      case QuestionKind::kText: {
        auto pick = [&](const auto& list) {
          return std::string(list[rng_.Below(std::size(list))]);
        };
        return TextAnswer{mood >= 85   ? pick(kPraise)
                          : mood >= 65 ? pick(kNeutral)
                                       : pick(kComplaint)};
      }
      case QuestionKind::kSingleChoice:
        return ChoiceAnswer{{q.choices[rng_.Below(q.choices.size())].id}, ""};
      case QuestionKind::kMultiChoice: {
        ChoiceAnswer c;
        for (const Choice& choice : q.choices) {
          if (Chance(35)) c.ids.push_back(choice.id);
        }
        if (q.allow_other && Chance(5)) c.other = "faster wifi";
        if (c.ids.empty() && c.other.empty()) c.ids.push_back(q.choices[0].id);
        std::sort(c.ids.begin(), c.ids.end());
        return c;
      }
      case QuestionKind::kContact:
        if (Chance(30)) return ContactAnswer{true, "Demo Customer, +380 00 000 00 00"};
        return ContactAnswer{false, ""};
    }
    return TextAnswer{""};
  }

  const Survey& survey_;
  const Hash256 version_;
  const Options options_;
  SplitMix64 rng_;
  std::vector<std::string> locations_;
  std::vector<RotationPicker> pickers_;
  std::vector<uint64_t> seq_;
  std::vector<std::size_t> csi_;
  uint64_t regulars_ = 1;
  uint64_t occasional_ = 1;
  Seed kDemoKey{};
};

int Usage(const std::string& message) {
  std::cerr << "canvass demo-data: " << message << "\n(see canvass demo-data --help)\n";
  return 2;
}

bool ParseCount(const std::string& text, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 19 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(text);
  return *out <= max;
}

}  // namespace

int RunDemoData(const std::vector<std::string>& args) {
  std::string survey_path, out_path;
  Options options;
  bool have_count = false, have_seed = false;
  Result<int64_t> start = ParseIsoTime("2026-11-02");
  options.start_ms = *start;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kHelp;
      return 0;
    }
    if (i + 1 >= args.size()) return Usage(arg + " needs a value");
    const std::string& value = args[++i];
    uint64_t number = 0;
    if (arg == "--survey") {
      survey_path = value;
    } else if (arg == "--out") {
      out_path = value;
    } else if (arg == "--start") {
      Result<int64_t> t = ParseIsoTime(value);
      if (!t.ok()) return Usage("--start: " + t.status().message());
      options.start_ms = *t;
    } else if (arg == "--count" || arg == "--seed") {
      if (!ParseCount(value, arg == "--count" ? 1000000000 : UINT64_MAX, &number)) {
        return Usage(arg + " needs a whole number" +
                     (arg == "--count" ? " up to 1000000000" : std::string()));
      }
      (arg == "--count" ? options.count : options.seed) = number;
      (arg == "--count" ? have_count : have_seed) = true;
    } else if (arg == "--locations" || arg == "--staff" || arg == "--days") {
      if (!ParseCount(value, 100000, &number) || number == 0) {
        return Usage(arg + " needs a whole number from 1 to 100000");
      }
      (arg == "--locations" ? options.locations
       : arg == "--staff"   ? options.staff
                            : options.days) = static_cast<uint32_t>(number);
    } else {
      return Usage("unknown option '" + arg + "'");
    }
  }
  if (survey_path.empty() || !have_count || !have_seed) {
    return Usage("--survey, --count and --seed are required");
  }
  std::optional<SurveyFile> file = LoadSurveyFile(survey_path, "canvass demo-data");
  if (!file) return 1;
  Generator generator(file->survey, SurveyVersion(file->definition), options);
  if (out_path.empty()) {
    generator.Write(std::cout);
    std::cout.flush();
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream out(out_path, std::ios::binary);
  generator.Write(out);
  out.flush();
  if (!out.good()) {
    std::cerr << "canvass demo-data: cannot write " << out_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace canvass::cli
