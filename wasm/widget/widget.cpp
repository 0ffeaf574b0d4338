#include "widget.h"

#include <algorithm>
#include <cstdio>

#include "canvass/interchange.h"

namespace canvass::widget {

const char* ScreenName(Screen screen) {
  switch (screen) {
    case Screen::kLoading:
      return "loading";
    case Screen::kEnroll:
      return "enroll";
    case Screen::kAttract:
      return "attract";
    case Screen::kQuestion:
      return "question";
    case Screen::kSaving:
      return "saving";
    case Screen::kThanks:
      return "thanks";
    case Screen::kClosed:
      return "closed";
    case Screen::kPin:
      return "pin";
    case Screen::kStaff:
      return "staff";
    case Screen::kError:
      return "error";
  }
  return "?";
}

Widget::Widget(Options options)
    : options_(std::move(options)),
      picker_(options_.seed, options_.rotation_draws),
      // A different stream from the picker's, so who is sampled says nothing about which question.
      sampler_(options_.seed ^ 0x9E3779B97F4A7C15ull, options_.sampler_visits) {
  if (options_.mode == Mode::kKiosk) screen_ = Screen::kLoading;
}

Status Widget::SetDevice(const Seed& seed, std::string device_id, const PublicKey& sign_key,
                         const PublicKey& box_key, std::string location, std::string channel) {
  if (device_id.empty()) return Status::InvalidArgument("device id is empty");
  key_ = SigningKey::FromSeed(seed);
  device_id_ = std::move(device_id);
  device_location_ = std::move(location);
  device_channel_ = std::move(channel);
  org_sign_key_ = sign_key;
  org_box_key_ = box_key;
  org_known_ = true;
  if (screen_ == Screen::kEnroll || screen_ == Screen::kStaff) {
    screen_ = survey_ ? (options_.mode == Mode::kKiosk ? Screen::kAttract : Screen::kQuestion)
                      : Screen::kLoading;
  }
  return Status::Ok();
}

void Widget::SetOrganisation(const PublicKey& sign_key, const PublicKey& box_key,
                             std::string location, std::string channel) {
  org_sign_key_ = sign_key;
  org_box_key_ = box_key;
  device_location_ = std::move(location);
  device_channel_ = std::move(channel);
  org_known_ = true;
}

Result<std::string> Widget::LoadBundle(std::string_view signed_bundle) {
  if (!org_known_) return Status::InvalidArgument("enroll the device before loading surveys");
  Result<SignedMessage> message = DecodeSignedMessage(signed_bundle);
  if (!message.ok()) return message.status().WithContext("survey bundle");
  Status verified = VerifyMessage(kSurveyDomain, *message, org_sign_key_);
  if (!verified.ok()) return verified.WithContext("survey bundle refused");
  Result<SurveyBundle> bundle = DecodeBundle(message->body);
  if (!bundle.ok()) return bundle.status().WithContext("survey bundle");
  Result<Survey> survey = ParseSurvey(bundle->definition_json);
  if (!survey.ok()) return survey.status().WithContext("survey " + bundle->survey_id);
  if (survey->id != bundle->survey_id) {
    return Status::Corruption("survey bundle for '" + bundle->survey_id + "' holds survey '" +
                              survey->id + "'");
  }
  const std::string id = survey->id;
  surveys_[id] = std::make_shared<const Survey>(std::move(*survey));
  versions_[id] = SurveyVersion(bundle->definition_json);
  if (survey_ && survey_->id == id) {  // a newer version: the next offer uses it
    survey_ = surveys_[id];
    survey_version_ = versions_[id];
  }
  return id;
}

Status Widget::SelectSurvey(const std::string& survey_id) {
  auto it = surveys_.find(survey_id);
  if (it == surveys_.end()) {
    return Status::NotFound("survey '" + survey_id + "' is not among this device's surveys");
  }
  survey_ = it->second;
  survey_version_ = versions_[survey_id];
  language_ = survey_->PickLanguage(options_.preferred_languages);
  if (options_.mode == Mode::kKiosk) {
    if (screen_ == Screen::kLoading || screen_ == Screen::kError) screen_ = Screen::kAttract;
  }
  return Status::Ok();
}

void Widget::SetFatal(const std::string& message) {
  error_ = message;
  screen_ = Screen::kError;
}

void Widget::Touch(std::int64_t now_ms) { last_input_ms_ = now_ms; }

void Widget::Start(std::int64_t now_ms) {
  if (!survey_ || !org_known_) return;  // a device may still be enrolling (SetOrganisation)
  if (screen_ != Screen::kAttract && screen_ != Screen::kLoading && screen_ != Screen::kClosed)
    return;
  session_survey_ = survey_;
  session_version_ = survey_version_;
  if (survey_->mode == DeliveryMode::kRotateOne && !survey_->rotate_pool.empty()) {
    const std::string& id = picker_.Next(survey_->rotate_pool);
    session_question_ = id;
    Result<FlowSession> single = FlowSession::Single(*session_survey_, id);
    if (!single.ok()) {
      SetFatal(single.status().message());
      return;
    }
    session_ = std::move(*single);
  } else {
    session_question_.clear();
    session_ = FlowSession::Series(*session_survey_);
  }
  draft_ = Draft{};
  error_.clear();
  last_input_ms_ = now_ms;
  screen_ = Screen::kQuestion;
  Emit("{\"type\":\"offer\",\"survey\":" + JsonQuote(survey_->id) +
       ",\"rotation_draws\":" + std::to_string(picker_.draws()) + "}");
  EmitProgress(now_ms);
}

std::map<std::string, std::string> Widget::RecordTags() const {
  // The host page's tags pass only as far as the allow-list lets them (record.h): a page cannot
  // move its answers to another location or channel.
  return DeviceTags(options_.tags, session_survey_->context_tags, device_location_,
                    device_channel_);
}

void Widget::EmitProgress(std::int64_t now_ms) {
  ResponseRecord partial = BuildRecord(*session_survey_, session_version_, *session_,
                                       Outcome::kPartial, now_ms, RecordTags(), org_box_key_);
  partial.sealed_contact.reset();  // never kept outside the log, and not needed to resume
  Emit("{\"type\":\"progress\",\"line\":" + JsonQuote(ToJsonLine(partial)) +
       ",\"question\":" + JsonQuote(session_question_) + "}");
}

bool Widget::Resume(const std::string& line, const std::string& rotated_question, bool abandon,
                    std::int64_t now_ms) {
  if (!survey_ || !key_) return false;
  if (screen_ != Screen::kAttract && screen_ != Screen::kLoading && screen_ != Screen::kClosed)
    return false;
  Result<ResponseRecord> saved = ParseJsonLine(line, survey_.get());
  if (!saved.ok() || saved->survey_id != survey_->id || saved->survey_version != survey_version_) {
    return false;  // another survey or version: nothing to resume
  }
  session_survey_ = survey_;
  session_version_ = survey_version_;
  session_question_ = rotated_question;
  if (!rotated_question.empty()) {
    Result<FlowSession> single = FlowSession::Single(*session_survey_, rotated_question);
    if (!single.ok()) return false;
    session_ = std::move(*single);
  } else {
    session_ = FlowSession::Series(*session_survey_);
  }
  // Replays the answers in flow order; stops at the first one the flow does not take (e.g. a
  // contact answer, whose details were never kept).
  while (const Question* q = session_->Current()) {
    auto it = saved->answers.find(q->id);
    if (it == saved->answers.end() || !session_->Answer(it->second).ok()) break;
  }
  draft_ = Draft{};
  error_.clear();
  last_input_ms_ = now_ms;
  screen_ = Screen::kQuestion;
  if (abandon || !session_->Current()) {
    Finish(session_->Current() ? session_->OutcomeIfLeftNow() : Outcome::kCompleted, now_ms);
  } else {
    LoadDraftFromAnswer();
  }
  return true;
}

bool Widget::OfferToVisitor(std::int64_t now_ms) {
  if (!survey_ || !org_known_ || options_.mode != Mode::kEmbed) return false;
  not_offered_.clear();
  if (!options_.force) {
    if (!FrequencyCapAllows(survey_->sampling, now_ms, options_.last_response_ms)) {
      not_offered_ = "frequency cap: this visitor answered or declined within " +
                     std::to_string(survey_->sampling.cap_days) + " days";
    } else if (!sampler_.ShouldOffer(survey_->sampling)) {
      not_offered_ = "not sampled this time";
    }
    Emit("{\"type\":\"sampled\",\"sampler_visits\":\"" + std::to_string(sampler_.visits()) + "\"}");
  }
  if (!not_offered_.empty()) {
    screen_ = Screen::kClosed;
    return false;
  }
  Start(now_ms);
  return true;
}

void Widget::SetLanguage(const std::string& language) {
  if (!survey_) return;
  if (std::find(survey_->languages.begin(), survey_->languages.end(), language) !=
      survey_->languages.end()) {
    language_ = language;
  }
}

void Widget::ChooseScale(std::int32_t value, std::int64_t now_ms) {
  if (screen_ != Screen::kQuestion) return;
  draft_.scale = value;
  Next(now_ms);
}

void Widget::ToggleChoice(const std::string& id) {
  const Question* q = current();
  if (!q) return;
  if (q->kind == QuestionKind::kSingleChoice) {
    draft_.choices = {id};
    draft_.other_selected = false;
  } else if (!draft_.choices.erase(id)) {
    draft_.choices.insert(id);
  }
}

void Widget::ToggleOther() {
  const Question* q = current();
  if (!q || !q->allow_other) return;
  draft_.other_selected = !draft_.other_selected;
  if (q->kind == QuestionKind::kSingleChoice && draft_.other_selected) draft_.choices.clear();
}

void Widget::SetImportance(std::int32_t value, std::int64_t now_ms) {
  draft_.importance = value;
  if (draft_.satisfaction >= 0) Next(now_ms);
}

void Widget::SetSatisfaction(std::int32_t value, std::int64_t now_ms) {
  draft_.satisfaction = value;
  if (draft_.importance >= 0) Next(now_ms);
}

void Widget::SetText(const std::string& key, const std::string& value) {
  if (key == "text") {
    draft_.text = value;
  } else if (key == "other") {
    draft_.other = value;
  } else if (key.rfind("contact.", 0) == 0) {
    draft_.contact[key.substr(8)] = value;
  } else {
    texts_[key] = value;
  }
}

std::string Widget::TextValue(const std::string& key) const {
  if (key == "text") return draft_.text;
  if (key == "other") return draft_.other;
  if (key.rfind("contact.", 0) == 0) {
    auto it = draft_.contact.find(key.substr(8));
    return it == draft_.contact.end() ? std::string() : it->second;
  }
  auto it = texts_.find(key);
  return it == texts_.end() ? std::string() : it->second;
}

// The draft as an answer, or nothing when the customer gave none (an empty optional is a skip).
std::optional<AnswerValue> Widget::DraftAnswer() const {
  const Question* q = current();
  if (!q) return std::nullopt;
  switch (q->kind) {
    case QuestionKind::kNps:
    case QuestionKind::kRating:
      if (draft_.scale < 0) return std::nullopt;
      return ScaleAnswer{draft_.scale};
    case QuestionKind::kText:
      if (draft_.text.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
      return TextAnswer{draft_.text};
    case QuestionKind::kSingleChoice:
    case QuestionKind::kMultiChoice: {
      ChoiceAnswer c;
      c.ids.assign(draft_.choices.begin(), draft_.choices.end());  // std::set: sorted, unique
      if (draft_.other_selected) c.other = draft_.other;
      if (c.ids.empty() && c.other.empty()) return std::nullopt;
      return c;
    }
    case QuestionKind::kCsiAttribute:
      if (draft_.importance < 0 && draft_.satisfaction < 0) return std::nullopt;
      return CsiAnswer{draft_.importance, draft_.satisfaction};
    case QuestionKind::kContact: {
      ContactAnswer c;
      c.consent = draft_.consent;
      if (c.consent) {
        for (const std::string& field : q->contact_fields) {
          auto it = draft_.contact.find(field);
          if (it == draft_.contact.end() || it->second.empty()) continue;
          if (!c.details.empty()) c.details += "\n";
          c.details += field + ": " + it->second;
        }
      }
      if (!c.consent) return std::nullopt;
      return c;
    }
  }
  return std::nullopt;
}

void Widget::Next(std::int64_t now_ms) {
  if (screen_ != Screen::kQuestion || !session_) return;
  std::optional<AnswerValue> answer = DraftAnswer();
  Status s = answer ? session_->Answer(std::move(*answer)) : session_->Skip();
  if (!s.ok()) {
    error_ = s.message();
    return;
  }
  AfterAnswer(now_ms);
}

void Widget::AfterAnswer(std::int64_t now_ms) {
  error_.clear();
  draft_ = Draft{};
  if (!session_->Current()) {
    Finish(session_->IsComplete() ? Outcome::kCompleted : session_->OutcomeIfLeftNow(), now_ms);
  } else {
    LoadDraftFromAnswer();
    EmitProgress(now_ms);
  }
}

void Widget::LoadDraftFromAnswer() {
  const Question* q = current();
  if (!q) return;
  auto it = session_->answers().find(q->id);
  if (it == session_->answers().end()) return;
  const AnswerValue& v = it->second;
  if (const auto* s = std::get_if<ScaleAnswer>(&v)) draft_.scale = s->value;
  if (const auto* t = std::get_if<TextAnswer>(&v)) draft_.text = t->text;
  if (const auto* c = std::get_if<ChoiceAnswer>(&v)) {
    draft_.choices = {c->ids.begin(), c->ids.end()};
    draft_.other_selected = !c->other.empty();
    draft_.other = c->other;
  }
  if (const auto* c = std::get_if<CsiAnswer>(&v)) {
    draft_.importance = c->importance;
    draft_.satisfaction = c->satisfaction;
  }
  if (const auto* c = std::get_if<ContactAnswer>(&v)) draft_.consent = c->consent;
}

void Widget::Back() {
  if (screen_ != Screen::kQuestion || !session_) return;
  if (session_->Back()) {
    draft_ = Draft{};
    error_.clear();
    LoadDraftFromAnswer();
  }
}

void Widget::Close(std::int64_t now_ms) {
  if (screen_ == Screen::kQuestion) {
    // Closing is an explicit "no thanks": declined, with whatever was answered before.
    Finish(Outcome::kDeclined, now_ms);
  } else if (screen_ == Screen::kThanks) {
    screen_ = Screen::kClosed;
    Emit("{\"type\":\"closed\"}");
  }
}

void Widget::OpenStaff() {
  if (options_.mode != Mode::kKiosk) return;
  if (screen_ == Screen::kSaving || screen_ == Screen::kPin || screen_ == Screen::kStaff) return;
  before_staff_ = screen_ == Screen::kQuestion ? Screen::kAttract : screen_;
  if (screen_ == Screen::kQuestion) Finish(session_->OutcomeIfLeftNow(), last_input_ms_);
  pin_entry_.clear();
  screen_ = Screen::kPin;
}

void Widget::PinDigit(char digit) {
  if (screen_ == Screen::kPin && pin_entry_.size() < 12) pin_entry_ += digit;
}

void Widget::PinErase() {
  if (screen_ == Screen::kPin && !pin_entry_.empty()) pin_entry_.pop_back();
}

void Widget::PinSubmit() {
  if (screen_ != Screen::kPin) return;
  if (ConstantTimeEqual(pin_entry_, options_.pin)) {
    screen_ = Screen::kStaff;
    error_.clear();
  } else {
    error_ = "wrong PIN";
  }
  pin_entry_.clear();
}

void Widget::LeaveStaff() {
  if (screen_ != Screen::kPin && screen_ != Screen::kStaff) return;
  error_.clear();
  if (!key_) {
    screen_ = Screen::kEnroll;
  } else if (survey_) {
    screen_ = Screen::kAttract;
  } else {
    screen_ = before_staff_ == Screen::kError ? Screen::kError : Screen::kLoading;
  }
}

void Widget::RequestEnroll() {
  const std::string code = TextValue("enroll");
  if (code.empty()) {
    error_ = "type the enrollment code first";
    return;
  }
  Emit("{\"type\":\"enroll\",\"code\":" + JsonQuote(code) + "}");
}

void Widget::RequestSync() { Emit("{\"type\":\"sync_request\"}"); }
void Widget::RequestExit() { Emit("{\"type\":\"exit\"}"); }

void Widget::Tick(std::int64_t now_ms) {
  if (options_.mode == Mode::kKiosk && !key_ && screen_ == Screen::kLoading) {
    screen_ = Screen::kEnroll;
  }
  if (screen_ == Screen::kQuestion && options_.mode == Mode::kKiosk && options_.idle_ms > 0 &&
      now_ms - last_input_ms_ > options_.idle_ms) {
    // The customer walked away: partial with some answers, ignored without.
    Finish(session_->OutcomeIfLeftNow(), now_ms);
  }
  if (screen_ == Screen::kThanks && now_ms - thanks_since_ms_ > options_.thanks_ms) {
    if (options_.mode == Mode::kKiosk) {
      screen_ = Screen::kAttract;
      if (survey_) language_ = survey_->PickLanguage(options_.preferred_languages);
    } else {
      screen_ = Screen::kClosed;
      Emit("{\"type\":\"closed\"}");
    }
  }
}

void Widget::Finish(Outcome outcome, std::int64_t now_ms) {
  if (!session_ || !session_survey_) return;
  pending_ = BuildRecord(*session_survey_, session_version_, *session_, outcome, now_ms,
                         RecordTags(), org_box_key_);
  pending_->device_id = device_id_;
  last_outcome_ = outcome;
  screen_ = Screen::kSaving;
  // Wipe what the customer typed; the record holds the sealed copy.
  for (auto& [field, value] : draft_.contact) {
    SecureWipe(value.data(), static_cast<std::uint32_t>(value.size()));
  }
  draft_ = Draft{};
  session_.reset();
  Emit(std::string("{\"type\":\"record\",\"outcome\":\"") + OutcomeName(outcome) + "\"}");
}

Result<LogEntry> Widget::SignPending(const ChainHead& head) {
  if (!pending_) return Status::NotFound("no record is waiting to be signed");
  if (!key_) return Status::InvalidArgument("the device is not enrolled");
  // The offer may have been finished before enrollment did (SetOrganisation): the record is the
  // enrolled device's.
  pending_->device_id = device_id_;
  return SignNext(head, *pending_, *key_);
}

void Widget::RecordSaved(bool ok, const std::string& message, std::int64_t now_ms) {
  if (!pending_) return;
  const Outcome outcome = pending_->outcome;
  pending_.reset();
  if (!ok) {
    // The answer could not be stored: say so rather than thank the customer for nothing.
    SetFatal(message);
    Emit("{\"type\":\"error\",\"message\":" + JsonQuote(message) + "}");
    return;
  }
  thanks_since_ms_ = now_ms;
  if (screen_ == Screen::kPin || screen_ == Screen::kStaff) {
    // Staff opened their panel mid-survey; the record is saved, the panel stays.
  } else if (options_.mode == Mode::kKiosk) {
    // Only a finished survey earns a thank-you; an idle reset goes straight back to attract.
    screen_ = outcome == Outcome::kCompleted ? Screen::kThanks : Screen::kAttract;
    if (screen_ == Screen::kAttract && survey_) {
      language_ = survey_->PickLanguage(options_.preferred_languages);
    }
  } else {
    screen_ = outcome == Outcome::kDeclined ? Screen::kClosed : Screen::kThanks;
    if (screen_ == Screen::kClosed) Emit("{\"type\":\"closed\"}");
  }
  Emit(std::string("{\"type\":\"complete\",\"outcome\":\"") + OutcomeName(outcome) + "\"}");
}

std::vector<Event> Widget::TakeEvents() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

}  // namespace canvass::widget
