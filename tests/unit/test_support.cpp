#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace canvass::test {
namespace {
const char kGoldenPath[] = "tests/golden/vectors.txt";
}

std::string ReadSourceFile(const std::string& relative_path) {
  std::string path = std::string(CANVASS_SOURCE_DIR) + "/" + relative_path;
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Seed CountingSeed(std::uint8_t start) {
  Seed s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(start + i);
  return s;
}

ResponseRecord SampleRecord() {
  ResponseRecord r;
  r.survey_id = "restaurant";
  r.survey_version = Blake2b256("survey definition bytes");
  r.device_id = "dev-kiosk-01";
  r.seq = 7;
  r.prev_hash = Blake2b256("previous record");
  r.device_time_ms = 1795000000123;  // 2026-11-18
  r.outcome = Outcome::kCompleted;
  r.answers["recommend"] = ScaleAnswer{6};
  r.answers["reason"] = TextAnswer{"Долго ждали заказ — чекали 40 хвилин"};
  r.answers["visit"] = ChoiceAnswer{{"dinner", "family"}, "birthday"};
  r.answers["price"] = CsiAnswer{1, 3};
  r.answers["contact"] = ContactAnswer{true, ""};
  r.tags = {{"channel", "kiosk"}, {"location", "Kyiv-Podil"}, {"staff", "olena"}};
  r.customer_key = CustomerKey(CountingSeed(0x61), "4000-1234-5678");
  r.sealed_contact = std::string("\x01\x02sealed", 8);
  r.attachment_hash = Blake2b256("photo.jpg");
  return r;
}

Golden& Golden::Get() {
  static Golden golden;
  return golden;
}

Golden::Golden() {
  const char* update = std::getenv("CANVASS_UPDATE_GOLDEN");
  updating_ = update && std::string(update) == "1";
  std::ifstream in(std::string(CANVASS_SOURCE_DIR) + "/" + kGoldenPath);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find(" = ");
    if (eq != std::string::npos) values_[line.substr(0, eq)] = line.substr(eq + 3);
  }
}

Golden::~Golden() {
  if (!updating_ || !dirty_) return;
  std::ofstream out(std::string(CANVASS_SOURCE_DIR) + "/" + kGoldenPath);
  out << "# Golden vectors: canonical bytes, hashes and signatures for fixed keys and records.\n"
         "# Both the native and the wasm test runs must reproduce every line byte for byte.\n"
         "# Regenerate only for a deliberate format change: CANVASS_UPDATE_GOLDEN=1 (native).\n";
  for (const auto& [name, hex] : values_) out << name << " = " << hex << "\n";
}

void Golden::Check(const std::string& name, const std::string& hex) {
  if (updating_) {
    values_[name] = hex;
    dirty_ = true;
    return;
  }
  auto it = values_.find(name);
  INFO("golden vector '" << name << "' in " << kGoldenPath);
  REQUIRE(it != values_.end());
  CHECK(it->second == hex);
}

}  // namespace canvass::test
