#include "crash_sim/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/units.h"
#include "engine/flash/record.h"
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
      namespaces_(seed),
      taint_(&mem_, &model_),
      workload_(seed, &rng_, &model_, &namespaces_, &log_, &coverage_),
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
  // One seed in three has a small flash: FIFO reclaim drops unpinned
  // objects (and carries pinned ones forward) while the power goes.
  if (rng_() % 3 == 0) {
    options_.disk_bytes = std::max<uint64_t>(4 * kMiB, options_.segment_bytes * (3 + rng_() % 3));
    model_.set_reclaim(true);
  }
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
  // Two seeds in three also get random faults, each kind on or off (drawn),
  // so that a failing seed points at few; the third keeps the crash-only
  // promise at its strictest.
  random_faults_ = seed_ % 3 != 0;
  if (random_faults_) {
    fault_mix_ = rng_() % 256;
    if (fault_mix_ == 0) fault_mix_ = 255;
  }
  // Only without reclaim and faults must every acknowledged object of the
  // scratch namespaces come back (the default namespace's model knows more).
  namespaces_.set_strict(!random_faults_ && options_.disk_bytes == 512 * kMiB);
}

FaultPlan Simulator::Plan(bool with_errors) const {
  FaultPlan plan;
  if (!random_faults_) return plan;
  auto on = [this](int kind, uint64_t one_in) -> uint64_t {
    return (fault_mix_ >> kind) & 1 ? one_in : 0;
  };
  plan.corrupt_read_one_in = on(0, 64);
  plan.misdirect_write_one_in = on(1, 200);
  plan.lost_write_one_in = on(2, 200);
  plan.bit_rot_one_in = on(3, 40);
  plan.bit_rot_from_bytes = kSegmentHeaderBytes;  // a rotten header block stops the start
  // The files with checksums of their own. The catalog and the superblock
  // are read once at start; a damaged one stops the start by design.
  plan.eligible = [](const std::string& path) {
    return Contains(path, "/seg-") || Contains(path, "/CHECKPOINT");
  };
  // Failures are reported: every file and the folder may fail, once the
  // engine is open (a store that cannot write its superblock or catalog
  // does not start, by design).
  if (with_errors) {
    plan.failed_sync_one_in = on(4, 40);
    plan.torn_write_one_in = on(5, 100);
    plan.write_error_one_in = on(6, 150);
    plan.no_space_one_in = on(7, 150);
  }
  return plan;
}

void Simulator::Run() {
  for (int round = 0; round < kCrashRounds && !failed(); ++round) CrashRound(round);
  if (!failed()) FinalRounds();
  coverage_.keys_tainted = taint_.keys_tainted();
  coverage_.scratch_objects_checked = namespaces_.objects_checked();
  coverage_.crash_losses += namespaces_.lost();
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
  device.SetFaultPlan(Plan(/*with_errors=*/false), &taint_);
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
  device.SetFaultPlan(Plan(/*with_errors=*/true), &taint_);
  RunWorkload(*engine, device);
  const EngineStats st = engine->Stats();
  coverage_.flash_hits += st.hits_flash;
  coverage_.evictions += st.evictions_dram;
  coverage_.sealed_records += st.sealed_records;
  coverage_.reclaimed_segments += st.reclaimed_segments;
  coverage_.pinned_lost += st.pinned_lost;
  coverage_.writes_during_sync += st.writes_during_sync;
  coverage_.syncs_failed_after_write += st.syncs_failed_after_write;
  if (st.pinned_lost > 0) model_.ForgetPins();  // counted, as documented: not a crash loss
  workload_.DropOpenPuts();
  engine.reset();  // after a cut, the flusher fails on what it had left
  const FaultCounts faults = device.fault_counts();
  coverage_.corrupt_reads_injected += faults.corrupt_reads;
  coverage_.misdirected_writes += faults.misdirected_writes;
  coverage_.lost_writes += faults.lost_writes;
  coverage_.bit_rot += faults.bit_rot;
  coverage_.failed_syncs += faults.failed_syncs;
  coverage_.torn_writes += faults.torn_writes;
  coverage_.write_errors += faults.write_errors;
  coverage_.no_space_writes += faults.no_space;
  coverage_.torn_tails += faults.torn_tails;
  coverage_.dropped_tails += faults.dropped_tails;
  coverage_.names_undone += faults.names_undone;
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
  workload_.DropOpenPuts();
  const uint64_t index = model_.next_index();
  Status st = engine.Close();  // the armed cut may fall in its drain or checkpoint
  log_.Event("close -> {}", StatusCodeName(st.code()));
  if (device.crashed()) {
    CountCrash(device, /*in_close=*/true);
    return;
  }
  if (!st.ok() && ErrorsInjected(device)) {
    ++coverage_.failed_closes;  // it gave up on some records: nothing more is promised
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
  model_.Rebase(checker_.Check(engine, device, env_.WallClockMs()));
  model_.ForgetLeases();  // leases live in memory only
  checker_.CheckCatalog(engine, encryption_key_);
  namespaces_.CheckAndRebase(engine, &log_);
  checker_.CheckFlash(engine, mem_, options_.data_dir);
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
  model_.Rebase(checker_.Check(*engine, device, env_.WallClockMs()));
  checker_.CheckCatalog(*engine, encryption_key_);
  namespaces_.CheckAndRebase(*engine, &log_);
  checker_.CheckFlash(*engine, mem_, options_.data_dir);
  EXPECT_TRUE(engine->Close().ok());
}

}  // namespace ctxstore::engine::crash_sim
