#include "canvass/record.h"

#include <algorithm>

#include "wire.h"

namespace canvass {
namespace {

enum AnswerKind : std::uint8_t {
  kScaleKind = 1,
  kTextKind = 2,
  kChoiceKind = 3,
  kCsiKind = 4,
  kContactKind = 5,
};

Status CheckLength(const std::string& s, std::uint32_t max, const std::string& what) {
  if (s.size() > max) {
    return Status::InvalidArgument(what + " is " + std::to_string(s.size()) +
                                   " bytes, over the limit of " + std::to_string(max));
  }
  return Status::Ok();
}

Status CheckRecord(const ResponseRecord& r) {
  Status s = CheckLength(r.survey_id, kMaxIdLength, "survey id");
  if (s.ok()) s = CheckLength(r.device_id, kMaxIdLength, "device id");
  if (s.ok()) s = CheckLength(r.customer_key, kMaxIdLength, "customer key");
  if (!s.ok()) return s;
  if (r.answers.size() > kMaxAnswers) return Status::InvalidArgument("too many answers");
  if (r.tags.size() > kMaxTags) return Status::InvalidArgument("too many tags");
  for (const auto& [key, value] : r.tags) {
    if (!(s = CheckLength(key, kMaxIdLength, "tag key")).ok()) return s;
    if (!(s = CheckLength(value, kMaxTextLength, "tag '" + key + "'")).ok()) return s;
  }
  for (const auto& [id, value] : r.answers) {
    if (!(s = CheckLength(id, kMaxIdLength, "question id")).ok()) return s;
    const std::string where = "answer to '" + id + "'";
    if (const auto* t = std::get_if<TextAnswer>(&value)) {
      if (!(s = CheckLength(t->text, kMaxTextLength, where)).ok()) return s;
    } else if (const auto* c = std::get_if<ChoiceAnswer>(&value)) {
      if (c->ids.size() > kMaxChoices) return Status::InvalidArgument(where + ": too many choices");
      if (!std::is_sorted(c->ids.begin(), c->ids.end()) ||
          std::adjacent_find(c->ids.begin(), c->ids.end()) != c->ids.end()) {
        return Status::InvalidArgument(where + ": choice ids must be sorted and unique");
      }
      for (const auto& choice : c->ids) {
        if (!(s = CheckLength(choice, kMaxIdLength, where + " choice id")).ok()) return s;
      }
      if (!(s = CheckLength(c->other, kMaxTextLength, where + " 'other' text")).ok()) return s;
    } else if (const auto* k = std::get_if<ContactAnswer>(&value)) {
      if (!k->details.empty()) {
        return Status::InvalidArgument(
            where + ": contact details must be sealed into sealed_contact, never stored in clear");
      }
    }
  }
  if (r.sealed_contact && r.sealed_contact->size() > kMaxTextLength + 64) {
    return Status::InvalidArgument("sealed contact is too long");
  }
  return Status::Ok();
}

void WriteAnswer(wire::Writer& w, const AnswerValue& value) {
  std::visit(
      [&w](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, ScaleAnswer>) {
          w.U8(kScaleKind);
          w.I32(a.value);
        } else if constexpr (std::is_same_v<T, TextAnswer>) {
          w.U8(kTextKind);
          w.Str(a.text);
        } else if constexpr (std::is_same_v<T, ChoiceAnswer>) {
          w.U8(kChoiceKind);
          w.U32(static_cast<std::uint32_t>(a.ids.size()));
          for (const auto& id : a.ids) w.Str(id);
          w.Str(a.other);
        } else if constexpr (std::is_same_v<T, CsiAnswer>) {
          w.U8(kCsiKind);
          w.I32(a.importance);
          w.I32(a.satisfaction);
        } else {
          w.U8(kContactKind);
          w.U8(a.consent ? 1 : 0);
        }
      },
      value);
}

AnswerValue ReadAnswer(wire::Reader& r) {
  switch (r.U8()) {
    case kScaleKind:
      return ScaleAnswer{r.I32()};
    case kTextKind:
      return TextAnswer{r.Str("text answer", kMaxTextLength)};
    case kChoiceKind: {
      ChoiceAnswer c;
      std::uint32_t n = r.Count("choice", 4);
      if (n > kMaxChoices) throw wire::DecodeError("too many choices");
      for (std::uint32_t i = 0; i < n; ++i) {
        c.ids.push_back(r.Str("choice id", kMaxIdLength));
        if (i > 0 && !(c.ids[i - 1] < c.ids[i])) {
          throw wire::DecodeError("choice ids are not sorted and unique");
        }
      }
      c.other = r.Str("'other' text", kMaxTextLength);
      return c;
    }
    case kCsiKind: {
      CsiAnswer c;
      c.importance = r.I32();
      c.satisfaction = r.I32();
      return c;
    }
    case kContactKind:
      return ContactAnswer{r.Bool("contact consent"), ""};
    default:
      throw wire::DecodeError("unknown answer kind");
  }
}

}  // namespace

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCompleted:
      return "completed";
    case Outcome::kPartial:
      return "partial";
    case Outcome::kDeclined:
      return "declined";
    case Outcome::kIgnored:
      return "ignored";
  }
  return "unknown";
}

Result<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o :
       {Outcome::kCompleted, Outcome::kPartial, Outcome::kDeclined, Outcome::kIgnored}) {
    if (name == OutcomeName(o)) return o;
  }
  return Status::InvalidArgument("unknown outcome '" + std::string(name) +
                                 "' (expected completed, partial, declined or ignored)");
}

Result<std::string> EncodeRecord(const ResponseRecord& record) {
  Status s = CheckRecord(record);
  if (!s.ok()) return s;
  wire::Writer w;
  w.U8(kRecordVersion);
  w.Str(record.survey_id);
  w.Fixed(record.survey_version);
  w.Str(record.device_id);
  w.U64(record.seq);
  w.Fixed(record.prev_hash);
  w.I64(record.device_time_ms);
  w.U8(static_cast<std::uint8_t>(record.outcome));
  w.U32(static_cast<std::uint32_t>(record.answers.size()));
  for (const auto& [id, value] : record.answers) {  // std::map: sorted by id
    w.Str(id);
    WriteAnswer(w, value);
  }
  w.U32(static_cast<std::uint32_t>(record.tags.size()));
  for (const auto& [key, value] : record.tags) {
    w.Str(key);
    w.Str(value);
  }
  w.Str(record.customer_key);
  w.U8(record.sealed_contact ? 1 : 0);
  if (record.sealed_contact) w.Str(*record.sealed_contact);
  w.U8(record.attachment_hash ? 1 : 0);
  if (record.attachment_hash) w.Fixed(*record.attachment_hash);
  std::string bytes = w.Finish();
  if (bytes.size() > kMaxRecordBytes) {
    return Status::InvalidArgument("record is " + std::to_string(bytes.size()) +
                                   " bytes, over the limit of " + std::to_string(kMaxRecordBytes));
  }
  return bytes;
}

Result<ResponseRecord> DecodeRecord(std::string_view bytes) {
  if (bytes.size() > kMaxRecordBytes) {
    return Status::Corruption("record: " + std::to_string(bytes.size()) +
                              " bytes, over the limit of " + std::to_string(kMaxRecordBytes));
  }
  return wire::DecodeWith<ResponseRecord>("record", bytes, [](wire::Reader& r) {
    ResponseRecord rec;
    std::uint8_t version = r.U8();
    if (version != kRecordVersion) {
      throw wire::DecodeError("unknown record version " + std::to_string(version) +
                              " (this build reads version " + std::to_string(kRecordVersion) + ")");
    }
    rec.survey_id = r.Str("survey id", kMaxIdLength);
    rec.survey_version = r.Fixed<32>("survey version");
    rec.device_id = r.Str("device id", kMaxIdLength);
    rec.seq = r.U64();
    rec.prev_hash = r.Fixed<32>("prev hash");
    rec.device_time_ms = r.I64();
    std::uint8_t outcome = r.U8();
    if (outcome > static_cast<std::uint8_t>(Outcome::kIgnored)) {
      throw wire::DecodeError("unknown outcome " + std::to_string(outcome));
    }
    rec.outcome = static_cast<Outcome>(outcome);
    std::uint32_t n = r.Count("answer", 9);
    if (n > kMaxAnswers) throw wire::DecodeError("too many answers");
    std::string last;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string id = r.Str("question id", kMaxIdLength);
      if (i > 0 && !(last < id)) throw wire::DecodeError("answers are not sorted by question id");
      rec.answers.emplace(id, ReadAnswer(r));
      last = std::move(id);
    }
    n = r.Count("tag", 8);
    if (n > kMaxTags) throw wire::DecodeError("too many tags");
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string key = r.Str("tag key", kMaxIdLength);
      if (i > 0 && !(last < key)) throw wire::DecodeError("tags are not sorted by key");
      rec.tags.emplace(key, r.Str("tag value", kMaxTextLength));
      last = std::move(key);
    }
    rec.customer_key = r.Str("customer key", kMaxIdLength);
    if (r.Bool("sealed contact")) rec.sealed_contact = r.Str("sealed contact", kMaxTextLength + 64);
    if (r.Bool("attachment")) rec.attachment_hash = r.Fixed<32>("attachment hash");
    return rec;
  });
}

std::string EncodeSignedRecord(const SignedRecord& signed_record) {
  wire::Writer w;
  w.U8(kSignedRecordVersion);
  w.Str(signed_record.record_bytes);
  w.Fixed(signed_record.signature);
  return w.Finish();
}

Result<SignedRecord> DecodeSignedRecord(std::string_view bytes) {
  return wire::DecodeWith<SignedRecord>("signed record", bytes, [](wire::Reader& r) {
    std::uint8_t version = r.U8();
    if (version != kSignedRecordVersion) {
      throw wire::DecodeError("unknown signed-record version " + std::to_string(version));
    }
    SignedRecord s;
    s.record_bytes = r.Str("record bytes", kMaxRecordBytes);
    s.signature = r.Fixed<64>("signature");
    return s;
  });
}

bool IsHostTag(std::string_view key, const std::vector<std::string>& declared) {
  if (key == "location" || key == "channel") return false;
  for (std::string_view allowed : kHostTags) {
    if (key == allowed) return true;
  }
  return std::find(declared.begin(), declared.end(), key) != declared.end();
}

std::map<std::string, std::string> DeviceTags(const std::map<std::string, std::string>& host,
                                              const std::vector<std::string>& declared,
                                              const std::string& location,
                                              const std::string& channel,
                                              std::vector<std::string>* dropped) {
  std::map<std::string, std::string> tags;
  for (const auto& [key, value] : host) {
    if (IsHostTag(key, declared)) {
      tags[key] = value;
    } else if (dropped != nullptr) {
      dropped->push_back(key);
    }
  }
  if (!location.empty()) tags["location"] = location;
  if (!channel.empty()) tags["channel"] = channel;
  return tags;
}

Status CheckRecordLocation(const ResponseRecord& record, const std::string& location) {
  auto it = record.tags.find("location");
  if (it == record.tags.end() || it->second == location) return Status::Ok();
  return Status::InvalidArgument(
      "the record is tagged with location '" + it->second + "', but its device is enrolled for '" +
      location +
      "'; a record's location comes from its device's certificate: enroll a device at that "
      "location to collect answers there");
}

void AttributeToDevice(ResponseRecord* record, const std::string& location,
                       const std::string& channel) {
  if (!location.empty()) record->tags["location"] = location;
  if (!channel.empty()) record->tags["channel"] = channel;
}

}  // namespace canvass
