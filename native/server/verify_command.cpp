#include "verify_command.h"

#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include "canvass/crypto.h"
#include "canvass/record.h"
#include "store.h"

namespace canvass::server {
namespace {

constexpr const char* kUsage = R"(canvass-server verify --data DIR [--db sqlite|postgresql://...]

Re-checks every stored record: its signature with the key its device enrolled with, its device
and seq, and the hash chain of each device from seq 1 to the device's head. Prints each problem
(at most 100) and a summary; exit 0 when everything verifies, 1 when something does not, 2 on a
usage error. Safe while the server runs (it only reads); with PostgreSQL, give the same --db as
the server.
)";

// A device's chain as it is walked, in seq order.
struct Walk {
  const DeviceRow* device = nullptr;
  std::uint64_t seq = 0;  // last seq seen
  Hash256 hash{};         // its hash (zero before seq 1)
};

}  // namespace

int VerifyCommand(int argc, char** argv) {
  std::string data_dir, db = "sqlite";
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((a == "--data" || a == "--db") && i + 1 < argc) {
      (a == "--data" ? data_dir : db) = argv[++i];
    } else {
      std::cerr << "canvass-server verify: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (data_dir.empty()) {
    std::cerr << "canvass-server verify: --data DIR is required\n" << kUsage;
    return 2;
  }
  if (!InitCrypto().ok()) {
    std::cerr << "canvass-server verify: libsodium failed to initialise\n";
    return 1;
  }
  Result<std::unique_ptr<ServerStore>> store = OpenStore(db, data_dir);
  if (!store.ok()) {
    std::cerr << "canvass-server verify: cannot open the store: " << store.status().message()
              << "\n";
    return 1;
  }
  std::map<std::string, DeviceRow> devices;
  for (std::string after;;) {
    Result<std::vector<DeviceRow>> page = (*store)->ListDevices(after, 10000);
    if (!page.ok()) {
      std::cerr << "canvass-server verify: " << page.status().message() << "\n";
      return 1;
    }
    for (DeviceRow& d : *page) devices.emplace(d.device_id, std::move(d));
    if (page->size() < 10000) break;
    after = devices.rbegin()->first;
  }

  std::uint64_t records = 0, problems = 0;
  auto report = [&](const std::string& device, std::uint64_t seq, const std::string& what) {
    if (++problems <= 100)
      std::cout << "device " << device << " seq " << seq << ": " << what << "\n";
  };
  std::map<std::string, Walk> walks;
  Status s = (*store)->ForEachRecord([&](const StoredRecord& stored) -> Status {
    ++records;
    if (records % 1000000 == 0) std::cerr << "verify: " << records << " records...\n";
    auto device = devices.find(stored.device_id);
    if (device == devices.end()) {
      report(stored.device_id, stored.seq, "a record of a device that is not enrolled");
      return Status::Ok();
    }
    Walk& walk = walks[stored.device_id];
    walk.device = &device->second;
    const Hash256 expected_prev = walk.hash;
    if (stored.seq != walk.seq + 1) {
      report(stored.device_id, stored.seq,
             "expected seq " + std::to_string(walk.seq + 1) + " (records missing before it)");
    }
    walk.seq = stored.seq;
    Result<SignedRecord> envelope = DecodeSignedRecord(stored.envelope);
    if (!envelope.ok()) {
      report(stored.device_id, stored.seq, "unreadable envelope: " + envelope.status().message());
      walk.hash = Hash256{};
      return Status::Ok();
    }
    walk.hash = RecordHash(envelope->record_bytes);
    if (!VerifyDomainHash(kRecordDomain, walk.hash, envelope->signature,
                          device->second.public_key)) {
      report(stored.device_id, stored.seq,
             "the signature does not verify with the device's enrolled key (altered or forged)");
    }
    Result<ResponseRecord> record = DecodeRecord(envelope->record_bytes);
    if (!record.ok()) {
      report(stored.device_id, stored.seq, "unreadable record: " + record.status().message());
      return Status::Ok();
    }
    if (record->device_id != stored.device_id || record->seq != stored.seq) {
      report(stored.device_id, stored.seq,
             "the record says device " + record->device_id + " seq " + std::to_string(record->seq));
    }
    if (record->prev_hash != expected_prev) {
      report(stored.device_id, stored.seq, "prev_hash does not match the record before it");
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    std::cerr << "canvass-server verify: " << s.message() << "\n";
    return 1;
  }
  for (const auto& [id, device] : devices) {
    auto walk = walks.find(id);
    const std::uint64_t last = walk == walks.end() ? 0 : walk->second.seq;
    const Hash256 hash = walk == walks.end() ? Hash256{} : walk->second.hash;
    if (device.head.seq != last || (last > 0 && device.head.hash != hash)) {
      report(id, device.head.seq,
             "the device's head (seq " + std::to_string(device.head.seq) +
                 ") is not its last stored record (seq " + std::to_string(last) + ")");
    }
  }
  std::cout << "verified " << records << " records of " << devices.size() << " devices: "
            << (problems == 0 ? std::string("all good")
                              : std::to_string(problems) + " problem(s)" +
                                    (problems > 100 ? " (the first 100 listed)" : ""))
            << "\n";
  return problems == 0 ? 0 : 1;
}

}  // namespace canvass::server
