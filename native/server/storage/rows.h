// The rows ServerStore keeps (store.h), as its callers and the storage modules
// (storage/modules.h) see them, and the one rule for a device's batch against its stored chain.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/response_log.h"
#include "canvass/status.h"

namespace canvass::server {

struct DeviceRow {
  std::string device_id;
  std::string location;
  std::string channel;
  PublicKey public_key{};
  bool web = false;
  std::string certificate;  // EncodeSignedMessage of the DeviceCertificate
  std::int64_t enrolled_ms = 0;
  std::optional<std::int64_t> revoked_ms;
  ChainHead head;  // last stored record
};

struct EnrollCodeRow {
  Hash256 code_hash{};  // BLAKE2b-256 of the code; the code itself is never stored
  std::string location;
  std::string channel;
  std::int64_t expires_ms = 0;
};

// A record whose signature and encoding the server has already checked.
struct VerifiedRecord {
  std::uint64_t seq = 0;
  Hash256 hash{};
  Hash256 prev_hash{};
  std::string envelope;
};

struct AppendResult {
  enum class Verdict { kStored, kFork, kGap };
  Verdict verdict = Verdict::kStored;
  std::string message;  // for kFork and kGap: what and where, for a person
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  ChainHead head;  // after the call
};

// A message from an inbound channel (the SMS gateway) and its idempotency key.
struct InboundMessage {
  std::string channel;     // "sms"
  std::string message_id;  // the gateway's id, or one the server derived (see window_ms)
  // 0: the id is the gateway's and is never reused, so it is a duplicate forever. >0: the id was
  // derived from the message itself; it is a duplicate only within window_ms of the first.
  std::int64_t window_ms = 0;
};

struct InboundAppend {
  bool duplicate = false;     // the message was stored before: nothing new was stored
  std::uint64_t seq = 0;      // the record holding the message (the earlier one if duplicate)
  std::int64_t first_ms = 0;  // when the message was first stored
  AppendResult append;        // of the record, when not a duplicate
};

struct StoredRecord {
  std::string device_id;
  std::uint64_t seq = 0;
  std::string envelope;
  std::int64_t stored_ms = 0;
  // From the device's row (its certificate): where the record comes from, whatever its tags say.
  std::string location;
  std::string channel;
};

struct QuarantineRow {
  std::string device_id;
  std::uint64_t seq = 0;
  std::string reason;
  std::string envelope;
  std::int64_t received_ms = 0;
};

struct SurveyRow {
  std::string survey_id;
  Hash256 version{};
  std::uint32_t revision = 0;
  std::string definition;              // the JSON bytes whose hash is `version`
  std::string bundle;                  // EncodeSignedMessage of the SurveyBundle
  std::vector<std::string> locations;  // empty: every location
  std::int64_t published_ms = 0;
};

// The one rule for a device's verified batch against its stored chain, shared by both backends:
// a seq at or below the head must have the stored hash (identical: a duplicate; different: a
// fork); the next seq must follow the head's hash (else a fork); a later seq is a gap. Fills
// `fresh` with the records to insert, in order, and returns the verdict with the head after
// them. `stored_hash(seq)` gives the stored hash of a seq <= head.
Result<AppendResult> ClassifyBatch(const ChainHead& head,
                                   const std::vector<VerifiedRecord>& records,
                                   const std::function<Result<Hash256>(std::uint64_t)>& stored_hash,
                                   std::vector<const VerifiedRecord*>* fresh);

// Closed loop (DESIGN.md §6; cases.h holds the rules, docs/protocol.md the API): user accounts,
// follow-up cases, and the outbox of webhook events with one delivery row per webhook.
struct UserRow {
  std::string name;
  std::string role;                    // "owner", "manager" or "staff"
  std::vector<std::string> locations;  // where a manager or staff member works
  std::string password_hash;           // crypto_pwhash_str (Argon2id)
  std::int64_t created_ms = 0;
};

struct CaseNote {
  std::uint32_t revision = 0;  // the case revision that added it (unique within the case)
  std::string author;
  std::int64_t time_ms = 0;
  std::string text;
};

struct CaseRow {
  std::string case_id;  // "<device_id>.<seq>" of the record that opened it
  std::string device_id;
  std::uint64_t seq = 0;
  std::string survey_id;
  std::string location;
  std::string question;  // the answer that opened the case: question id, metric role, score
  std::string metric;    // "nps", "csat" or "ces"
  std::int32_t score = 0;
  std::int32_t scale_min = 0;
  std::int32_t scale_max = 0;
  std::string state;              // "open", "contacted", "root_cause_found", "resolved"
  std::string category;           // root cause, empty until found
  std::string assignee;           // user name, empty while unassigned
  std::string sealed_contact;     // as the device sealed it to the organisation box key
  std::int64_t responded_ms = 0;  // the device's time of the response
  std::int64_t opened_ms = 0;
  std::int64_t due_ms = 0;
  std::int64_t updated_ms = 0;
  std::optional<std::int64_t> escalated_ms;
  std::optional<std::int64_t> resolved_ms;
  std::uint32_t revision = 1;   // +1 with every change; numbers its events and notes
  std::vector<CaseNote> notes;  // filled by FindCase only, oldest first
};

// A webhook event waiting in the outbox. The body never holds contact details.
struct CaseEvent {
  std::string event_id;  // "<case_id>/<revision>"
  std::string type;      // "case.opened", "case.state_changed", "case.escalated", ...
  std::string case_id;
  std::string body;  // JSON, as sent
  std::int64_t created_ms = 0;
};

struct CaseFilter {
  std::optional<std::string> state;
  std::optional<std::vector<std::string>> locations;  // nullopt: every location
  std::optional<std::int64_t> overdue_at;  // only cases not resolved and due at or before this
  std::optional<bool> escalated;
  std::optional<std::string> assignee;
  std::uint32_t limit = 1000;
};

// What ChangeCase writes after its callback edited the row.
struct CaseChange {
  bool changed = false;           // false: nothing is written
  std::optional<CaseNote> note;   // appended
  std::vector<CaseEvent> events;  // queued like WebhookOutbox::Enqueue
};

struct WebhookRow {
  std::string webhook_id;
  std::string url;
  std::int64_t created_ms = 0;
};

struct DeliveryRow {
  std::string event_id;
  std::string webhook_id;
  std::string url;    // the webhook's
  std::string type;   // the event's
  std::string body;   // the event's
  std::string state;  // "pending", "delivered" or "failed"
  std::uint32_t attempts = 0;
  std::int64_t next_ms = 0;      // pending: not before this
  std::int32_t last_status = 0;  // HTTP status of the last attempt, 0 without an answer
  std::string last_error;
  std::optional<std::int64_t> delivered_ms;
  std::int64_t created_ms = 0;  // the event's
};

// A survey's or user's locations as the stores keep them in one column: joined by newlines.
std::string JoinLocations(const std::vector<std::string>& locations);
std::vector<std::string> SplitLocations(const std::string& joined);

}  // namespace canvass::server
