// POST /v1/records (docs/protocol.md, "Push"): a device's batch of signed records, verified
// whole before any is stored, then appended to its chain (store.h); forks go to the quarantine
// within its bounds, and the device gets a signed receipt.
#include <chrono>
#include <iostream>
#include <set>

#include "api.h"
#include "canvass/messages.h"
#include "canvass/record.h"
#include "canvass/response_log.h"
#include "projector.h"

namespace canvass::server {
namespace {

constexpr std::int64_t kFirstExportableMs = -62167219200000;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kLastExportableMs = 253402300799999;   // 9999-12-31T23:59:59.999Z

// Whether `device`'s stored certificate is this organisation's word about its key, and still
// valid at `now_ms`: nullopt, or the refusal. A device row copied in from elsewhere (or altered
// on disk) is not trusted.
std::optional<std::string> CertificateProblem(const DeviceRow& device, const PublicKey& org_key,
                                              std::int64_t now_ms) {
  Result<SignedMessage> message = DecodeSignedMessage(device.certificate);
  Status signed_ok =
      message.ok() ? VerifyMessage(kDeviceDomain, *message, org_key) : message.status();
  Result<DeviceCertificate> cert =
      signed_ok.ok() ? DecodeCertificate(message->body) : Result<DeviceCertificate>(signed_ok);
  if (!cert.ok() || cert->device_id != device.device_id || cert->device_key != device.public_key) {
    return "device '" + device.device_id +
           "' has no certificate signed by this organisation; enroll it again with a code from "
           "an admin; nothing stored";
  }
  if (cert->valid_until_ms < now_ms) {
    return "device '" + device.device_id +
           "': its certificate has expired; enroll it again; nothing stored";
  }
  return std::nullopt;
}

}  // namespace

HttpResponse Api::PushRecords(const HttpRequest& r, std::string* actor) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t now = now_ms_();
  // Until the device is known and the batch's first signature verifies, the push is anonymous:
  // its refusals are charged to the sender's address, never to the device it names (anyone can
  // name a device: ids show in case ids, webhook events and /v1/revocations).
  const auto refuse = [&](int status, const std::string& code, const std::string& message) {
    (void)push_failures_.Allow(r.remote_address, now);
    return ErrorResponse(status, code, message);
  };
  if (std::int64_t wait_ms = 0; push_failures_.Exhausted(r.remote_address, now, &wait_ms)) {
    CountRefused("rate_limit");
    return ErrorResponse(429, "rate_limited",
                         "too many refused pushes from this address; retry in " +
                             std::to_string((wait_ms + 999) / 1000) + " s");
  }
  if (r.body.size() > kMaxBatchBytes) {
    CountRefused("too_large");
    return refuse(413, "too_large",
                  "batch body is " + std::to_string(r.body.size()) + " bytes, over the limit of " +
                      std::to_string(kMaxBatchBytes) + "; send smaller batches");
  }
  if (std::optional<std::uint32_t> n = PeekBatchCount(r.body); n && *n > kMaxBatchRecords) {
    CountRefused("too_large");
    return refuse(413, "too_large",
                  "batch holds " + std::to_string(*n) + " records, over the limit of " +
                      std::to_string(kMaxBatchRecords) + "; send smaller batches");
  }
  Result<RecordBatch> batch = DecodeBatch(r.body);
  if (!batch.ok()) {
    CountRefused(batch.status().message().find("protocol") != std::string::npos ? "protocol"
                                                                                : "malformed");
    return refuse(
        400, batch.status().code() == StatusCode::kCorruption ? "corruption" : "invalid_argument",
        batch.status().message());
  }
  *actor = batch->device_id;
  Result<std::optional<DeviceRow>> device = store_->FindDevice(batch->device_id);
  if (!device.ok()) return StatusResponse(device.status());
  if (!*device) {
    CountRefused("unknown_device");
    return refuse(401, "unauthenticated",
                  "unknown device '" + batch->device_id + "'; enroll it with a code from an admin");
  }
  if ((*device)->revoked_ms) {
    CountRefused("revoked");
    return refuse(403, "forbidden", "device '" + batch->device_id + "' is revoked; nothing stored");
  }
  if (std::optional<std::string> problem =
          CertificateProblem(**device, keys_.sign.public_key(), now)) {
    CountRefused("certificate");
    return refuse(403, "forbidden", *problem);
  }
  // Verify every record before storing any.
  std::vector<VerifiedRecord> records;
  records.reserve(batch->envelopes.size());
  for (std::size_t i = 0; i < batch->envelopes.size(); ++i) {
    const std::string where = "record " + std::to_string(i + 1) + " of the batch";
    // The chain inside the batch is VerifyLink's; the first record's link to the stored chain is
    // the store's (AppendRecords: duplicate, fork or gap).
    const ChainHead prev =
        i == 0 ? ChainHead{} : ChainHead{records.back().seq, records.back().hash};
    LinkFault fault = LinkFault::kNone;
    Hash256 hash{};
    Result<ResponseRecord> record = VerifyLink(batch->envelopes[i], i == 0 ? nullptr : &prev,
                                               (*device)->public_key, &fault, &hash);
    if (fault == LinkFault::kEnvelope || fault == LinkFault::kSignature) {
      const bool envelope = fault == LinkFault::kEnvelope;
      CountRefused(envelope ? "malformed" : "signature");
      if (i == 0) (void)push_failures_.Allow(r.remote_address, now);
      return envelope ? ErrorResponse(400, "corruption",
                                      where + ": " + record.status().message() + "; nothing stored")
                      : ErrorResponse(400, "unauthenticated",
                                      where +
                                          ": signature does not verify with the device's key "
                                          "(altered in transit or forged); nothing stored");
    }
    // The device is known and signed this batch: from here on the push counts against its own
    // budget.
    if (i == 0 && !push_limit_.Allow(batch->device_id, now)) {
      CountRefused("rate_limit");
      return ErrorResponse(429, "rate_limited",
                           "too many batches from this device; retry in a minute");
    }
    if (!record.ok()) {
      CountRefused(fault == LinkFault::kPrevHash ? "chain" : "malformed");
      return ErrorResponse(400, fault == LinkFault::kRecord ? "corruption" : "invalid_argument",
                           where + ": " + record.status().message() + "; nothing stored");
    }
    if (record->device_id != batch->device_id) {
      CountRefused("malformed");
      return ErrorResponse(
          400, "invalid_argument",
          where + " belongs to device '" + record->device_id + "'; nothing stored");
    }
    // Times the interchange format can write (years 0000-9999): any real clock, however wrong,
    // is inside; outside, the export would write a time that `canvass report` cannot read.
    if (record->device_time_ms < kFirstExportableMs || record->device_time_ms > kLastExportableMs) {
      CountRefused("malformed");
      return ErrorResponse(400, "invalid_argument",
                           where + " has a device time outside the years 0000-9999 (" +
                               std::to_string(record->device_time_ms) +
                               " ms since 1970); check the device's clock; nothing stored");
    }
    // Where a record comes from is its device's certificate (DESIGN §5): a record that claims
    // another location, or answers a survey not published for the device's, is refused.
    if (Status here = CheckRecordLocation(*record, (*device)->location); !here.ok()) {
      CountRefused("location");
      return ErrorResponse(403, "forbidden", where + ": " + here.message() + "; nothing stored");
    }
    if (Status here = SurveyApplies(record->survey_id, (*device)->location); !here.ok()) {
      CountRefused("location");
      return ErrorResponse(
          here.code() == StatusCode::kInvalidArgument ? 403 : 503,
          here.code() == StatusCode::kInvalidArgument ? "forbidden" : "unavailable",
          where + ": " + here.message() + "; nothing stored");
    }
    if (record->seq == 0) {
      CountRefused("malformed");
      return ErrorResponse(400, "invalid_argument",
                           where + " has seq 0; seqs start at 1; nothing stored");
    }
    records.push_back({record->seq, hash, record->prev_hash, std::move(batch->envelopes[i])});
  }
  Result<AppendResult> appended = store_->AppendRecords(batch->device_id, records, now);
  if (!appended.ok()) {
    CountRefused("store");
    LogStoreFailure(appended.status(), now);
    return StatusResponse(appended.status().WithContext("nothing stored"));
  }
  if (appended->verdict == AppendResult::Verdict::kFork) {
    CountRefused("fork");
    if (!KeepInQuarantine(batch->device_id, records, appended->message, now)) {
      return ErrorResponse(
          409, "conflict",
          appended->message +
              "; the quarantine is full for this device, so this batch was not "
              "kept: an admin should look at the device (canvass admin quarantine) "
              "and revoke it if it was cloned");
    }
    return ErrorResponse(409, "conflict", appended->message);
  }
  if (appended->verdict == AppendResult::Verdict::kGap) {
    CountRefused("gap");
    return ErrorResponse(422, "invalid_argument", appended->message);
  }
  accepted_ += appended->stored;
  duplicates_ += appended->duplicates;
  if (appended->stored > 0 && options_.projector) options_.projector->Notify();
  const VerifiedRecord& last = records.back();
  Result<std::int64_t> stored_at = store_->StoredTime(batch->device_id, last.seq);
  if (!stored_at.ok()) return StatusResponse(stored_at.status());
  SyncReceipt receipt{batch->device_id, last.seq, last.hash, *stored_at};
  HttpResponse out;
  out.content_type = "application/octet-stream";
  out.body = EncodeSignedMessage(SignMessage(kReceiptDomain, EncodeReceipt(receipt), keys_.sign));
  CountBatchSeconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return out;
}

Status Api::SurveyApplies(const std::string& survey_id, const std::string& location) {
  const auto here = [&](const std::set<std::string>& where) {
    return where.count("") > 0 || where.count(location) > 0;
  };
  {
    std::lock_guard lock(applies_mu_);
    if (auto it = applies_.find(survey_id); it != applies_.end() && here(it->second)) {
      return Status::Ok();
    }
  }
  // Not known to apply: ask the store (another server may have published since).
  Result<std::vector<SurveyRow>> all = store_->ListSurveys();
  if (!all.ok()) return all.status();
  std::map<std::string, std::set<std::string>> fresh;
  for (const SurveyRow& s : *all) {
    std::set<std::string>& where = fresh[s.survey_id];
    if (s.locations.empty()) where.insert("");
    where.insert(s.locations.begin(), s.locations.end());
  }
  std::lock_guard lock(applies_mu_);
  applies_ = std::move(fresh);
  auto it = applies_.find(survey_id);
  if (it == applies_.end() || here(it->second)) return Status::Ok();
  return Status::InvalidArgument("survey '" + survey_id + "' is not published for location '" +
                                 location +
                                 "', where this device is enrolled; publish it there (canvass "
                                 "admin publish --location) or enroll the device where it is");
}

bool Api::KeepInQuarantine(const std::string& device_id, const std::vector<VerifiedRecord>& records,
                           const std::string& reason, std::int64_t now_ms) {
  std::uint64_t bytes = 0;
  for (const VerifiedRecord& rec : records) bytes += rec.envelope.size();
  Result<std::pair<std::uint64_t, std::uint64_t>> used = store_->QuarantineBytes(device_id);
  const bool fits = used.ok() && used->first + bytes <= options_.quarantine_device_bytes &&
                    used->second + bytes <= options_.quarantine_total_bytes;
  if (!fits) {
    CountRefused("quarantine_full");
    std::int64_t last = quarantine_full_logged_ms_.load();
    if (now_ms - last >= 60000 &&
        quarantine_full_logged_ms_.compare_exchange_strong(last, now_ms)) {
      std::cerr << "canvass-server: quarantine full: a forked batch of device '" << device_id
                << "' (" << bytes << " bytes) was refused without being kept"
                << (used.ok() ? "" : " (" + used.status().message() + ")")
                << "; see canvass admin quarantine (logged at most once a minute)" << std::endl;
    }
    return false;
  }
  for (const VerifiedRecord& rec : records) {
    (void)store_->Quarantine({device_id, rec.seq, reason, rec.envelope, now_ms});
  }
  return true;
}

void Api::LogStoreFailure(const Status& s, std::int64_t now_ms) {
  std::int64_t last = store_failure_logged_ms_.load();
  if (now_ms - last < 60000 || !store_failure_logged_ms_.compare_exchange_strong(last, now_ms)) {
    return;
  }
  std::cerr << "canvass-server: pushes refused, nothing stored: " << s.message()
            << " (logged at most once a minute; /metrics counts every refusal as "
               "canvass_records_refused_total{reason=\"store\"})"
            << std::endl;
}

}  // namespace canvass::server
