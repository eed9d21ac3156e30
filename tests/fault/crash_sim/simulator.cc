#include "crash_sim/simulator.h"

#include <gtest/gtest.h>

#include "common/units.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine::crash_sim {
namespace {

int FailureCount() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

bool Contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

Simulator::Simulator(uint64_t seed, bool verbose)
    : seed_(seed),
      failures_at_start_(FailureCount()),
      rng_(seed),
      env_(/*wall_ms=*/1'700'000'000'000, /*monotonic_ms=*/1'000'000, /*random_seed=*/seed),
      log_(verbose),
      taint_(&mem_, &model_),
      workload_(seed, &rng_, &model_, &log_, &coverage_),
      checker_(seed, &model_, &log_, &coverage_) {
  coverage_.seeds = 1;
  SetUpOptions();
}

bool Simulator::failed() const {
  return FailureCount() > failures_at_start_;
}

void Simulator::SetUpOptions() {
  options_.data_dir = "/data";
  options_.memory_bytes = 4 * kMiB;  // evictions and flash reads
  options_.disk_bytes = 512 * kMiB;  // no reclaim: every durable object must survive
  options_.segment_bytes = (1 + rng_() % 4) * kMiB;
  options_.max_value_bytes = 4 * kMiB;
  const uint64_t sync_intervals[] = {2, 25, 1000};
  options_.sync_interval_ms = sync_intervals[rng_() % 3];
  const uint64_t checkpoint_intervals[] = {300, 3000, 3'600'000};
  options_.checkpoint_interval_ms = checkpoint_intervals[rng_() % 3];
  options_.flusher_thread = false;
  options_.env = &env_;
  // Every other pair of seeds encrypts the namespace: sealed records go
  // through the same crashes, torn writes and recoveries.
  if ((seed_ / 2) % 2 == 1) {
    auto key = std::make_shared<EncryptionKey>();
    key->name = encryption_key_ = "crash";
    for (uint8_t& b : key->bytes) b = static_cast<uint8_t>(rng_());
    key->id = EncryptionKeyId(key->bytes);
    auto ring = std::make_shared<Keyring>();
    EXPECT_TRUE(ring->Add(std::move(key)).ok());
    options_.keyring = std::move(ring);
  }
  // Two seeds in three also get corrupted reads and misdirected writes;
  // the third keeps the crash-only promise at its strictest.
  random_faults_ = seed_ % 3 != 0;
}

FaultPlan Simulator::Plan() const {
  FaultPlan plan;
  if (!random_faults_) return plan;
  plan.corrupt_read_one_in = 64;
  plan.misdirect_write_one_in = 200;
  // The files with checksums of their own. The catalog and the superblock
  // are read once at start; a damaged one stops the start by design.
  plan.eligible = [](const std::string& path) {
    return Contains(path, "/seg-") || Contains(path, "/CHECKPOINT");
  };
  return plan;
}

void Simulator::Run() {
  for (int round = 0; round < kCrashRounds && !failed(); ++round) CrashRound(round);
  if (!failed()) FinalRounds();
  coverage_.keys_tainted = taint_.keys_tainted();
}

std::unique_ptr<Engine> Simulator::Open(FaultDevice* device) {
  EngineOptions o = options_;
  o.device = device;
  taint_.set_recovering(true);
  auto opened = Engine::Open(o);
  taint_.set_recovering(false);
  EXPECT_TRUE(opened.ok()) << "open: " << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  return std::move(opened).value();
}

void Simulator::CrashRound(int round) {
  log_.Event("round {}", round);
  FaultDevice device(&mem_, seed_ * 16 + static_cast<uint64_t>(round));
  device.SetFaultPlan(Plan(), &taint_);
  std::unique_ptr<Engine> engine = Open(&device);
  if (engine == nullptr) return;
  if (round == 0) {
    if (!encryption_key_.empty()) {
      NamespaceConfig c;
      c.encryption_key = encryption_key_;
      ASSERT_TRUE(engine->SetNamespace(kDefaultNamespaceName, c).ok());
    }
    model_.RebasePriority(kDefaultPriority);
  } else {
    CheckRecovered(*engine, device);
    if (failed()) return;
  }
  RunWorkload(*engine, device);
  const EngineStats st = engine->Stats();
  coverage_.flash_hits += st.hits_flash;
  coverage_.evictions += st.evictions_dram;
  coverage_.sealed_records += st.sealed_records;
  engine.reset();  // after a cut, the flusher fails on what it had left
  const FaultCounts faults = device.fault_counts();
  coverage_.corrupt_reads_injected += faults.corrupt_reads;
  coverage_.misdirected_writes += faults.misdirected_writes;
  coverage_.torn_tails += faults.torn_tails;
  coverage_.dropped_tails += faults.dropped_tails;
  log_.Event("device: {} operations, digest {:x}", device.log().count(), device.log().digest());
}

void Simulator::RunWorkload(Engine& engine, FaultDevice& device) {
  workload_.Attach(&engine, &device, &env_);
  const uint64_t steps = 30 + rng_() % 150;
  const uint64_t arm_at = rng_() % steps;
  for (uint64_t i = 0; i < steps && !device.crashed() && !failed(); ++i) {
    if (i == arm_at) ArmCrash(device);
    if (!device.crashed()) workload_.Step();
  }
  if (failed()) return;
  if (device.crashed()) {
    CountCrash(device, /*in_close=*/false);
  } else {
    EndRound(engine, device);
  }
}

void Simulator::ArmCrash(FaultDevice& device) {
  // Now and then between two client operations, as a kill would; mostly
  // at a device operation soon after, wherever the background work is.
  if (rng_() % 8 == 0) {
    device.Crash(CrashTail::kAny);
  } else {
    device.CrashAtOp(1 + rng_() % 40, CrashTail::kAny);
  }
}

void Simulator::EndRound(Engine& engine, FaultDevice& device) {
  if (rng_() % 3 == 0) {
    device.Crash(CrashTail::kAny);
    CountCrash(device, /*in_close=*/false);
    return;
  }
  const uint64_t index = model_.next_index();
  Status st = engine.Close();  // the armed cut may fall in its drain or checkpoint
  log_.Event("close -> {}", StatusCodeName(st.code()));
  if (device.crashed()) {
    CountCrash(device, /*in_close=*/true);
    return;
  }
  EXPECT_TRUE(st.ok()) << "close: " << st.ToString();
  model_.AckAllBefore(index);
  ++coverage_.clean_closes;
}

void Simulator::CountCrash(const FaultDevice& device, bool in_close) {
  ++coverage_.crash_points;
  coverage_.crash_in_close += in_close;
  const std::optional<CrashPoint> point = device.crash_point();
  if (!point) {
    ++coverage_.crash_between_ops;
    log_.Event("power cut between operations");
    return;
  }
  log_.Event("power cut at device operation {} ({} {}, {})", point->op_index,
             DeviceOpName(point->op), point->path, point->landed ? "landed" : "lost");
  switch (point->op) {
    case DeviceOp::kWrite:
      ++coverage_.crash_at_write;
      break;
    case DeviceOp::kSync:
      ++coverage_.crash_at_sync;
      break;
    case DeviceOp::kCreate:
      ++coverage_.crash_at_create;
      break;
    case DeviceOp::kRename:
      ++coverage_.crash_at_rename;
      break;
    case DeviceOp::kRemove:
      ++coverage_.crash_at_remove;
      break;
    default:
      ++coverage_.crash_at_sync_dir;
      break;
  }
  coverage_.crash_in_segment += Contains(point->path, "/seg-");
  coverage_.crash_in_checkpoint += Contains(point->path, "/CHECKPOINT");
  coverage_.crash_in_catalog += Contains(point->path, "/CATALOG");
}

void Simulator::CheckRecovered(Engine& engine, FaultDevice& device) {
  const EngineStats st = engine.Stats();
  coverage_.torn_records += st.torn_records_skipped;
  coverage_.corrupt_records += st.corrupt_records_skipped;
  coverage_.checkpoint_recoveries += st.recovered_from_checkpoint;
  coverage_.recovered_objects += st.recovered_objects;
  log_.Event("recovered {} objects ({}), {} torn and {} corrupt records skipped",
             st.recovered_objects, st.recovered_from_checkpoint ? "checkpoint + scan" : "scan",
             st.torn_records_skipped, st.corrupt_records_skipped);
  model_.Rebase(checker_.Check(engine, device));
  checker_.CheckCatalog(engine, encryption_key_);
}

void Simulator::FinalRounds() {
  // The last recovery and a clean shutdown, without random faults.
  {
    FaultDevice device(&mem_, seed_ * 16 + kCrashRounds);
    std::unique_ptr<Engine> engine = Open(&device);
    if (engine == nullptr) return;
    CheckRecovered(*engine, device);
    Status closed = engine->Close();
    EXPECT_TRUE(closed.ok()) << "close: " << closed.ToString();
  }
  // A clean restart shows exactly the same state, from the checkpoint.
  log_.Event("clean restart");
  FaultDevice device(&mem_, seed_ * 16 + kCrashRounds + 1);
  std::unique_ptr<Engine> engine = Open(&device);
  if (engine == nullptr) return;
  EXPECT_TRUE(engine->Stats().recovered_from_checkpoint) << "after a clean close";
  model_.Rebase(checker_.Check(*engine, device));
  checker_.CheckCatalog(*engine, encryption_key_);
  EXPECT_TRUE(engine->Close().ok());
}

}  // namespace ctxstore::engine::crash_sim
