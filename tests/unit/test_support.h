// Helpers shared by the core's unit tests (native and wasm): files from the source tree, fixed
// keys, a sample record, and the golden-vector file both targets must reproduce byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "canvass/crypto.h"
#include "canvass/record.h"

namespace canvass::test {

// Reads a file relative to the repository root; fails the test if it cannot.
std::string ReadSourceFile(const std::string& relative_path);

// 32 bytes start, start+1, ... : fixed keys for golden vectors.
Seed CountingSeed(std::uint8_t start);

// A record that uses every field and every answer kind.
ResponseRecord SampleRecord();

// tests/golden/vectors.txt: "name = hex" lines. Check() compares a computed value with the
// stored one. With CANVASS_UPDATE_GOLDEN=1 (native only) the file is rewritten instead, for the
// rare deliberate format change; review the diff before committing it.
class Golden {
 public:
  static Golden& Get();
  void Check(const std::string& name, const std::string& hex);
  bool updating() const { return updating_; }
  // The stored hex of `name` ("" if absent).
  std::string Stored(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::string() : it->second;
  }
  ~Golden();

 private:
  Golden();
  std::map<std::string, std::string> values_;
  bool updating_ = false;
  bool dirty_ = false;
};

}  // namespace canvass::test
