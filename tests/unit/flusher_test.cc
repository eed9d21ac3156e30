// The flusher stepped by hand (no thread) over an in-memory device with
// clocks that move only when told: what one step does, the sync and
// checkpoint schedules, coalescing, barriers, the backoff after a failed
// write, and stopping.
#include "engine/flush/flusher.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/hash.h"
#include "common/units.h"
#include "engine/flash/checkpoint.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kStoreId = 7;

// The engine's side, reduced to what the flusher asks: current versions by
// key, what became durable, fresh segments.
class FakeHost : public FlusherHost {
 public:
  explicit FakeHost(Device* device) : device_(device) {}

  std::optional<uint64_t> CurrentSeqLocked(std::string_view key) override {
    auto it = current.find(std::string(key));
    if (it == current.end()) return std::nullopt;
    return it->second;
  }
  void MarkDurableLocked(const FlushItem& item) override { durable.push_back(item.seq); }
  Retry PrepareRetryLocked(FlushItem&, bool closing) override {
    return closing ? Retry::kLost : Retry::kWriteAgain;
  }
  void SweepExpiredLocked() override { ++swept; }
  void SnapshotLocked(Checkpoint* cp) override {
    cp->store_id = kStoreId;
    cp->replay_segment_id = next_id;
    cp->replay_offset = kSegmentHeaderBytes;
  }
  void AppendedLocked(uint64_t bytes) override { appended_bytes += bytes; }
  Result<std::shared_ptr<Segment>> NewSegment(uint64_t) override {
    auto seg = Segment::Create(device_, "/data", next_id++, kStoreId);
    if (seg.ok()) segments.push_back(*seg);
    return seg;
  }
  bool SegmentIsBad(uint64_t id) override { return id == bad_id; }

  std::map<std::string, uint64_t> current;
  std::vector<uint64_t> durable;
  std::vector<std::shared_ptr<Segment>> segments;
  uint64_t appended_bytes = 0;
  int swept = 0;
  uint64_t next_id = 1;
  uint64_t bad_id = 0;

 private:
  Device* device_;
};

class FlusherTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
  void TearDown() override { spdlog::set_level(spdlog::level::info); }

  void Start(Device* device) {
    host_ = std::make_unique<FakeHost>(device);
    FlusherOptions o;
    o.device = device;
    o.data_dir = "/data";
    o.segment_bytes = 1 * kMiB;
    o.sync_interval_ms = 1000;
    o.checkpoint_interval_ms = 60'000;
    o.env = &env_;
    flusher_ = std::make_unique<Flusher>(&mu_, &queue_, host_.get(), o);
    flusher_->Start(/*thread=*/false);
  }

  // Commits a put of key (its value a buffer of its own, as a carried copy
  // has): the next seq, made the key's current version.
  uint64_t Put(std::string_view key, size_t len, DurableCallback on_durable = nullptr) {
    MutexLock lock(&mu_);
    FlushItem item;
    item.kind = FlushItem::Kind::kPut;
    item.key = IndexKey(0, key).str();
    item.seq = queue_.TakeSeq();
    item.value_len = len;
    item.carry = true;
    item.carried_value = std::make_shared<AlignedBuffer>(len);
    std::memset(item.carried_value->data, 0, item.carried_value->size);
    item.value_xxh3 = Xxh3(item.carried_value->data, len);
    item.on_durable = std::move(on_durable);
    host_->current[item.key] = item.seq;
    const uint64_t seq = item.seq;
    queue_.Push(std::move(item));
    return seq;
  }
  void Barrier(DurableCallback on_durable) {
    MutexLock lock(&mu_);
    FlushItem item;
    item.kind = FlushItem::Kind::kBarrier;
    item.on_durable = std::move(on_durable);
    queue_.Push(std::move(item));
  }
  // Steps until there is nothing to do now (bounded).
  int Drain() {
    int steps = 0;
    while (flusher_->RunOnce() && steps < 100) ++steps;
    return steps;
  }

  Mutex mu_;
  FlushQueue queue_;
  ManualEnv env_;
  MemDevice mem_;
  std::unique_ptr<FakeHost> host_;
  std::unique_ptr<Flusher> flusher_;
};

TEST_F(FlusherTest, WritesInOneStepAndSyncsWhenTheIntervalHasPassed) {
  Start(&mem_);
  const uint64_t a = Put("a", 100), b = Put("b", 100), c = Put("c", 300 * 1024);
  EXPECT_TRUE(flusher_->RunOnce());  // one batch
  EXPECT_GT(host_->appended_bytes, 0u);
  EXPECT_TRUE(host_->durable.empty()) << "nobody waits and the sync interval has not passed";
  EXPECT_FALSE(flusher_->RunOnce());
  env_.AdvanceMs(1000);
  EXPECT_TRUE(flusher_->RunOnce());  // the sync
  EXPECT_EQ(host_->durable, (std::vector<uint64_t>{a, b, c}));
  EXPECT_FALSE(flusher_->RunOnce());
  EXPECT_GE(host_->swept, 1);
}

TEST_F(FlusherTest, AWaitedWriteIsAnsweredOnceItsSyncEnds) {
  Start(&mem_);
  std::optional<Status> result;
  const uint64_t seq = Put("k", 10, [&](Status st) { result = st; });
  EXPECT_TRUE(flusher_->RunOnce());  // written; its sync begins
  EXPECT_FALSE(result.has_value()) << "answered before its sync ended";
  EXPECT_TRUE(host_->durable.empty());
  EXPECT_TRUE(flusher_->RunOnce());  // the sync ends
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok()) << result->ToString();
  EXPECT_EQ(host_->durable, std::vector<uint64_t>{seq});
  EXPECT_FALSE(flusher_->RunOnce());
}

TEST_F(FlusherTest, TheNextBatchIsWrittenWhileTheLastOneSyncs) {
  Start(&mem_);
  std::vector<std::string> answered;
  const uint64_t a = Put("a", 10, [&](Status st) { answered.push_back("a " + std::string(StatusCodeName(st.code()))); });
  EXPECT_TRUE(flusher_->RunOnce());  // a written, its sync begun
  const uint64_t b = Put("b", 10, [&](Status st) { answered.push_back("b " + std::string(StatusCodeName(st.code()))); });
  const uint64_t appended_before_b = host_->appended_bytes;
  EXPECT_TRUE(flusher_->RunOnce());  // b written, then a's sync ends, then b's begins
  EXPECT_GT(host_->appended_bytes, appended_before_b);
  EXPECT_EQ(answered, std::vector<std::string>{"a ok"});
  EXPECT_EQ(host_->durable, std::vector<uint64_t>{a}) << "b was written after a's sync began";
  EXPECT_TRUE(flusher_->RunOnce());
  EXPECT_EQ(answered, (std::vector<std::string>{"a ok", "b ok"}));
  EXPECT_EQ(host_->durable, (std::vector<uint64_t>{a, b}));
}

TEST_F(FlusherTest, AFailedSyncGivesUpOnTheBatchWrittenWhileItRan) {
  FaultDevice faults(&mem_, /*seed=*/1);
  Start(&faults);
  const uint64_t x = Put("x", 10);
  EXPECT_TRUE(flusher_->RunOnce());  // segment 1 made (its header synced); x written, not synced
  std::optional<Status> first, second;
  const uint64_t a = Put("a", 10, [&](Status st) { first = st; });
  faults.InjectFault(FaultOp::kSync, FaultKind::kIoError, "seg-000000000001");
  EXPECT_TRUE(flusher_->RunOnce());  // a written; its sync begins (and fails)
  const uint64_t b = Put("b", 10, [&](Status st) { second = st; });
  EXPECT_TRUE(flusher_->RunOnce());  // b written to the same segment; then a's sync fails
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->code(), StatusCode::kIoError);
  EXPECT_EQ(second->code(), StatusCode::kIoError) << "b's record is in the abandoned segment";
  EXPECT_TRUE(host_->durable.empty());
  EXPECT_FALSE(flusher_->RunOnce()) << "backing off";
  env_.AdvanceMs(50);
  env_.AdvanceMs(1000);
  Drain();
  ASSERT_EQ(host_->segments.size(), 2u);
  EXPECT_EQ(host_->durable, (std::vector<uint64_t>{x, a, b})) << "all written again, in order";
  MutexLock lock(&mu_);
  EXPECT_EQ(queue_.write_retries, 3u);
  EXPECT_EQ(queue_.write_io_errors, 1u);
}

TEST_F(FlusherTest, AFailedWriteWaitsForTheSyncOfTheBatchBefore) {
  FaultDevice faults(&mem_, /*seed=*/1);
  Start(&faults);
  std::vector<std::string> answered;
  const uint64_t a = Put("a", 10, [&](Status st) { answered.push_back("a " + std::string(StatusCodeName(st.code()))); });
  EXPECT_TRUE(flusher_->RunOnce());  // a written, its sync begun
  faults.InjectFault(FaultOp::kWrite, FaultKind::kIoError, "seg-000000000001");
  Put("b", 10, [&](Status st) { answered.push_back("b " + std::string(StatusCodeName(st.code()))); });
  EXPECT_TRUE(flusher_->RunOnce());  // b's write fails; a's sync still counts
  EXPECT_EQ(answered, (std::vector<std::string>{"a ok", "b io_error"}));
  EXPECT_EQ(host_->durable, std::vector<uint64_t>{a});
}

TEST_F(FlusherTest, ABarrierReportsOnceEverythingBeforeItIsDurable) {
  Start(&mem_);
  Put("a", 10);
  Put("b", 10);
  std::optional<Status> flushed;
  Barrier([&](Status st) { flushed = st; });
  Drain();
  ASSERT_TRUE(flushed.has_value());
  EXPECT_TRUE(flushed->ok());
  EXPECT_EQ(host_->durable.size(), 2u);
}

TEST_F(FlusherTest, AVersionReplacedBeforeItWasWrittenIsDropped) {
  Start(&mem_);
  {
    // A put as the engine queues it (carried copies are always written);
    // its value is never needed: a newer version replaces it first.
    MutexLock lock(&mu_);
    FlushItem item;
    item.kind = FlushItem::Kind::kPut;
    item.key = IndexKey(0, "k").str();
    item.seq = queue_.TakeSeq();
    item.value_len = 10;
    queue_.Push(std::move(item));
  }
  const uint64_t newer = Put("k", 20);
  Drain();
  env_.AdvanceMs(1000);
  Drain();
  EXPECT_EQ(host_->durable, std::vector<uint64_t>{newer});
  MutexLock lock(&mu_);
  EXPECT_EQ(queue_.writes_coalesced, 1u);
}

TEST_F(FlusherTest, WritesACheckpointWhenAskedOrDue) {
  Start(&mem_);
  Put("k", 10);
  Drain();
  {
    MutexLock lock(&mu_);
    queue_.checkpoint_requested = true;
  }
  Drain();
  {
    MutexLock lock(&mu_);
    EXPECT_EQ(queue_.checkpoint_generation, 1u);
    EXPECT_TRUE(queue_.checkpoint_result.ok()) << queue_.checkpoint_result.ToString();
  }
  auto cp = ReadCheckpoint(&mem_, "/data/CHECKPOINT");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->store_id, kStoreId);
  EXPECT_EQ(cp->next_seq, 2u);
  EXPECT_EQ(cp->replay_segment_id, 1u);  // the active segment, after its records

  // Unasked, one is due once checkpoint_interval_ms has passed with changes.
  Put("j", 10);
  Drain();
  env_.AdvanceMs(60'000);
  Drain();
  cp = ReadCheckpoint(&mem_, "/data/CHECKPOINT");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->next_seq, 3u);
}

TEST_F(FlusherTest, AFailedWriteBacksOffThenGoesToANewSegment) {
  FaultDevice faults(&mem_, /*seed=*/1);
  Start(&faults);
  std::optional<Status> first;
  Put("a", 10, [&](Status st) { first = st; });
  Drain();
  ASSERT_TRUE(first.has_value() && first->ok());

  faults.InjectFault(FaultOp::kWrite, FaultKind::kIoError, "seg-000000000001");
  std::optional<Status> second;
  const uint64_t b = Put("b", 10, [&](Status st) { second = st; });
  EXPECT_TRUE(flusher_->RunOnce());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->code(), StatusCode::kIoError);  // the waiter hears of the failure at once
  EXPECT_FALSE(flusher_->RunOnce()) << "backing off";
  env_.AdvanceMs(50);
  EXPECT_TRUE(flusher_->RunOnce());  // written again, to segment 2
  ASSERT_EQ(host_->segments.size(), 2u);
  env_.AdvanceMs(1000);
  Drain();
  EXPECT_EQ(host_->durable.back(), b);
  MutexLock lock(&mu_);
  EXPECT_EQ(queue_.write_retries, 1u);
  EXPECT_EQ(queue_.write_io_errors, 1u);
}

TEST_F(FlusherTest, StopsOnceEverythingIsWrittenSyncedAndCheckpointed) {
  Start(&mem_);
  const uint64_t seq = Put("k", 10);
  {
    MutexLock lock(&mu_);
    queue_.stopping = true;
  }
  for (int i = 0; i < 10 && !flusher_->finished(); ++i) flusher_->RunOnce();
  EXPECT_TRUE(flusher_->finished());
  EXPECT_EQ(host_->durable, std::vector<uint64_t>{seq});
  EXPECT_TRUE(ReadCheckpoint(&mem_, "/data/CHECKPOINT").ok());
  EXPECT_FALSE(flusher_->RunOnce());
}

}  // namespace
}  // namespace ctxstore::engine
