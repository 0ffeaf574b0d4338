#include "canvass/response_log.h"

#include <algorithm>

#include "canvass/messages.h"

namespace canvass {

Status MemoryStore::Append(const LogEntry& entry, const LogState& state) {
  if (fail_next_append_) {
    fail_next_append_ = false;
    return Status::Unavailable("store refused the write (injected fault)");
  }
  entries_.push_back(entry);
  state_ = state;
  return Status::Ok();
}

Result<std::vector<LogEntry>> MemoryStore::Read(std::uint64_t first_seq, std::uint32_t max_count) {
  std::vector<LogEntry> out;
  for (const LogEntry& e : entries_) {
    if (out.size() >= max_count) break;
    if (e.seq >= first_seq) out.push_back(e);
  }
  return out;
}

Status MemoryStore::Drop(const LogState& state) {
  std::erase_if(entries_, [&](const LogEntry& e) { return e.seq <= state.acked.seq; });
  state_ = state;
  return Status::Ok();
}

Result<LogEntry> SignNext(const ChainHead& head, ResponseRecord draft, const SigningKey& key) {
  draft.seq = head.seq + 1;
  draft.prev_hash = head.hash;
  Result<std::string> bytes = EncodeRecord(draft);
  if (!bytes.ok()) return bytes.status();
  LogEntry entry;
  entry.seq = draft.seq;
  entry.hash = RecordHash(*bytes);
  SignedRecord signed_record;
  signed_record.signature = key.SignDomain(kRecordDomain, *bytes);
  signed_record.record_bytes = std::move(*bytes);
  entry.envelope = EncodeSignedRecord(signed_record);
  return entry;
}

Result<ResponseRecord> VerifyLink(std::string_view envelope, const ChainHead* prev,
                                  const PublicKey& device_key, LinkFault* fault, Hash256* hash) {
  *fault = LinkFault::kEnvelope;
  Result<SignedRecord> signed_record = DecodeSignedRecord(envelope);
  if (!signed_record.ok()) return signed_record.status();
  const Hash256 record_hash = RecordHash(signed_record->record_bytes);
  if (!VerifyDomainHash(kRecordDomain, record_hash, signed_record->signature, device_key)) {
    *fault = LinkFault::kSignature;
    return Status::Unauthenticated("signature does not verify with the device key");
  }
  *hash = record_hash;
  *fault = LinkFault::kRecord;
  Result<ResponseRecord> record = DecodeRecord(signed_record->record_bytes);
  if (!record.ok()) return record.status();
  if (prev != nullptr && record->seq != prev->seq + 1) {
    *fault = LinkFault::kSeq;
    return Status::Conflict(
        "expected seq " + std::to_string(prev->seq + 1) + ", found seq " +
        std::to_string(record->seq) +
        (record->seq > prev->seq + 1 ? " (records are missing)" : " (out of order or repeated)"));
  }
  if (prev != nullptr && record->prev_hash != prev->hash) {
    *fault = LinkFault::kPrevHash;
    return Status::Conflict("prev_hash does not match the hash of record " +
                            std::to_string(prev->seq) + " (the chain was altered)");
  }
  *fault = LinkFault::kNone;
  return record;
}

Result<ResponseRecord> VerifyLink(std::string_view envelope, const ChainHead& prev,
                                  const PublicKey& device_key) {
  LinkFault fault;
  Hash256 hash{};
  return VerifyLink(envelope, &prev, device_key, &fault, &hash);
}

ChainVerdict VerifyChain(const std::vector<std::string>& envelopes, const PublicKey& device_key,
                         const ChainHead& start) {
  ChainVerdict verdict;
  verdict.head = start;
  for (const std::string& envelope : envelopes) {
    LinkFault fault;
    Hash256 hash{};
    Result<ResponseRecord> record = VerifyLink(envelope, &verdict.head, device_key, &fault, &hash);
    if (!record.ok()) {
      verdict.first_bad_seq = verdict.head.seq + 1;
      verdict.status =
          record.status().WithContext("record " + std::to_string(verdict.first_bad_seq));
      return verdict;
    }
    verdict.head = ChainHead{record->seq, hash};
  }
  return verdict;
}

Result<ResponseLog> ResponseLog::Open(Store* store, SigningKey device_key, std::string device_id) {
  if (device_id.empty()) return Status::InvalidArgument("device id is empty");
  Result<LogState> state = store->Load();
  if (!state.ok()) return state.status();
  if (state->acked.seq > state->head.seq) {
    return Status::Corruption("log state acknowledges seq " + std::to_string(state->acked.seq) +
                              " beyond its head " + std::to_string(state->head.seq));
  }
  return ResponseLog(store, std::move(device_key), std::move(device_id), *state);
}

Result<LogEntry> ResponseLog::Append(ResponseRecord draft) {
  draft.device_id = device_id_;
  Result<LogEntry> entry = SignNext(state_.head, std::move(draft), key_);
  if (!entry.ok()) return entry.status();
  LogState next = state_;
  next.head = ChainHead{entry->seq, entry->hash};
  Status s = store_->Append(*entry, next);
  if (!s.ok()) return s.WithContext("record not saved");
  state_ = next;
  return entry;
}

Result<std::vector<LogEntry>> ResponseLog::Unsynced(std::uint32_t max_count) const {
  return store_->Read(state_.acked.seq + 1, max_count);
}

Status ResponseLog::Acknowledge(std::string_view receipt_bytes, const PublicKey& organisation_key) {
  Result<SignedMessage> message = DecodeSignedMessage(receipt_bytes);
  if (!message.ok()) return message.status();
  Status s = VerifyMessage(kReceiptDomain, *message, organisation_key);
  if (!s.ok()) return s;
  Result<SyncReceipt> receipt = DecodeReceipt(message->body);
  if (!receipt.ok()) return receipt.status();
  if (receipt->device_id != device_id_) {
    return Status::InvalidArgument("receipt is for device '" + receipt->device_id +
                                   "', not this device '" + device_id_ + "'");
  }
  if (receipt->last_seq <= state_.acked.seq) return Status::Ok();  // already dropped
  if (receipt->last_seq > state_.head.seq) {
    return Status::Conflict("receipt covers seq " + std::to_string(receipt->last_seq) +
                            " but this log ends at " + std::to_string(state_.head.seq));
  }
  Result<std::vector<LogEntry>> entry = store_->Read(receipt->last_seq, 1);
  if (!entry.ok()) return entry.status();
  if (entry->empty() || entry->front().seq != receipt->last_seq) {
    return Status::NotFound("record " + std::to_string(receipt->last_seq) + " is not in the log");
  }
  if (entry->front().hash != receipt->head_hash) {
    return Status::Conflict("receipt's head hash differs from record " +
                            std::to_string(receipt->last_seq) +
                            " (the server stored something else); records kept");
  }
  LogState next = state_;
  next.acked = ChainHead{receipt->last_seq, receipt->head_hash};
  s = store_->Drop(next);
  if (!s.ok()) return s;
  state_ = next;
  return Status::Ok();
}

}  // namespace canvass
