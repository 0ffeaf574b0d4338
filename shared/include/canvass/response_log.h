// The per-device response log: a hash chain of signed records (DESIGN.md §3–§5).
//
// SignNext() is the one step that turns a draft record into the next link of a chain: it sets
// seq and prev_hash, encodes, hashes and signs. It is pure, so the browser can run it inside an
// IndexedDB transaction and the native device inside a SQLite one. ResponseLog composes it with a
// Store: Append() persists each record before returning (the widget says "thank you" only after),
// Unsynced() lists what awaits a receipt, and Acknowledge() drops records only up to a receipt
// whose signature and head hash it verified. VerifyChain() checks a whole chain and names the
// first bad record. ResponseLog is not thread-safe; one owner drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/record.h"
#include "canvass/status.h"

namespace canvass {

struct ChainHead {
  std::uint64_t seq = 0;  // 0 before the first record
  Hash256 hash{};         // hash of record `seq`; all zero before the first record
  bool operator==(const ChainHead&) const = default;
};

struct LogEntry {
  std::uint64_t seq = 0;
  Hash256 hash{};        // RecordHash of the record bytes inside
  std::string envelope;  // EncodeSignedRecord(...)
  bool operator==(const LogEntry&) const = default;
};

// Where a log keeps its entries. Implementations: MemoryStore (tests), the native file/SQLite
// store and the browser's IndexedDB glue. Each call is atomic: after a crash either all of it
// happened or none of it.
struct LogState {
  ChainHead head;   // last appended record
  ChainHead acked;  // last record covered by a verified receipt (entries up to it are dropped)
  bool operator==(const LogState&) const = default;
};
class Store {
 public:
  virtual ~Store() = default;
  virtual Result<LogState> Load() = 0;
  // Adds `entry` (seq == state.head.seq) and saves `state`, in one atomic step.
  virtual Status Append(const LogEntry& entry, const LogState& state) = 0;
  // Entries with seq >= first_seq, in seq order, at most max_count of them.
  virtual Result<std::vector<LogEntry>> Read(std::uint64_t first_seq, std::uint32_t max_count) = 0;
  // Removes entries with seq <= state.acked.seq and saves `state`, in one atomic step.
  virtual Status Drop(const LogState& state) = 0;
};

// In-memory Store for tests, with fault injection.
class MemoryStore : public Store {
 public:
  Result<LogState> Load() override { return state_; }
  Status Append(const LogEntry& entry, const LogState& state) override;
  Result<std::vector<LogEntry>> Read(std::uint64_t first_seq, std::uint32_t max_count) override;
  Status Drop(const LogState& state) override;

  // The next Append fails with Unavailable and changes nothing (a full disk, a refused quota).
  void FailNextAppend() { fail_next_append_ = true; }
  std::vector<LogEntry>& entries() { return entries_; }  // for tests that tamper with storage

 private:
  LogState state_;
  std::vector<LogEntry> entries_;
  bool fail_next_append_ = false;
};

// Turns `draft` into the link after `head`: sets seq and prev_hash, encodes, signs with `key`.
Result<LogEntry> SignNext(const ChainHead& head, ResponseRecord draft, const SigningKey& key);

// Checks one envelope: it decodes, its signature verifies under `device_key`, and it follows
// `prev` (seq = prev.seq + 1, prev_hash = prev.hash). Returns the decoded record.
Result<ResponseRecord> VerifyLink(std::string_view envelope, const ChainHead& prev,
                                  const PublicKey& device_key);

// Which check of VerifyLink an envelope failed.
enum class LinkFault {
  kNone,
  kEnvelope,   // not a signed record (Corruption)
  kSignature,  // the signature does not verify under the device key (Unauthenticated)
  kRecord,     // signed, but the record inside does not decode (Corruption)
  kSeq,        // not the seq after prev (Conflict)
  kPrevHash,   // prev_hash is not prev's hash (Conflict)
};
// VerifyLink for a caller that tells the failures apart (the server's push): sets *fault, and
// *hash to the record's hash once its signature verified. `prev` null: no chain check (the first
// record of a batch, which the server checks against the chain it stored).
Result<ResponseRecord> VerifyLink(std::string_view envelope, const ChainHead* prev,
                                  const PublicKey& device_key, LinkFault* fault, Hash256* hash);

struct ChainVerdict {
  Status status;                    // OK, or why the first bad record is bad
  std::uint64_t first_bad_seq = 0;  // the seq expected at the first bad position (0 if OK)
  ChainHead head;                   // the last good link
};
// Verifies `envelopes` as consecutive links after `start` (default: the chain's beginning).
ChainVerdict VerifyChain(const std::vector<std::string>& envelopes, const PublicKey& device_key,
                         const ChainHead& start = ChainHead{});

class ResponseLog {
 public:
  // `store` must outlive the log.
  static Result<ResponseLog> Open(Store* store, SigningKey device_key, std::string device_id);

  // Signs `draft` as the next record and persists it; the record is safe once this returns OK.
  // draft.device_id is set to this log's device id.
  Result<LogEntry> Append(ResponseRecord draft);
  // Records not yet covered by a receipt, oldest first.
  Result<std::vector<LogEntry>> Unsynced(std::uint32_t max_count) const;
  std::uint64_t PendingCount() const { return state_.head.seq - state_.acked.seq; }
  // Verifies `receipt` (a SignedMessage over a SyncReceipt) with the organisation key, checks that
  // it names this device and a record we hold with the same hash, then drops records up to it.
  // A receipt for records already dropped is accepted and changes nothing.
  Status Acknowledge(std::string_view receipt, const PublicKey& organisation_key);

  const LogState& state() const { return state_; }
  const std::string& device_id() const { return device_id_; }

 private:
  ResponseLog(Store* store, SigningKey key, std::string device_id, LogState state)
      : store_(store), key_(std::move(key)), device_id_(std::move(device_id)), state_(state) {}
  Store* store_;
  SigningKey key_;
  std::string device_id_;
  LogState state_;
};

}  // namespace canvass
