#include "verify_command.h"

#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include "canvass/crypto.h"
#include "canvass/record.h"
#include "canvass/response_log.h"
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
  // Each device's chain as far as it has been walked (records come in device and seq order).
  std::map<std::string, ChainHead> walked;
  Status s = (*store)->ForEachRecord([&](const StoredRecord& stored) -> Status {
    ++records;
    if (records % 1000000 == 0) std::cerr << "verify: " << records << " records...\n";
    auto device = devices.find(stored.device_id);
    if (device == devices.end()) {
      report(stored.device_id, stored.seq, "a record of a device that is not enrolled");
      return Status::Ok();
    }
    ChainHead& head = walked[stored.device_id];
    // The same check a device makes of its own log: signature, seq, prev_hash.
    Result<ResponseRecord> record = VerifyLink(stored.envelope, head, device->second.public_key);
    if (!record.ok()) {
      report(stored.device_id, stored.seq, record.status().message());
    } else if (record->device_id != stored.device_id || record->seq != stored.seq) {
      report(stored.device_id, stored.seq,
             "the record says device " + record->device_id + " seq " + std::to_string(record->seq));
    }
    // Walk on from this record whatever it is, so that the next one is checked against it.
    Result<SignedRecord> envelope = DecodeSignedRecord(stored.envelope);
    head = ChainHead{stored.seq, envelope.ok() ? RecordHash(envelope->record_bytes) : Hash256{}};
    return Status::Ok();
  });
  if (!s.ok()) {
    std::cerr << "canvass-server verify: " << s.message() << "\n";
    return 1;
  }
  for (const auto& [id, device] : devices) {
    const ChainHead last = walked.count(id) ? walked[id] : ChainHead{};
    if (device.head.seq != last.seq || device.head.hash != last.hash) {
      report(id, device.head.seq,
             "the device's head (seq " + std::to_string(device.head.seq) +
                 ") is not its last stored record (seq " + std::to_string(last.seq) + ")");
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
