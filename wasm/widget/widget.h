// The survey widget's state machine (DESIGN.md §8): which screen is up, the answer being edited,
// and the record a finished offer turns into. It drives the core's FlowSession, RotationPicker and
// BuildRecord and knows nothing of ImGui, GLFW or the browser, so the UI (ui.h) and the embind API
// (api.cpp) share one model, and a native or headless front end could drive it too.
//
// Ownership: a Widget owns its surveys (each behind a shared_ptr, because a FlowSession points
// into its Survey and a new bundle may arrive mid-survey). Time comes in as a parameter. Not
// thread-safe; the browser's main loop is its only caller.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/flow.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "canvass/survey.h"

namespace canvass::widget {

enum class Mode { kKiosk, kEmbed };

enum class Screen {
  kLoading,   // no device or no survey yet
  kEnroll,    // kiosk not enrolled: staff enter a code
  kAttract,   // kiosk idle: title, start button, languages
  kQuestion,  // the flow's current question
  kSaving,    // the record is being written to the device log; "thank you" comes after
  kThanks,
  kClosed,  // embed: the visitor closed the widget, or finished and the thanks timed out
  kPin,     // kiosk: staff PIN pad
  kStaff,   // kiosk: staff panel (sync status, enrollment, exit)
  kError,   // nothing usable (e.g. the only bundle was refused); the message says why
};
const char* ScreenName(Screen screen);

// The answer being edited for the current question, before FlowSession::Answer validates it.
struct Draft {
  std::int32_t scale = -1;  // nps, rating; -1 = none
  std::set<std::string> choices;
  bool other_selected = false;
  std::string other;
  std::string text;
  std::int32_t importance = -1, satisfaction = -1;  // csi
  bool consent = false;
  std::map<std::string, std::string> contact;  // field -> value
};

// What the embedding page learns about the device log and the network, shown to staff.
struct DeviceStatus {
  std::uint64_t pending = 0;
  std::int64_t last_sync_ms = 0;
  bool online = true;
  bool persistent_storage = true;  // false: IndexedDB refused, records are sent at once
  std::string message;             // last sync or storage problem, for staff
};

struct Event {
  std::string json;  // {"type": "...", ...}, handed to the JS glue
};

class Widget {
 public:
  struct Options {
    Mode mode = Mode::kKiosk;
    std::vector<std::string> preferred_languages;  // e.g. navigator.languages, or the host's lang
    std::int64_t idle_ms = 60000;                  // kiosk: reset after this long without input
    std::int64_t thanks_ms = 5000;                 // how long the thank-you screen stays
    std::string pin = "1234";                      // kiosk staff PIN
    std::map<std::string, std::string> tags;       // context tags every record carries
    std::uint64_t seed = 0;                        // rotation and sampling
    std::uint64_t rotation_draws = 0;              // persisted RotationPicker state
    std::uint64_t sampler_visits = 0;              // persisted Sampler state (embed)
    std::optional<std::int64_t> last_response_ms;  // embed: last answer or close, for cap_days
    bool force = false;  // embed: offer even if sampling or the frequency cap say no (previews)
  };
  explicit Widget(Options options);

  // The device identity after enrollment (or loaded from the device log). `location` and
  // `channel` are its certificate's: every record carries them, whatever the host page's tags say
  // (DeviceTags; empty for a device state saved before they were kept).
  Status SetDevice(const Seed& seed, std::string device_id, const PublicKey& organisation_sign_key,
                   const PublicKey& organisation_box_key, std::string location = "",
                   std::string channel = "");
  // The organisation's keys and the web channel's location before the device is enrolled (the
  // server's /v1/web/surveys answer): bundles can be verified and the first question shown while
  // enrollment completes; a record is signed only once SetDevice has come (SignPending).
  void SetOrganisation(const PublicKey& organisation_sign_key,
                       const PublicKey& organisation_box_key, std::string location,
                       std::string channel);
  bool enrolled() const { return key_.has_value(); }
  const std::string& device_id() const { return device_id_; }

  // Verifies a SignedMessage over a SurveyBundle with the organisation key and, if it is good,
  // makes it the survey for its id. A refused bundle changes nothing: the last good one stays.
  Result<std::string> LoadBundle(std::string_view signed_bundle);
  // Chooses the survey to offer; the attract (kiosk) or first question (embed) screen follows.
  Status SelectSurvey(const std::string& survey_id);
  const Survey* survey() const { return survey_.get(); }
  const Hash256& survey_version() const { return survey_version_; }

  // Input from the UI. Each returns quietly if it does not apply to the screen shown.
  void Touch(std::int64_t now_ms);  // any input: postpones the idle timeout
  void Start(std::int64_t now_ms);  // begin an offer (kiosk: start button; embed: on mount)
  // Embed: applies the survey's frequency cap and sampling (Sampler) and starts the offer if this
  // visitor is to be asked; otherwise the widget stays closed and no record is written.
  bool OfferToVisitor(std::int64_t now_ms);
  const std::string& not_offered() const { return not_offered_; }
  std::uint64_t sampler_visits() const { return sampler_.visits(); }
  // After a page reload mid-survey: rebuilds the session from the last progress line (a partial
  // record in the interchange format, as the "progress" event gave it) by replaying its answers
  // through FlowSession. With `abandon`, the customer is taken to have left: the offer is recorded
  // at once (partial or ignored). False if the line does not fit the survey on offer.
  bool Resume(const std::string& line, const std::string& rotated_question, bool abandon,
              std::int64_t now_ms);
  void SetLanguage(const std::string& language);
  void ChooseScale(std::int32_t value, std::int64_t now_ms);  // nps / rating: answers at once
  void ToggleChoice(const std::string& id);
  void ToggleOther();
  void SetImportance(std::int32_t value, std::int64_t now_ms);
  void SetSatisfaction(std::int32_t value, std::int64_t now_ms);
  void SetConsent(bool consent) { draft_.consent = consent; }
  // Text typed into the field `key` ("text", "other", "contact.phone", "enroll", ...).
  void SetText(const std::string& key, const std::string& value);
  std::string TextValue(const std::string& key) const;
  void Next(std::int64_t now_ms);  // validates the draft and answers, or skips an empty optional
  void Back();
  void Close(std::int64_t now_ms);  // embed: the visitor closed the widget
  void OpenStaff();                 // kiosk: the corner button; the PIN pad comes first
  void PinDigit(char digit);
  void PinErase();
  void PinSubmit();
  void LeaveStaff();
  void RequestEnroll();  // staff pressed "Enroll" with the code typed in
  void RequestSync();
  void RequestExit();

  // Called every frame: idle timeout, thank-you timeout.
  void Tick(std::int64_t now_ms);

  // The log glue: the draft record waiting to be signed, SignNext over it, and the outcome.
  bool has_pending_record() const { return pending_.has_value(); }
  Result<LogEntry> SignPending(const ChainHead& head);
  void RecordSaved(bool ok, const std::string& message, std::int64_t now_ms);

  // Events for the JS glue (record ready, complete, enroll, sync, exit, error), oldest first.
  std::vector<Event> TakeEvents();

  Screen screen() const { return screen_; }
  const std::string& language() const { return language_; }
  const Question* current() const { return session_ ? session_->Current() : nullptr; }
  const FlowSession* session() const { return session_ ? &*session_ : nullptr; }
  const Draft& draft() const { return draft_; }
  const std::string& error() const { return error_; }  // validation or fatal message to show
  const std::string& pin_entry() const { return pin_entry_; }
  std::optional<Outcome> last_outcome() const { return last_outcome_; }
  const Options& options() const { return options_; }
  DeviceStatus& status() { return status_; }
  const DeviceStatus& status() const { return status_; }
  std::uint64_t rotation_draws() const { return picker_.draws(); }
  void SetFatal(const std::string& message);

 private:
  void Finish(Outcome outcome, std::int64_t now_ms);  // builds the draft record; screen -> saving
  void LoadDraftFromAnswer();                         // after Back: show the earlier answer again
  std::optional<AnswerValue> DraftAnswer() const;
  void Emit(std::string json) { events_.push_back({std::move(json)}); }
  void AfterAnswer(std::int64_t now_ms);
  void EmitProgress(std::int64_t now_ms);  // so that a reload mid-survey can resume
  std::map<std::string, std::string> RecordTags() const;

  Options options_;
  std::optional<SigningKey> key_;
  std::string device_id_;
  PublicKey org_sign_key_{}, org_box_key_{};
  bool org_known_ = false;                        // SetOrganisation or SetDevice came
  std::string device_location_, device_channel_;  // from the device's certificate
  std::map<std::string, std::shared_ptr<const Survey>> surveys_;
  std::map<std::string, Hash256> versions_;
  std::shared_ptr<const Survey> survey_;  // the one on offer
  Hash256 survey_version_{};
  std::optional<FlowSession> session_;
  std::shared_ptr<const Survey> session_survey_;  // keeps the session's Survey alive
  Hash256 session_version_{};
  std::string session_question_;  // rotate_one: the question picked for this customer
  RotationPicker picker_;
  Sampler sampler_;
  std::string not_offered_;  // why the embed widget did not ask this visitor ("" if it did)
  Draft draft_;
  std::map<std::string, std::string> texts_;  // fields outside the draft: "enroll"
  Screen screen_ = Screen::kLoading;
  Screen before_staff_ = Screen::kAttract;
  std::string language_;
  std::string error_;
  std::string pin_entry_;
  std::int64_t last_input_ms_ = 0;
  std::int64_t thanks_since_ms_ = 0;
  std::optional<ResponseRecord> pending_;
  std::optional<Outcome> last_outcome_;
  DeviceStatus status_;
  std::vector<Event> events_;
};

// The widget's small JSON answers quote strings with the core's JsonQuote (interchange.h).
using canvass::JsonQuote;

}  // namespace canvass::widget
