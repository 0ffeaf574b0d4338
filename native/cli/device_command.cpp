// `canvass device`: a native survey device — enrollment, recording signed records into a local
// log, and the offline-first sync (push with verified receipts). Useful for tests, load and Linux
// kiosks without a browser; it drives the same core as the widget.
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>

#include "canvass/flow.h"
#include "canvass/interchange.h"
#include "canvass/json.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "canvass/sync_client.h"
#include "commands.h"
#include "http_client.h"
#include "sqlite_log_store.h"

namespace canvass::cli {
namespace {

constexpr char kUsage[] = R"(canvass device - a native survey device

Usage:
  canvass device --state DIR [--cacert FILE.pem] COMMAND

Commands:
  enroll --server URL --code CODE
        make a device key, enroll with a one-time code from an admin, fetch the surveys
  record --survey ID --answers JSON [--outcome completed|partial|declined|ignored]
         [--time 2026-11-22T10:00:00Z] [--tag key=value]...
        validate the answers against the survey, then sign and append one record to the log;
        answers like {"recommend": 9, "reason": "...", "price": {"importance": 1, "satisfaction": 4},
        "contact": {"consent": true, "details": "Olena +380..."}} (details are sealed at once)
  push [--max-batch 500]
        send every unsynced record, oldest first; records are dropped only after the server's
        signed receipt verifies; also refreshes the surveys
  status
        JSON: device_id, pending, head_seq, acked_seq, server
  import --survey ID --input FILE.jsonl [--here]
        record every line of an interchange file (docs/interchange.md: e.g. canvass demo-data,
        answers collected elsewhere) as this device's next signed records, in file order: time,
        outcome, answers, tags and customer key from the line; answers are checked as a report
        reads them. Location and channel are always the device's (its certificate): a line of
        another location is refused, or recorded at the device's location with --here. Nothing is
        recorded unless every line is valid. Contact consent comes without details (an export
        never holds them), so imported records carry no sealed contact
  batch --out FILE [--max 500]
        write the next push body to FILE without sending it
  surveys
        fetch the latest survey bundles and verify them

DIR holds the device key (owner-only), the certificate, the log (log.db) and the surveys.
--cacert trusts the CA certificate(s) in FILE.pem for an https:// server (a self-signed
certificate is its own CA), for enroll, push and surveys; SSL_CERT_FILE=FILE.pem does the same.
The --cacert of enroll is remembered in DIR/device.json for later commands.
Exit codes: 0 ok, 1 refused or invalid input, 2 usage error, 3 server unreachable.
)";

int Fail(const Status& s) {
  std::cerr << "canvass device: " << s.message() << "\n";
  return s.code() == StatusCode::kUnavailable ? 3 : 1;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct DeviceState {
  std::string dir;
  std::string device_id, server, location, channel;
  std::string cacert;  // the --cacert of the enrollment, absolute; "" for the system's store
  PublicKey org_sign{}, org_box{};
  std::optional<SigningKey> key;
};

// The CLI's JSON goes through the project's one writer (canvass/json.h).
std::string StateJson(const DeviceState& d, const std::string& certificate_hex) {
  Json state = Json::Object();
  state.Add("device_id", Json::Str(d.device_id))
      .Add("server", Json::Str(d.server))
      .Add("location", Json::Str(d.location))
      .Add("channel", Json::Str(d.channel))
      .Add("org_sign_key", Json::Str(ToHex(d.org_sign)))
      .Add("org_box_key", Json::Str(ToHex(d.org_box)))
      .Add("certificate", Json::Str(certificate_hex));
  if (!d.cacert.empty()) state.Add("cacert", Json::Str(d.cacert));
  return state.Compact() + "\n";
}

std::string Field(const rapidjson::Document& doc, const char* key) {
  auto it = doc.FindMember(key);
  return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

Result<DeviceState> LoadState(const std::string& dir) {
  Result<std::string> json = native::ReadWholeFile(dir + "/device.json");
  if (!json.ok()) {
    return Status::NotFound("no enrolled device in " + dir + "; run 'canvass device --state " +
                            dir + " enroll --server URL --code CODE' first");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json->data(), json->size());
  if (doc.HasParseError() || !doc.IsObject())
    return Status::Corruption(dir + "/device.json is damaged");
  DeviceState d;
  d.dir = dir;
  d.device_id = Field(doc, "device_id");
  d.server = Field(doc, "server");
  d.cacert = Field(doc, "cacert");
  d.location = Field(doc, "location");
  d.channel = Field(doc, "channel");
  Result<PublicKey> sign = ArrayFromHex<32>(Field(doc, "org_sign_key"));
  Result<PublicKey> box = ArrayFromHex<32>(Field(doc, "org_box_key"));
  Result<std::string> seed_hex = native::ReadWholeFile(dir + "/device.key");
  if (!sign.ok() || !box.ok() || !seed_hex.ok()) {
    return Status::Corruption(dir + ": device key or organisation keys are missing or damaged");
  }
  Result<Seed> seed = ArrayFromHex<32>(seed_hex->substr(0, 64));
  if (!seed.ok()) return Status::Corruption(dir + "/device.key is damaged");
  d.org_sign = *sign;
  d.org_box = *box;
  d.key = SigningKey::FromSeed(*seed);
  SecureWipe(seed->data(), 32);
  SecureWipe(seed_hex->data(), static_cast<std::uint32_t>(seed_hex->size()));
  return d;
}

// Verifies each survey bundle with the organisation key and keeps the good ones in DIR/surveys/.
// A bundle that does not verify is refused; the last good one stays.
Status StoreBundles(const DeviceState& d, const std::vector<sync::BundleRef>& bundles,
                    int* fetched) {
  Status s = native::MakePrivateDir(d.dir + "/surveys");
  if (!s.ok()) return s;
  *fetched = 0;
  for (const sync::BundleRef& item : bundles) {
    Result<std::string> bytes = FromHex(item.hex);
    Result<SignedMessage> message =
        bytes.ok() ? DecodeSignedMessage(*bytes) : Result<SignedMessage>(bytes.status());
    Status verified =
        message.ok() ? VerifyMessage(kSurveyDomain, *message, d.org_sign) : message.status();
    Result<SurveyBundle> bundle =
        verified.ok() ? DecodeBundle(message->body) : Result<SurveyBundle>(verified);
    if (!bundle.ok() || !ParseSurvey(bundle->definition_json).ok()) {
      std::cerr << "canvass device: refused a survey bundle ("
                << (bundle.ok() ? "invalid definition" : bundle.status().message())
                << "); keeping the last good one\n";
      continue;
    }
    s = native::ReplaceFileMode0600(d.dir + "/surveys/" + bundle->survey_id + ".bundle", *bytes);
    if (!s.ok()) return s;
    ++*fetched;
  }
  return Status::Ok();
}

// Drives one run of the core's sync state machine (canvass/sync_client.h) with the blocking HTTP
// client: sends each request, hands each result to keep (enrollment, bundles, receipts; a
// failure there ends the run), and returns the last action: kDone, kRetry or kRefused. `view`
// is asked for the device's state before each decision. A transport failure that no retry mends
// (an untrusted certificate) ends the run as refused.
sync::Action Drive(const std::string& server, const sync::Plan& plan,
                   const std::function<sync::DeviceView()>& view,
                   const std::function<Status(const sync::Action&)>& keep) {
  sync::Client client(static_cast<std::uint64_t>(NowMs()));
  client.Begin(plan);
  sync::Answer answer = sync::Answer::None();
  sync::DeviceView device = view();
  for (;;) {
    if (answer.none) device = view();
    sync::Action a = client.Next(device, answer);
    answer = sync::Answer::None();
    if (a.step == sync::Step::kSend) {
      const sync::Request& r = a.request;
      Result<HttpReply> reply = std::string_view(r.method) == "GET"
                                    ? HttpGet(server, r.path)
                                    : HttpPost(server, r.path, r.body, r.content_type);
      if (reply.ok()) {
        answer = sync::Answer{reply->status, std::move(reply->body)};
      } else if (reply.status().code() == StatusCode::kUnavailable) {
        answer = sync::Answer{0, reply.status().message()};
      } else {
        a.step = sync::Step::kRefused;
        a.message = reply.status().message();
        return a;
      }
    } else if (a.step == sync::Step::kEnrolled || a.step == sync::Step::kBundles ||
               a.step == sync::Step::kAcknowledge) {
      if (Status s = keep(a); !s.ok()) {
        a.step = s.code() == StatusCode::kUnavailable ? sync::Step::kRetry : sync::Step::kRefused;
        a.message = s.message();
        return a;
      }
    } else {
      return a;
    }
  }
}

// Exit code of a run that ended in `a`: 0 done, 3 try again later, 1 refused.
int ExitOf(const sync::Action& a) {
  return a.step == sync::Step::kDone ? 0 : a.step == sync::Step::kRetry ? 3 : 1;
}

int Enroll(const std::string& dir, const std::vector<std::string>& args) {
  std::string server, code;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--server")
      server = args[++i];
    else if (args[i] == "--code")
      code = args[++i];
  }
  if (server.empty() || code.empty()) {
    std::cerr << "canvass device enroll: needs --server URL and --code CODE\n";
    return 2;
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  struct stat st {};
  if (stat((dir + "/device.json").c_str(), &st) == 0) {
    std::cerr << "canvass device enroll: " << dir
              << " already holds an enrolled device; use a new --state DIR\n";
    return 1;
  }
  Status s = native::MakePrivateDir(dir);
  if (!s.ok()) return Fail(s);
  if (code.find_first_of("\"\\") != std::string::npos) {
    std::cerr << "canvass device enroll: that is not an enrollment code\n";
    return 1;
  }
  SigningKey key = SigningKey::Generate();
  sync::Plan plan;
  plan.enroll = true;
  plan.code = code;
  plan.device_key = key.public_key();
  DeviceState d;
  d.dir = dir;
  d.server = server;
  bool enrolled = false;
  int fetched = -1;  // -1: no survey list came yet
  auto keep = [&](const sync::Action& a) -> Status {
    if (a.step == sync::Step::kBundles) return StoreBundles(d, a.bundles, &(fetched = 0));
    const sync::Enrollment& e = a.enrollment;
    d.device_id = e.device_id;
    d.location = e.location;
    d.channel = e.channel;
    d.org_sign = e.org_sign_key;
    d.org_box = e.org_box_key;
    // Remembered, so that push and surveys trust the same server without --cacert each time.
    if (!CaCertFileInUse().empty()) {
      if (char* absolute = realpath(CaCertFileInUse().c_str(), nullptr)) {
        d.cacert = absolute;
        std::free(absolute);
      }
    }
    Seed seed = key.seed();
    std::string seed_hex = ToHex(seed) + "\n";
    Status w = native::WriteFileMode0600(dir + "/device.key", seed_hex, true);
    SecureWipe(seed.data(), 32);
    SecureWipe(seed_hex.data(), static_cast<std::uint32_t>(seed_hex.size()));
    if (w.ok())
      w = native::ReplaceFileMode0600(dir + "/device.json", StateJson(d, e.certificate_hex));
    enrolled = w.ok();
    // The enrollment answer carries the location's bundles: no second request that could fail.
    if (enrolled && e.has_bundles) {
      fetched = 0;
      w = StoreBundles(d, a.bundles, &fetched);
    }
    return w;
  };
  sync::Action end = Drive(
      server, plan,
      [&] {
        return sync::DeviceView{d.device_id, d.org_sign, {}};
      },
      keep);
  if (!enrolled) {
    std::cerr << "canvass device enroll: " << end.message << "\n";
    return ExitOf(end);
  }
  std::cout << "enrolled as " << d.device_id << " at " << d.location << " (" << d.channel << ")";
  if (fetched >= 0) std::cout << "; " << fetched << " survey(s)";
  std::cout << "\n";
  if (end.step != sync::Step::kDone) {
    std::cerr << "canvass device: surveys not fetched yet: " << end.message << "\n";
  }
  return 0;
}

Result<ResponseLog> OpenLog(const DeviceState& d, std::unique_ptr<Store>* store) {
  Result<std::unique_ptr<Store>> opened = device::OpenSqliteLogStore(d.dir + "/log.db");
  if (!opened.ok()) return opened.status();
  *store = std::move(*opened);
  return ResponseLog::Open(store->get(), *d.key, d.device_id);
}

// The device's verified bundle of `survey_id`: the survey and its version.
struct DeviceSurvey {
  Survey survey;
  Hash256 version{};
};
Result<DeviceSurvey> LoadSurvey(const DeviceState& d, const std::string& survey_id) {
  Result<std::string> bytes = native::ReadWholeFile(d.dir + "/surveys/" + survey_id + ".bundle");
  if (!bytes.ok()) {
    return Status::NotFound("survey '" + survey_id +
                            "' is not on this device; run push or surveys to fetch it");
  }
  Result<SignedMessage> message = DecodeSignedMessage(*bytes);
  if (!message.ok()) return message.status();
  if (Status v = VerifyMessage(kSurveyDomain, *message, d.org_sign); !v.ok()) return v;
  Result<SurveyBundle> bundle = DecodeBundle(message->body);
  if (!bundle.ok()) return bundle.status();
  Result<Survey> survey = ParseSurvey(bundle->definition_json);
  if (!survey.ok()) return survey.status();
  return DeviceSurvey{std::move(*survey), SurveyVersion(bundle->definition_json)};
}

// The tags of a record this device makes from `given` (a --tag or an imported line): the
// device's location and channel from its certificate, and the host tags the rules allow
// (record.h). A location other than the device's is refused unless `here` (then the record is
// the device's, at its location); a channel is always the device's own.
Result<std::map<std::string, std::string>> TagsFor(const DeviceState& d, const Survey& survey,
                                                   const std::map<std::string, std::string>& given,
                                                   bool here) {
  std::map<std::string, std::string> host;
  for (const auto& [key, value] : given) {
    if (key == "location") {
      if (value == d.location || here) continue;
      return Status::InvalidArgument(
          "tag location=" + value + ": this device is enrolled for '" + d.location +
          "', and a record's location comes from its device's certificate; enroll a device at '" +
          value + "' for these answers, or pass --here to record them at '" + d.location + "'");
    }
    if (key == "channel") continue;
    if (!IsHostTag(key, survey.context_tags)) {
      std::string allowed;
      for (std::string_view t : kHostTags) allowed += std::string(t) + ", ";
      for (const std::string& t : survey.context_tags) {
        if (IsHostTag(t, survey.context_tags) && !IsHostTag(t, {})) allowed += t + ", ";
      }
      allowed.resize(allowed.size() - 2);
      return Status::InvalidArgument(
          "tag " + key + ": not a tag a device may be given (allowed: " + allowed + ")");
    }
    host[key] = value;
  }
  return DeviceTags(host, survey.context_tags, d.location, d.channel);
}

// Why `id`, answered in `answers`, was not taken by the walk `session` over `survey`: not a
// question here, hidden by its show_if, or after the required question the walk stopped at.
std::string WhyNotAsked(const Survey& survey, const FlowSession& session, const std::string& id,
                        const Answers& answers) {
  const Question* stop = session.Current();
  std::size_t index = survey.questions.size(), stop_index = survey.questions.size();
  for (std::size_t i = 0; i < survey.questions.size(); ++i) {
    if (survey.questions[i].id == id) index = i;
    if (stop && survey.questions[i].id == stop->id) stop_index = i;
  }
  if (index == survey.questions.size()) return "'" + id + "' is not a question of this survey";
  const Question& q = survey.questions[index];
  if (survey.mode == DeliveryMode::kRotateOne) {
    return "'" + id + "' is not asked: a rotate_one survey asks one question per customer";
  }
  if (stop && index > stop_index) {
    return "'" + id + "' comes after required question '" + stop->id +
           "', which has no answer: answer it too, or leave '" + id + "' out";
  }
  if (q.show_if) {
    const Condition& c = *q.show_if;
    std::string when;
    if (c.op == Condition::Op::kRange) {
      when = std::to_string(c.low) + ".." + std::to_string(c.high);
    } else {
      for (const auto& v : c.values) {
        when += (when.empty()                 ? ""
                 : c.op == Condition::Op::kIn ? " or "
                                              : "") +
                (std::holds_alternative<std::int32_t>(v) ? std::to_string(std::get<std::int32_t>(v))
                                                         : "'" + std::get<std::string>(v) + "'");
      }
    }
    std::string given = "not answered";
    auto it = answers.find(c.question);
    if (it != answers.end()) {
      if (const auto* scale = std::get_if<ScaleAnswer>(&it->second)) {
        given = std::to_string(scale->value);
      } else if (const auto* choice = std::get_if<ChoiceAnswer>(&it->second)) {
        given.clear();
        for (const std::string& c_id : choice->ids)
          given += (given.empty() ? "'" : ", '") + c_id + "'";
      } else {
        given = "answered";
      }
    }
    return "'" + id + "' is not asked: show_if shows it only when '" + c.question + "' is " + when +
           ", and '" + c.question + "' is " + given;
  }
  return "'" + id + "' is not asked with these answers";
}

int Record(const DeviceState& d, const std::vector<std::string>& args) {
  std::string survey_id, answers = "{}", outcome_name, time;
  std::map<std::string, std::string> given;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--survey")
      survey_id = args[++i];
    else if (args[i] == "--answers")
      answers = args[++i];
    else if (args[i] == "--outcome")
      outcome_name = args[++i];
    else if (args[i] == "--time")
      time = args[++i];
    else if (args[i] == "--tag") {
      const std::string& kv = args[++i];
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "canvass device record: --tag takes key=value\n";
        return 2;
      }
      given[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (survey_id.empty()) {
    std::cerr << "canvass device record: --survey ID is required\n";
    return 2;
  }
  Result<DeviceSurvey> loaded = LoadSurvey(d, survey_id);
  if (!loaded.ok()) return Fail(loaded.status());
  const Survey* survey = &loaded->survey;
  Result<std::map<std::string, std::string>> tags = TagsFor(d, *survey, given, /*here=*/false);
  if (!tags.ok()) return Fail(tags.status().WithContext("--tag"));

  // Type and validate the answers with the interchange reader, against this survey.
  std::int64_t now = NowMs();
  if (!time.empty()) {
    Result<std::int64_t> t = ParseIsoTime(time);
    if (!t.ok()) return Fail(t.status().WithContext("--time"));
    now = *t;
  }
  // An interchange line around the answers as given (the reader checks them).
  const std::string line = Json::Object()
                               .Add("survey", Json::Str(survey->id))
                               .Add("time", Json::Str(FormatIsoTime(now)))
                               .Add("outcome", Json::Str("completed"))
                               .Add("answers", Json::Raw(answers))
                               .Compact();
  Result<ResponseRecord> typed = ParseJsonLine(line, &*survey);
  if (!typed.ok()) return Fail(typed.status().WithContext("--answers"));

  // Walk the flow with these answers: branching decides which answers belong to this customer.
  Result<FlowSession> session = FlowSession::Series(*survey);
  if (survey->mode == DeliveryMode::kRotateOne) {
    if (typed->answers.size() > 1) {
      return Fail(Status::InvalidArgument("--answers: a rotate_one survey asks one question"));
    }
    std::string pick =
        typed->answers.empty() ? survey->rotate_pool.front() : typed->answers.begin()->first;
    session = FlowSession::Single(*survey, pick);
    if (!session.ok()) return Fail(session.status());
  }
  std::set<std::string> used;
  while (const Question* q = session->Current()) {
    auto it = typed->answers.find(q->id);
    if (it != typed->answers.end()) {
      Status s = session->Answer(it->second);
      if (!s.ok()) return Fail(s.WithContext("--answers." + q->id));
      used.insert(q->id);
    } else if (!q->required) {
      (void)session->Skip();
    } else {
      break;
    }
  }
  // Every answer the walk did not take is named, with the reason.
  std::string unasked;
  for (const auto& [id, value] : typed->answers) {
    if (used.count(id)) continue;
    unasked += (unasked.empty() ? "" : "; ") + WhyNotAsked(*survey, *session, id, typed->answers);
  }
  if (!unasked.empty()) return Fail(Status::InvalidArgument("--answers: " + unasked));
  Outcome outcome = session->OutcomeIfLeftNow();
  const Question* stop = session->Current();
  if (!outcome_name.empty()) {
    Result<Outcome> o = ParseOutcome(outcome_name);
    if (!o.ok()) return Fail(o.status().WithContext("--outcome"));
    if (*o == Outcome::kCompleted && outcome != Outcome::kCompleted) {
      return Fail(Status::InvalidArgument(
          "--outcome completed, but question '" + (stop ? stop->id : std::string("?")) +
          "' needs an answer" +
          (stop ? " (" + std::string(QuestionKindName(stop->kind)) + ", required)" : "")));
    }
    outcome = *o;
  } else if (outcome == Outcome::kPartial && stop) {
    // Not an error (a customer who leaves half-way is counted as partial), but never silent.
    std::cerr << "canvass device record: outcome partial: required question '" << stop->id << "' ("
              << QuestionKindName(stop->kind) << ") has no answer"
              << (stop->kind == QuestionKind::kCsiAttribute
                      ? " — a CSI attribute needs {\"importance\": I, \"satisfaction\": S}"
                      : "")
              << ", so the customer left before the end; answer it for a completed record, or "
                 "pass --outcome partial to say so\n";
  }
  ResponseRecord draft =
      BuildRecord(*survey, loaded->version, *session, outcome, now, *tags, d.org_box);
  std::unique_ptr<Store> store;
  Result<ResponseLog> log = OpenLog(d, &store);
  if (!log.ok()) return Fail(log.status());
  Result<LogEntry> entry = log->Append(std::move(draft));
  if (!entry.ok()) return Fail(entry.status());
  std::cout << "recorded seq " << entry->seq << " (" << OutcomeName(outcome) << "), "
            << log->PendingCount() << " waiting for sync\n";
  return 0;
}

int Import(const DeviceState& d, const std::vector<std::string>& args) {
  std::string survey_id, input;
  bool here = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--here")
      here = true;
    else if (args[i] == "--survey" && i + 1 < args.size())
      survey_id = args[++i];
    else if (args[i] == "--input" && i + 1 < args.size())
      input = args[++i];
  }
  if (survey_id.empty() || input.empty()) {
    std::cerr << "canvass device import: needs --survey ID and --input FILE.jsonl\n";
    return 2;
  }
  Result<DeviceSurvey> loaded = LoadSurvey(d, survey_id);
  if (!loaded.ok()) return Fail(loaded.status());
  Result<std::string> text = native::ReadWholeFile(input);
  if (!text.ok()) return Fail(text.status());

  // Every line is checked before anything is recorded: a file is imported whole or not at all.
  std::vector<ResponseRecord> drafts;
  std::size_t start = 0;
  for (std::uint64_t line_number = 1; start < text->size(); ++line_number) {
    std::size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = input + ":" + std::to_string(line_number);
    Result<ResponseRecord> parsed = ParseJsonLine(line, &loaded->survey);
    if (!parsed.ok()) return Fail(parsed.status().WithContext(where + ": nothing imported"));
    ResponseRecord draft;
    draft.survey_id = loaded->survey.id;
    draft.survey_version = loaded->version;
    draft.device_time_ms = parsed->device_time_ms;
    draft.outcome = parsed->outcome;
    draft.answers = std::move(parsed->answers);
    Result<std::map<std::string, std::string>> tags =
        TagsFor(d, loaded->survey, parsed->tags, here);
    if (!tags.ok()) return Fail(tags.status().WithContext(where + ": nothing imported"));
    draft.tags = std::move(*tags);
    draft.customer_key = std::move(parsed->customer_key);
    if (Result<std::string> bytes = EncodeRecord(draft); !bytes.ok()) {
      return Fail(bytes.status().WithContext(where + ": nothing imported"));
    }
    drafts.push_back(std::move(draft));
  }
  std::unique_ptr<Store> store;
  Result<ResponseLog> log = OpenLog(d, &store);
  if (!log.ok()) return Fail(log.status());
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    Result<LogEntry> entry = log->Append(std::move(drafts[i]));
    if (!entry.ok()) {
      return Fail(
          entry.status().WithContext("after " + std::to_string(i) + " record(s) were recorded"));
    }
  }
  std::cout << "imported " << drafts.size() << " record(s) from " << input << ", "
            << log->PendingCount() << " waiting for sync\n";
  return 0;
}

// The surveys of DIR, fetched and verified: 0, or the exit code of a failure (said on stderr).
int FetchSurveys(const DeviceState& d) {
  sync::Plan plan;
  plan.surveys = true;
  int fetched = 0;
  sync::Action end = Drive(
      d.server, plan,
      [&] {
        return sync::DeviceView{d.device_id, d.org_sign, {}};
      },
      [&](const sync::Action& a) { return StoreBundles(d, a.bundles, &fetched); });
  if (end.step != sync::Step::kDone) {
    std::cerr << "canvass device: surveys: " << end.message << "\n";
    return ExitOf(end);
  }
  std::cout << fetched << " survey(s) verified and stored\n";
  return 0;
}

int Push(const DeviceState& d, const std::vector<std::string>& args) {
  sync::Plan plan;
  plan.push = true;
  plan.surveys = true;  // a push refreshes the surveys after it
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--max-batch") {
      int n = std::atoi(args[++i].c_str());
      if (n < 1 || n > static_cast<int>(kMaxBatchRecords)) {
        std::cerr << "canvass device push: --max-batch is 1 to " << kMaxBatchRecords << "\n";
        return 2;
      }
      plan.max_batch = static_cast<std::uint32_t>(n);
    }
  }
  std::unique_ptr<Store> store;
  Result<ResponseLog> log = OpenLog(d, &store);
  if (!log.ok()) return Fail(log.status());
  std::uint64_t sent = 0;
  int fetched = 0;
  auto view = [&] {
    sync::DeviceView v{d.device_id, d.org_sign, {}};
    if (Result<std::vector<LogEntry>> e = log->Unsynced(plan.max_batch); e.ok()) {
      v.unsynced = std::move(*e);
    }
    return v;
  };
  auto keep = [&](const sync::Action& a) -> Status {
    if (a.step == sync::Step::kBundles) return StoreBundles(d, a.bundles, &fetched);
    const std::uint64_t before = log->state().acked.seq;
    Status s = log->Acknowledge(a.receipt_bytes, d.org_sign);
    if (!s.ok()) return s.WithContext("the server's receipt was refused; records kept");
    sent += log->state().acked.seq - before;
    return s;
  };
  sync::Action end = Drive(d.server, plan, view, keep);
  if (end.step != sync::Step::kDone && std::string_view(end.what) == "push") {
    std::cerr << "canvass device push: " << (end.step == sync::Step::kRefused ? "refused: " : "")
              << end.message << "; " << log->PendingCount() << " record(s) kept"
              << (end.step == sync::Step::kRetry ? " for the next push" : "") << "\n";
    return ExitOf(end);
  }
  std::cout << "pushed " << sent << " record(s); acknowledged up to seq " << log->state().acked.seq
            << "\n";
  if (end.step != sync::Step::kDone) {
    std::cerr << "canvass device: surveys not refreshed: " << end.message << "\n";
  }
  return 0;
}

int Status_(const DeviceState& d) {
  std::unique_ptr<Store> store;
  Result<ResponseLog> log = OpenLog(d, &store);
  if (!log.ok()) return Fail(log.status());
  std::cout << Json::Object()
                   .Add("device_id", Json::Str(d.device_id))
                   .Add("pending", Json::Count(log->PendingCount()))
                   .Add("head_seq", Json::Count(log->state().head.seq))
                   .Add("acked_seq", Json::Count(log->state().acked.seq))
                   .Add("server", Json::Str(d.server))
                   .Compact()
            << "\n";
  return 0;
}

int Batch(const DeviceState& d, const std::vector<std::string>& args) {
  std::string out;
  std::uint32_t max = kMaxBatchRecords;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--out")
      out = args[++i];
    else if (args[i] == "--max")
      max = static_cast<std::uint32_t>(std::max(1, std::atoi(args[++i].c_str())));
  }
  if (out.empty()) {
    std::cerr << "canvass device batch: --out FILE is required\n";
    return 2;
  }
  std::unique_ptr<Store> store;
  Result<ResponseLog> log = OpenLog(d, &store);
  if (!log.ok()) return Fail(log.status());
  Result<std::vector<LogEntry>> entries = log->Unsynced(max);
  if (!entries.ok()) return Fail(entries.status());
  if (entries->empty()) {
    std::cerr << "canvass device batch: nothing to send\n";
    return 1;
  }
  RecordBatch batch;
  batch.device_id = d.device_id;
  for (LogEntry& e : *entries) batch.envelopes.push_back(std::move(e.envelope));
  std::ofstream file(out, std::ios::binary);
  file << EncodeBatch(batch);
  if (!file) return Fail(Status::IoError("cannot write " + out));
  std::cout << "wrote " << batch.envelopes.size() << " record(s) to " << out << "\n";
  return 0;
}

}  // namespace

int RunDevice(const std::vector<std::string>& all_args) {
  std::vector<std::string> args = all_args;
  if (!TakeCaCertOption(&args, "canvass device")) return 2;
  std::string dir;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--state" && i + 1 < args.size()) {
      dir = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  if (dir.empty() || rest.empty()) {
    std::cerr << "canvass device: needs --state DIR and a command; see canvass device --help\n";
    return 2;
  }
  const std::string command = rest[0];
  std::vector<std::string> cmd_args(rest.begin() + 1, rest.end());
  if (command == "enroll") return Enroll(dir, cmd_args);
  static const char* kKnown[] = {"record", "import", "push", "status", "batch", "surveys"};
  if (std::find(std::begin(kKnown), std::end(kKnown), command) == std::end(kKnown)) {
    std::cerr << "canvass device: unknown command '" << command << "'; see canvass device --help\n";
    return 2;
  }
  Result<DeviceState> d = LoadState(dir);
  if (!d.ok()) return Fail(d.status());
  if (CaCertFileInUse().empty() && !d->cacert.empty()) {
    if (Status s = UseCaCertFile(d->cacert); !s.ok()) {
      return Fail(s.WithContext("the CA file this device enrolled with (" + dir +
                                "/device.json); pass --cacert FILE.pem"));
    }
  }
  if (command == "record") return Record(*d, cmd_args);
  if (command == "import") return Import(*d, cmd_args);
  if (command == "push") return Push(*d, cmd_args);
  if (command == "status") return Status_(*d);
  if (command == "batch") return Batch(*d, cmd_args);
  return FetchSurveys(*d);
}

}  // namespace canvass::cli
