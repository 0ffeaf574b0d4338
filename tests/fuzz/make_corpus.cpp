// Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/, from the golden
// vectors (tests/golden/vectors.txt) and the example surveys, so that every target starts from
// valid inputs of its format and mutates from there. Run by hand after a format change:
//   build/fuzz/fuzz/fuzz_make_corpus [OUT_DIR]    (default: tests/fuzz/corpus in the source tree)
// The output is deterministic; the corpora are committed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "canvass/crypto.h"
#include "canvass/interchange.h"
#include "canvass/messages.h"
#include "canvass/record.h"

namespace {

using namespace canvass;
namespace fs = std::filesystem;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "fuzz_make_corpus: %s\n", why.c_str());
  std::exit(1);
}

std::string ReadFile(const std::string& relative) {
  std::ifstream in(std::string(CANVASS_SOURCE_DIR) + "/" + relative, std::ios::binary);
  if (!in) Die("cannot read " + relative);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> ReadVectors() {
  std::map<std::string, std::string> out;
  std::istringstream in(ReadFile("tests/golden/vectors.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    Result<std::string> bytes = FromHex(line.substr(eq + 3));
    if (bytes.ok()) out[line.substr(0, eq)] = *bytes;
  }
  return out;
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(*r);
}

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}
  void Add(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(root_ / target);
    std::ofstream out(root_ / target / name, std::ios::binary);
    out << bytes;
    if (!out) Die("cannot write " + (root_ / target / name).string());
    ++count_;
  }
  int count() const { return count_; }

 private:
  fs::path root_;
  int count_ = 0;
};

// One request of the fuzz_api input format (see fuzz_api.cpp).
std::string Req(std::uint8_t flags, const std::string& line, const std::string& body = "") {
  if (body.size() > 0xffff) Die("request body too long for the fuzz_api format: " + line);
  std::string out(1, static_cast<char>(flags));
  out += line + "\n";
  out += static_cast<char>(body.size() & 0xff);
  out += static_cast<char>(body.size() >> 8);
  return out + body;
}

}  // namespace

int main(int argc, char** argv) {
  if (!InitCrypto().ok()) Die("libsodium failed to initialise");
  Corpus corpus(argc > 1 ? fs::path(argv[1])
                         : fs::path(CANVASS_SOURCE_DIR) / "tests" / "fuzz" / "corpus");
  std::map<std::string, std::string> v = ReadVectors();
  auto vec = [&](const std::string& name) {
    auto it = v.find(name);
    if (it == v.end()) Die("golden vector " + name + " is missing");
    return it->second;
  };

  // Envelopes and the records inside them.
  std::vector<std::string> envelopes = {vec("record.full.envelope"), vec("chain.1.envelope"),
                                        vec("chain.2.envelope"), vec("chain.3.envelope")};
  std::vector<ResponseRecord> records;
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    SignedRecord s = Must(DecodeSignedRecord(envelopes[i]), "envelope");
    corpus.Add("fuzz_signed_record", "envelope-" + std::to_string(i), envelopes[i]);
    corpus.Add("fuzz_record", "record-" + std::to_string(i), s.record_bytes);
    records.push_back(Must(DecodeRecord(s.record_bytes), "record"));
  }

  // Batches: the golden chain of dev-kiosk-01 whole and in parts.
  const std::string chain_device = records[1].device_id;
  auto batch = [&](std::vector<std::string> e) {
    return EncodeBatch(RecordBatch{kProtocolVersion, chain_device, std::move(e)});
  };
  const std::string chain123 = batch({envelopes[1], envelopes[2], envelopes[3]});
  const std::string chain1 = batch({envelopes[1]});
  const std::string chain23 = batch({envelopes[2], envelopes[3]});
  corpus.Add("fuzz_batch", "chain-1-3", chain123);
  corpus.Add("fuzz_batch", "chain-1", chain1);
  corpus.Add("fuzz_batch", "full",
             EncodeBatch(RecordBatch{kProtocolVersion, records[0].device_id, {envelopes[0]}}));

  // Signed messages (selector 0) and their bodies (1 certificate, 2 receipt, 3 bundle).
  const char* kSigned[] = {"certificate.signed", "receipt.signed", "bundle.signed"};
  for (int i = 0; i < 3; ++i) {
    const std::string signed_bytes = vec(kSigned[i]);
    corpus.Add("fuzz_messages", std::string("signed-") + kSigned[i],
               std::string(1, '\0') + signed_bytes);
    SignedMessage m = Must(DecodeSignedMessage(signed_bytes), kSigned[i]);
    corpus.Add("fuzz_messages", std::string("body-") + kSigned[i],
               std::string(1, static_cast<char>(i + 1)) + m.body);
  }

  // Surveys and JSON Lines. fuzz_json_line's selector: 0 none, 1 shop, 2 website, 3 restaurant.
  const char* kExamples[] = {"restaurant", "shop-checkout", "website-nps"};
  std::map<std::string, std::string> definitions;
  for (const char* name : kExamples) {
    definitions[name] = ReadFile(std::string("examples/") + name + ".json");
    corpus.Add("fuzz_survey", name, definitions[name]);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    corpus.Add("fuzz_json_line", "export-" + std::to_string(i),
               std::string(1, '\0') + ToJsonLine(records[i]));
  }
  const std::string head =
      R"({"survey":"%s","device":"dev-1","seq":3,"time":"2026-11-22T10:00:00.250+02:00","outcome":"completed","tags":{"location":"Kyiv-Podil"},"customer":"c1","answers":)";
  auto line = [&](const std::string& survey, const std::string& answers) {
    std::string h = head;
    h.replace(h.find("%s"), 2, survey);
    return h + answers + "}";
  };
  corpus.Add(
      "fuzz_json_line", "restaurant",
      "\x03" +
          line(
              "restaurant",
              R"({"recommend":9,"reason":"Смачно","price":{"importance":1,"satisfaction":4},"contact":{"consent":true,"details":"+380"}})"));
  corpus.Add("fuzz_json_line", "shop",
             "\x01" + line("shop-checkout", R"({"recommend":3,"satisfied":5,"easy":1,"again":2})"));
  corpus.Add("fuzz_json_line", "website",
             "\x02" + line("website-nps",
                           R"({"recommend":10,"missing":["price","support"],"reason":"ok"})"));
  corpus.Add(
      "fuzz_json_line", "website-other",
      "\x02" + line("website-nps", R"({"missing":{"choices":["range"],"other":"colours"}})"));

  // fuzz_api: request sequences against its fixture (one device dev-kiosk-01, the code
  // FUZZ-CODE-0000-0001, an admin token, the restaurant survey published for Kyiv-Podil).
  const std::string key_hex = ToHex(SigningKey::FromSeed(Seed{}).public_key());
  const std::string enroll =
      R"({"protocol":1,"code":"fuzz-code-0000-0001","public_key":")" + key_hex + R"("})";
  const std::string web_enroll = R"({"protocol":1,"public_key":")" + key_hex + R"("})";
  constexpr std::uint8_t kAdmin = 1, kOrigin = 2, kResign = 4, kIfNoneMatch = 8;
  corpus.Add("fuzz_api", "enroll",
             Req(0, "POST /v1/enroll", enroll) + Req(0, "POST /v1/enroll", enroll) +
                 Req(kAdmin, "GET /v1/admin/devices"));
  corpus.Add("fuzz_api", "web-enroll",
             Req(kOrigin, "OPTIONS /v1/web/enroll") +
                 Req(kOrigin, "POST /v1/web/enroll", web_enroll) +
                 Req(0, "POST /v1/web/enroll", web_enroll));
  corpus.Add("fuzz_api", "push-export",
             Req(kResign, "POST /v1/records", chain123) +
                 Req(kAdmin, "GET /v1/admin/export?format=jsonl") +
                 Req(kAdmin, "GET /v1/admin/export?format=csv") + Req(0, "GET /metrics"));
  corpus.Add("fuzz_api", "push-parts",
             Req(kResign, "POST /v1/records", chain1) + Req(kResign, "POST /v1/records", chain23) +
                 Req(kResign, "POST /v1/records", chain123));
  corpus.Add("fuzz_api", "push-unsigned", Req(0, "POST /v1/records", chain123));
  corpus.Add("fuzz_api", "gap", Req(kResign, "POST /v1/records", chain23));
  {
    ResponseRecord forked = records[1];
    forked.device_time_ms += 1;
    SignedRecord s{Must(EncodeRecord(forked), "fork"), Signature{}};
    corpus.Add("fuzz_api", "fork",
               Req(kResign, "POST /v1/records", chain1) +
                   Req(kResign, "POST /v1/records", batch({EncodeSignedRecord(s)})) +
                   Req(kAdmin, "GET /v1/admin/quarantine"));
  }
  corpus.Add("fuzz_api", "surveys",
             Req(0, "GET /v1/surveys?device=dev-kiosk-01") +
                 Req(kIfNoneMatch, "GET /v1/surveys?device=dev-kiosk-01") +
                 Req(0, "GET /v1/surveys?device=nobody") + Req(0, "GET /v1/revocations"));
  corpus.Add("fuzz_api", "admin",
             Req(kAdmin, "POST /v1/admin/surveys?locations=Lviv,Kyiv-Podil",
                 definitions["shop-checkout"]) +
                 Req(kAdmin, "GET /v1/admin/surveys") +
                 Req(kAdmin, "POST /v1/admin/enroll-codes",
                     R"({"location":"Lviv","channel":"kiosk","ttl_hours":2})") +
                 Req(kAdmin, "POST /v1/admin/devices/dev-kiosk-01/revoke") +
                 Req(kResign, "POST /v1/records", chain1) + Req(0, "GET /v1/revocations"));
  corpus.Add("fuzz_api", "unauthorized",
             Req(0, "GET /v1/admin/devices") +
                 Req(0, "POST /v1/admin/login", R"({"password":"x"})") + Req(0, "GET /healthz") +
                 Req(0, "GET /v1/nothing") + Req(0, "GET /index.html"));
  std::printf("fuzz_make_corpus: %d seed files\n", corpus.count());
  return 0;
}
