// The device side of the sync protocol (DESIGN.md §5, docs/protocol.md) as a state machine: given
// what the device holds and the answer to its last request, Client::Next says what to do next —
// send a request (enroll, fetch the surveys, push a batch), keep what an answer brought (an
// enrollment, survey bundles, a verified receipt), stop, or wait and try again. It never touches a
// socket, a file or a clock, so the CLI drives it with its blocking HTTP client, the widget with
// fetch (through embind), and the tests with canned answers.
//
// The protocol's constants for devices live here once: the version (messages.h), paths, batch
// size and back-off. A receipt that does not move the device's log forward ends the run in
// back-off, never in another push of the same batch. Not thread-safe: one driver owns a Client.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/messages.h"
#include "canvass/response_log.h"
#include "canvass/status.h"

namespace canvass::sync {

constexpr std::uint32_t kBatchRecords =
    200;  // records per push (the server takes kMaxBatchRecords)
constexpr std::int64_t kFirstRetryMs = 1000;  // back-off: doubles per failed try, times 0.5..1.5
constexpr std::int64_t kMaxRetryMs = 60000;
constexpr std::uint32_t kMaxRetryDoublings = 10;
constexpr char kEnrollPath[] = "/v1/enroll";
constexpr char kWebEnrollPath[] = "/v1/web/enroll";
constexpr char kWebSurveysPath[] = "/v1/web/surveys";
constexpr char kSurveysPath[] = "/v1/surveys?device=";  // + the device id
constexpr char kRecordsPath[] = "/v1/records";

struct Request {
  const char* method = "GET";
  std::string path;  // below the server's base URL
  const char* content_type = "";
  std::string body;  // JSON, or the canonical bytes of a record batch
};

// The answer to the last request: an HTTP status and body, or no answer at all.
struct Answer {
  int status = 0;     // 0: the request failed in transport (refused, cut, timed out)
  std::string body;   // the answer's body; for a transport failure, what went wrong
  bool none = false;  // no request was sent since the last Next (start, or after a kKeep step)
  static Answer None() { return Answer{0, "", true}; }
};

// A verified enrollment answer: the certificate is the organisation's, for this device's key.
struct Enrollment {
  std::string device_id, location, channel;
  std::string certificate_hex;  // the signed certificate, as the server sent it
  PublicKey org_sign_key{}, org_box_key{};
  bool has_bundles = false;  // the answer carried the location's bundles
};

enum class Step {
  kSend,         // send `request`, then call Next with its answer
  kEnrolled,     // keep `enrollment`, and `bundles` if it has them; then Next(None)
  kBundles,      // verify and keep `bundles` (the last good one stays); then Next(None)
  kAcknowledge,  // drop the log's records up to `receipt` (verified here); then Next(None)
  kDone,         // the run's work is done
  kRetry,        // network or server trouble: wait `delay_ms`, then begin a new run
  kRefused,      // the server said no (`status`), or its answer does not verify; `message` says
};
const char* StepName(Step step);

// One survey bundle of an answer, as the server listed it: not yet verified.
struct BundleRef {
  std::string survey_id;
  std::string hex;  // a SignedMessage over a SurveyBundle
};

struct Action {
  Step step = Step::kDone;
  const char* what = "";  // the request this is about: "enroll", "push", "surveys" ("" for none)
  Request request;
  Enrollment enrollment;
  std::vector<BundleRef> bundles;
  SyncReceipt receipt;
  std::string receipt_bytes;  // kAcknowledge: the SignedMessage, for ResponseLog::Acknowledge
  std::int64_t delay_ms = 0;
  int status = 0;       // kRefused: the HTTP status (0 when the answer did not verify)
  std::string message;  // kRetry, kRefused: what happened, for a person
};

// What the device holds, as the driver read it for Next. `unsynced` is looked at only when Next
// gets Answer::None() (that is when the next batch is chosen), so a driver may read its log then
// only.
struct DeviceView {
  std::string device_id;           // "" until enrolled
  PublicKey org_sign_key{};        // checks receipts
  std::vector<LogEntry> unsynced;  // oldest first; the first max_batch of them suffice
};

// What one run is for.
struct Plan {
  bool enroll = false;     // enroll first (kEnrollPath with `code`, or the web channel without)
  std::string code;        // a one-time enrollment code; "" for the public web channel
  PublicKey device_key{};  // the new device key the certificate must name
  bool push = false;       // push every unsynced record
  bool surveys = false;    // fetch the surveys (after the push); enrollment fetches them if its
                           // answer had none
  std::uint32_t max_batch = kBatchRecords;
};

class Client {
 public:
  // `seed` draws the back-off's jitter (seeded and mapped by our own code, the same on every
  // target).
  explicit Client(std::uint64_t seed = 0) : random_(seed) {}

  // Starts a run; the back-off count carries over from the last run until a request succeeds.
  void Begin(const Plan& plan);
  // The next thing to do after `last` (Answer::None() at the start and after kEnrolled,
  // kBundles and kAcknowledge).
  Action Next(const DeviceView& device, const Answer& last);

  std::uint32_t failures() const { return failures_; }

 private:
  enum class Phase { kEnroll, kPush, kSurveys, kDone };
  Action Decide(const DeviceView& device);
  Action AfterEnroll(const Answer& answer);
  Action AfterPush(const DeviceView& device, const Answer& answer);
  Action AfterSurveys(const Answer& answer);
  Action Retry(std::string message);
  Action Refuse(int status, std::string message);

  Plan plan_;
  Phase phase_ = Phase::kDone;
  bool awaiting_ = false;       // a kSend is out; Next's answer is for it
  std::vector<LogEntry> sent_;  // the batch in flight: seq and hash of each
  std::uint64_t acked_ = 0;     // the last seq acknowledged in this run
  std::uint64_t random_;
  std::uint32_t failures_ = 0;
};

// The request bodies and answers of the device protocol, for drivers that send a request on their
// own (the widget asks for the web channel's surveys beside its enrollment).
Request EnrollRequest(std::string_view code, bool web, const PublicKey& device_key);
Request WebSurveysRequest();
Request SurveysRequest(std::string_view device_id);
Request PushRequest(std::string_view device_id, const std::vector<LogEntry>& entries);
Result<Enrollment> ReadEnrollment(std::string_view body, const PublicKey& device_key,
                                  std::vector<BundleRef>* bundles);
// The "bundles" array of a surveys answer; Unavailable for an answer cut short.
Result<std::vector<BundleRef>> ReadBundles(std::string_view body);
// Verifies a receipt for `sent` (the batch it answers): signed by the organisation, for this
// device, naming one of the records sent with its hash. Conflict for anything else.
Result<SyncReceipt> ReadReceipt(std::string_view body, const DeviceView& device,
                                const std::vector<LogEntry>& sent);
// "409 conflict: fork at seq 3 ..." from a JSON error answer (or the raw body).
std::string DescribeError(int status, std::string_view body);

}  // namespace canvass::sync
