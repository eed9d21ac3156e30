// Context semantics through ctxstore::Client against the real server
// process: namespaces, TTL, groups, parent chains, metadata, pins, leases,
// LIST/STAT, quotas, and their survival across restarts.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/hash.h"
#include "ctxstore/client.h"
#include "server_process.h"
#include "test_helpers.h"

namespace ctxstore {
namespace {

using ::ctxstore::testing::ServerProcess;
using ::ctxstore::testing::StopAndReport;

// "prefix" + i without std::string concatenation (g++ 12 -O3 -Wrestrict
// false positives).
std::string Name(const char* prefix, int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%d", prefix, i);
  return buf;
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Polls until cond holds or timeout_ms passes; the final answer.
bool Eventually(const std::function<bool()>& cond, int timeout_ms = 3000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& items) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : items) keys.push_back(o.key);
  return keys;
}

std::optional<NamespaceInfo> FindNamespace(Client& client, const std::string& name) {
  auto list = client.ListNamespaces();
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  if (!list.ok()) return std::nullopt;
  for (const NamespaceInfo& ns : *list) {
    if (ns.name == name) return ns;
  }
  return std::nullopt;
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    client_ = Connect("default");
    ASSERT_NE(client_, nullptr);
  }
  void TearDown() override {
    clients_.clear();
    client_.reset();
    StopAndReport(server_);
  }

  Result<std::unique_ptr<Client>> TryConnect(const std::string& ns) {
    ClientOptions options;
    options.port = server_.port();
    options.token = server_.admin_token();
    options.namespace_name = ns;
    return Client::Connect(options);
  }
  // A client in namespace ns (nullptr after a test failure).
  std::unique_ptr<Client> Connect(const std::string& ns) {
    auto client = TryConnect(ns);
    EXPECT_TRUE(client.ok()) << ns << ": " << client.status().ToString();
    if (!client.ok()) return nullptr;
    return std::move(*client);
  }
  // Creates namespace ns and returns a client owned by the fixture.
  Client* Namespace(const std::string& ns, const NamespaceSpec& spec = {}) {
    Status st = client_->CreateNamespace(ns, spec);
    EXPECT_TRUE(st.ok()) << ns << ": " << st.ToString();
    if (!st.ok()) return nullptr;
    clients_.push_back(Connect(ns));
    return clients_.back().get();
  }

  ServerProcess server_;
  std::unique_ptr<Client> client_;  // namespace "default"
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(ContextTest, UnknownNamespaceFailsConnectWithNotFound) {
  auto client = TryConnect("no-such-namespace");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kNotFound) << client.status().ToString();
  EXPECT_NE(client.status().message().find("no-such-namespace"), std::string::npos)
      << client.status().message();
}

TEST_F(ContextTest, NamespacesIsolateEveryKeyOp) {
  Client* a = Namespace("tenant-a");
  Client* b = Namespace("tenant-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  PutOptions in_group;
  in_group.group = "g";
  ASSERT_TRUE(a->Put("k", "value in a", in_group).ok());
  ASSERT_TRUE(a->Put("k2", "second in a").ok());

  // b and default see nothing of a's.
  for (Client* other : {b, client_.get()}) {
    EXPECT_EQ(other->Get("k").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(other->GetWithMeta("k").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(other->Exists("k").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(other->Stat("k").status().code(), StatusCode::kNotFound);
    std::vector<std::string> keys = {"k", "k2"};
    auto matched = other->MatchPrefix(keys);
    ASSERT_TRUE(matched.ok()) << matched.status().ToString();
    EXPECT_EQ(*matched, 0u);
    auto present = other->BatchExists(keys);
    ASSERT_TRUE(present.ok()) << present.status().ToString();
    EXPECT_EQ(*present, (std::vector<bool>{false, false}));
    auto page = other->List({});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_TRUE(page->items.empty()) << page->items.size();
    auto in_g = other->List({.group = "g"});
    ASSERT_TRUE(in_g.ok()) << in_g.status().ToString();
    EXPECT_TRUE(in_g->items.empty());
    EXPECT_EQ(other->Delete("k").code(), StatusCode::kNotFound);
    EXPECT_EQ(other->Pin("k").status().code(), StatusCode::kNotFound);
    auto deleted = other->DeleteGroup("g");
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    EXPECT_EQ(*deleted, 0u);
  }

  // The same key in b is a different object: put-if-absent succeeds.
  ASSERT_TRUE(b->Put("k", "value in b").ok());
  EXPECT_EQ(*a->Get("k"), "value in a");
  EXPECT_EQ(*b->Get("k"), "value in b");
  auto sa = a->Stat("k");
  auto sb = b->Stat("k");
  ASSERT_TRUE(sa.ok()) << sa.status().ToString();
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_NE(sa->namespace_id, sb->namespace_id);
  EXPECT_NE(sa->namespace_id, 0u);

  auto list_a = a->List({});
  ASSERT_TRUE(list_a.ok()) << list_a.status().ToString();
  EXPECT_EQ(Keys(list_a->items), (std::vector<std::string>{"k", "k2"}));
  for (const ObjectInfo& o : list_a->items) EXPECT_EQ(o.namespace_id, sa->namespace_id);

  // Deleting in b leaves a alone.
  ASSERT_TRUE(b->Delete("k").ok());
  EXPECT_EQ(*a->Get("k"), "value in a");
  EXPECT_EQ(b->Get("k").status().code(), StatusCode::kNotFound);
}

TEST_F(ContextTest, MetadataRoundTripsThroughGetWithMetaAndStat) {
  static const char kMeta[] = "dtype=bf16;shape=[32,8,128]\0\xff binary";
  std::string meta(kMeta, sizeof(kMeta) - 1);  // with its NUL and 0xff bytes
  std::string value(100000, 'v');
  PutOptions opts;
  opts.group = "session-1";
  opts.parent = "chunk-0";
  opts.meta = meta;
  const uint64_t before_ms = NowMs();
  Status st = client_->Put("chunk-1", value, opts);
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto got = client_->GetWithMeta("chunk-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->value == value);
  EXPECT_EQ(got->meta, meta);
  // The plain GET still returns the value alone.
  auto plain = client_->Get("chunk-1");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_TRUE(*plain == value);

  auto info = client_->Stat("chunk-1");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "chunk-1");
  EXPECT_EQ(info->namespace_id, 0u);
  EXPECT_EQ(info->value_len, value.size());
  EXPECT_EQ(info->value_xxh3, Xxh3(value.data(), value.size()));
  EXPECT_GE(info->created_ms + 1000, before_ms);
  EXPECT_LE(info->created_ms, NowMs() + 1000);
  EXPECT_EQ(info->expires_ms, 0u);
  EXPECT_TRUE(info->in_dram || info->on_flash);
  EXPECT_FALSE(info->pinned);
  EXPECT_EQ(info->leases, 0u);
  EXPECT_EQ(info->group, "session-1");
  EXPECT_EQ(info->parent, "chunk-0");
  // Provenance: the id of the token that wrote it (the admin token's here).
  EXPECT_EQ(info->writer, server_.admin_token().substr(4, 16));
  EXPECT_EQ(info->meta, meta);

  // Without metadata: empty, not absent.
  ASSERT_TRUE(client_->Put("bare", "v").ok());
  auto bare = client_->GetWithMeta("bare");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->value, "v");
  EXPECT_EQ(bare->meta, "");

  // Overwrite replaces the metadata with the value.
  PutOptions replace;
  replace.overwrite = true;
  replace.meta = "v2";
  ASSERT_TRUE(client_->Put("chunk-1", "new", replace).ok());
  got = client_->GetWithMeta("chunk-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value, "new");
  EXPECT_EQ(got->meta, "v2");

  // Limits are checked before anything is sent.
  PutOptions too_big;
  too_big.meta.assign(4097, 'm');
  EXPECT_EQ(client_->Put("m", "v", too_big).code(), StatusCode::kTooLarge);
  too_big.meta.assign(4096, 'm');
  st = client_->Put("m", "v", too_big);
  EXPECT_TRUE(st.ok()) << st.ToString();
  PutOptions long_group;
  long_group.group.assign(513, 'g');
  EXPECT_EQ(client_->Put("g", "v", long_group).code(), StatusCode::kTooLarge);
  EXPECT_EQ(client_->GetWithMeta("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Stat("absent").status().code(), StatusCode::kNotFound);
}

TEST_F(ContextTest, TtlExpiresInRealTime) {
  PutOptions short_ttl;
  short_ttl.ttl_ms = 300;
  const uint64_t before_ms = NowMs();
  ASSERT_TRUE(client_->Put("short", "v", short_ttl).ok());
  ASSERT_TRUE(client_->Put("forever", "v").ok());
  auto info = client_->Stat("short");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_GE(info->expires_ms, before_ms + 300);
  EXPECT_LE(info->expires_ms, NowMs() + 300 + 1000);
  EXPECT_EQ(*client_->Get("short"), "v");

  EXPECT_TRUE(Eventually([&] {
    return client_->Get("short").status().code() == StatusCode::kNotFound;
  })) << "still readable 3 s after a 300 ms TTL";
  EXPECT_GE(NowMs(), before_ms + 300) << "expired early";
  EXPECT_EQ(client_->Exists("short").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Stat("short").status().code(), StatusCode::kNotFound);
  auto page = client_->List({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Keys(page->items), std::vector<std::string>{"forever"});
  // Gone means put-if-absent works again.
  EXPECT_TRUE(client_->Put("short", "again").ok());
  EXPECT_EQ(*client_->Get("forever"), "v");
}

TEST_F(ContextTest, BatchPutWithOptionsAndChain) {
  ASSERT_TRUE(client_->Put("root", "r").ok());  // a chunk whose parent is absent is an orphan
  std::vector<std::string> values = {"c0", "c1", "c2"};
  std::vector<PutItem> items = {
      {"c0", Bytes(values[0])}, {"c1", Bytes(values[1])}, {"c2", Bytes(values[2])}};
  PutOptions opts;
  opts.group = "req-7";
  opts.parent = "root";
  opts.meta = "m";
  opts.ttl_ms = 3'600'000;
  opts.chain = true;
  auto codes = client_->BatchPut(items, opts);
  ASSERT_TRUE(codes.ok()) << codes.status().ToString();
  EXPECT_EQ(*codes, std::vector<StatusCode>(3, StatusCode::kOk));
  const char* parents[] = {"root", "c0", "c1"};
  for (int i = 0; i < 3; ++i) {
    auto info = client_->Stat(Name("c", i));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->parent, parents[i]) << i;
    EXPECT_EQ(info->group, "req-7") << i;
    EXPECT_EQ(info->meta, "m") << i;
    EXPECT_NE(info->expires_ms, 0u) << i;
    EXPECT_FALSE(info->orphan) << i;
  }
  // A chunk whose parent is deleted becomes an orphan.
  ASSERT_TRUE(client_->Delete("c0").ok());
  EXPECT_TRUE(Eventually([&] {
    auto info = client_->Stat("c1");
    return info.ok() && info->orphan;
  })) << "c1 not an orphan after its parent was deleted";
}

TEST_F(ContextTest, GroupsListAndDelete) {
  for (int i = 0; i < 3; ++i) {
    PutOptions opts;
    opts.group = "s1";
    ASSERT_TRUE(client_->Put(Name("a/", i), "v", opts).ok());
  }
  for (int i = 0; i < 2; ++i) {
    PutOptions opts;
    opts.group = "s2";
    ASSERT_TRUE(client_->Put(Name("b/", i), "vv", opts).ok());
  }
  ASSERT_TRUE(client_->Put("a/loose", "v").ok());

  auto s1 = client_->List({.group = "s1"});
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_EQ(Keys(s1->items), (std::vector<std::string>{"a/0", "a/1", "a/2"}));
  EXPECT_TRUE(s1->next_cursor.empty());
  for (const ObjectInfo& o : s1->items) EXPECT_EQ(o.group, "s1");

  auto prefix = client_->List({.prefix = "a/"});
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(Keys(prefix->items), (std::vector<std::string>{"a/0", "a/1", "a/2", "a/loose"}));
  auto both = client_->List({.prefix = "b/", .group = "s1"});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_TRUE(both->items.empty());

  auto deleted = client_->DeleteGroup("s1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client_->Get(Name("a/", i)).status().code(), StatusCode::kNotFound) << i;
  }
  s1 = client_->List({.group = "s1"});
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_TRUE(s1->items.empty());
  EXPECT_EQ(*client_->Get("a/loose"), "v");
  EXPECT_EQ(*client_->Get("b/0"), "vv");
  deleted = client_->DeleteGroup("s1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 0u);
  EXPECT_EQ(client_->DeleteGroup("").status().code(), StatusCode::kInvalid);
}

TEST_F(ContextTest, ListPagesFollowTheCursor) {
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%02d", i);
    expected.push_back(key);
    ASSERT_TRUE(client_->Put(key, "v").ok());
  }
  std::vector<std::string> seen;
  ListOptions opts;
  opts.limit = 10;
  int pages = 0;
  for (;;) {
    auto page = client_->List(opts);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_LE(page->items.size(), 10u);
    for (const ObjectInfo& o : page->items) seen.push_back(o.key);
    ++pages;
    ASSERT_LE(pages, 10) << "the cursor does not advance";
    if (page->next_cursor.empty()) break;
    opts.cursor = page->next_cursor;
  }
  EXPECT_EQ(seen, expected);
  EXPECT_GE(pages, 3);
  EXPECT_EQ(client_->List({.limit = 0}).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(client_->List({.limit = 1001}).status().code(), StatusCode::kInvalid);
  auto max_page = client_->List({.limit = 1000});
  ASSERT_TRUE(max_page.ok()) << max_page.status().ToString();
  EXPECT_EQ(max_page->items.size(), 25u);
}

TEST_F(ContextTest, PinAndUnpinKeysAndGroups) {
  ASSERT_TRUE(client_->Put("k", "v").ok());
  auto n = client_->Pin("k");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  auto info = client_->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pinned);
  EXPECT_EQ(info->pin_expires_ms, 0u);
  Status st = client_->Unpin("k");
  ASSERT_TRUE(st.ok()) << st.ToString();
  info = client_->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->pinned);
  EXPECT_EQ(client_->Unpin("k").code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->Pin("absent").status().code(), StatusCode::kNotFound);

  // A pin with a TTL says when it lapses (that a DRAM pin keeps the object
  // in DRAM is DramPin's test, under DRAM pressure).
  const uint64_t before_ms = NowMs();
  n = client_->Pin("k", {.ttl_ms = 60'000, .dram = true});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  info = client_->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pinned);
  EXPECT_TRUE(info->pin_dram);
  EXPECT_GE(info->pin_expires_ms, before_ms + 60'000);
  EXPECT_LE(info->pin_expires_ms, NowMs() + 61'000);
  ASSERT_TRUE(client_->Unpin("k").ok());

  // A group pin covers the group's objects, present and future.
  for (int i = 0; i < 2; ++i) {
    PutOptions opts;
    opts.group = "keep";
    ASSERT_TRUE(client_->Put(Name("g", i), "v", opts).ok());
  }
  n = client_->Pin("keep", {.by_group = true});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  PutOptions later;
  later.group = "keep";
  ASSERT_TRUE(client_->Put("g2", "v", later).ok());
  for (int i = 0; i < 3; ++i) {
    info = client_->Stat(Name("g", i));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_TRUE(info->pinned) << i;
  }
  st = client_->Unpin("keep", /*by_group=*/true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (int i = 0; i < 3; ++i) {
    info = client_->Stat(Name("g", i));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_FALSE(info->pinned) << i;
  }
  EXPECT_EQ(client_->Unpin("keep", /*by_group=*/true).code(), StatusCode::kNotFound);
}

TEST_F(ContextTest, LeaseHoldsMatchedObjectsUntilReleased) {
  PutOptions short_ttl;
  short_ttl.ttl_ms = 300;
  ASSERT_TRUE(client_->Put("p0", "a", short_ttl).ok());
  ASSERT_TRUE(client_->Put("p1", "b", short_ttl).ok());
  std::vector<std::string> keys = {"p0", "p1", "p2"};
  auto lease = client_->MatchPrefixLease(keys, 10'000);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->matched, 2u);
  ASSERT_NE(lease->lease_id, 0u);
  auto info = client_->Stat("p0");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->leases, 1u);
  EXPECT_GT(info->lease_expires_ms, NowMs());

  // Leased past their TTL, they stay readable.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(*client_->Get("p0"), "a");
  EXPECT_EQ(*client_->Get("p1"), "b");

  // Released from another connection of the namespace: the TTL applies again.
  auto other = Connect("default");
  ASSERT_NE(other, nullptr);
  Status st = other->ReleaseLease(lease->lease_id);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Eventually([&] {
    return client_->Get("p0").status().code() == StatusCode::kNotFound;
  })) << "a released lease still holds an expired object";
  EXPECT_EQ(client_->ReleaseLease(lease->lease_id).code(), StatusCode::kNotFound);

  // Nothing matched: no lease.
  std::vector<std::string> none = {"absent"};
  auto empty = client_->MatchPrefixLease(none, 10'000);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->matched, 0u);
  EXPECT_EQ(empty->lease_id, 0u);
}

TEST_F(ContextTest, LeaseEndsWithItsConnection) {
  ASSERT_TRUE(client_->Put("p0", "a").ok());
  auto holder = Connect("default");
  ASSERT_NE(holder, nullptr);
  std::vector<std::string> keys = {"p0"};
  auto lease = holder->MatchPrefixLease(keys, 60'000);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_EQ(lease->matched, 1u);
  EXPECT_EQ(client_->Stat("p0")->leases, 1u);
  holder.reset();  // closes its pooled connection
  EXPECT_TRUE(Eventually([&] {
    auto info = client_->Stat("p0");
    return info.ok() && info->leases == 0;
  })) << "the lease outlived its connection";
}

TEST_F(ContextTest, NamespaceAdmin) {
  NamespaceSpec spec;
  spec.quota_bytes = 1 << 20;
  spec.default_ttl_ms = 60'000;
  spec.max_ttl_ms = 3'600'000;
  spec.priority = 6;
  Status st = client_->CreateNamespace("tenant-1", spec);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(client_->CreateNamespace("tenant-1", spec).code(), StatusCode::kExists);
  EXPECT_EQ(client_->CreateNamespace("bad name!", {}).code(), StatusCode::kInvalid);
  EXPECT_EQ(client_->CreateNamespace(std::string(65, 'n'), {}).code(), StatusCode::kInvalid);

  auto def = FindNamespace(*client_, "default");
  ASSERT_TRUE(def.has_value());
  EXPECT_EQ(def->id, 0u);
  auto t = FindNamespace(*client_, "tenant-1");
  ASSERT_TRUE(t.has_value());
  EXPECT_NE(t->id, 0u);
  EXPECT_EQ(t->config.quota_bytes, 1u << 20);
  EXPECT_EQ(t->config.default_ttl_ms, 60'000u);
  EXPECT_EQ(t->config.max_ttl_ms, 3'600'000u);
  EXPECT_EQ(t->config.priority, 6u);
  EXPECT_EQ(t->objects, 0u);
  EXPECT_EQ(t->bytes, 0u);

  // The default TTL applies to PUTs without one; the maximum caps the others.
  auto c = Connect("tenant-1");
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Put("defaulted", std::string(1000, 'x')).ok());
  PutOptions long_ttl;
  long_ttl.ttl_ms = 36'000'000;
  ASSERT_TRUE(c->Put("capped", std::string(500, 'y'), long_ttl).ok());
  auto info = c->Stat("defaulted");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_NE(info->expires_ms, 0u);
  EXPECT_LE(info->expires_ms, info->created_ms + 60'000);
  EXPECT_EQ(info->namespace_id, t->id);
  info = c->Stat("capped");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_NE(info->expires_ms, 0u);
  EXPECT_LE(info->expires_ms, info->created_ms + 3'600'000);
  t = FindNamespace(*client_, "tenant-1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->objects, 2u);
  EXPECT_EQ(t->bytes, 1500u);

  // SET changes only what it names.
  NamespaceSpec quota_only;
  quota_only.quota_bytes = 2 << 20;
  st = client_->SetNamespace("tenant-1", quota_only);
  ASSERT_TRUE(st.ok()) << st.ToString();
  t = FindNamespace(*client_, "tenant-1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->config.quota_bytes, 2u << 20);
  EXPECT_EQ(t->config.default_ttl_ms, 60'000u);
  EXPECT_EQ(t->config.max_ttl_ms, 3'600'000u);
  EXPECT_EQ(t->config.priority, 6u);
  EXPECT_EQ(client_->SetNamespace("no-such", quota_only).code(), StatusCode::kNotFound);

  // DELETE takes the objects with it.
  EXPECT_EQ(client_->DeleteNamespace("default").code(), StatusCode::kInvalid);
  st = client_->DeleteNamespace("tenant-1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(FindNamespace(*client_, "tenant-1").has_value());
  EXPECT_EQ(client_->DeleteNamespace("tenant-1").code(), StatusCode::kNotFound);
  EXPECT_EQ(TryConnect("tenant-1").status().code(), StatusCode::kNotFound);
  // A namespace created again under the name starts empty.
  c.reset();
  ASSERT_TRUE(client_->CreateNamespace("tenant-1", {}).ok());
  c = Connect("tenant-1");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Get("defaulted").status().code(), StatusCode::kNotFound);
}

TEST_F(ContextTest, QuotaEvictsUnpinnedData) {
  NamespaceSpec spec;
  spec.quota_bytes = 64 * 1024;
  Client* c = Namespace("small", spec);
  ASSERT_NE(c, nullptr);
  std::string value(16 * 1024, 'q');
  for (int i = 0; i < 8; ++i) {
    Status st = c->Put(Name("o", i), value);
    ASSERT_TRUE(st.ok()) << i << ": " << st.ToString();
  }
  auto ns = FindNamespace(*client_, "small");
  ASSERT_TRUE(ns.has_value());
  EXPECT_LE(ns->bytes, 64u * 1024);
  EXPECT_GE(ns->evictions, 4u);
  EXPECT_EQ(*c->Get("o7"), value);  // the newest stays
  // Another namespace's data is untouched by this one's quota.
  ASSERT_TRUE(client_->Put("big", std::string(256 * 1024, 'd')).ok());
  EXPECT_TRUE(client_->Exists("big").ok());
}

TEST_F(ContextTest, QuotaFullOfPinnedDataIsNoSpace) {
  NamespaceSpec spec;
  spec.quota_bytes = 64 * 1024;
  Client* c = Namespace("pinned", spec);
  ASSERT_NE(c, nullptr);
  auto n = c->Pin("hold", {.by_group = true});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 0u);
  std::string value(16 * 1024, 'p');
  PutOptions in_hold;
  in_hold.group = "hold";
  for (int i = 0; i < 4; ++i) {
    Status st = c->Put(Name("h", i), value, in_hold);
    ASSERT_TRUE(st.ok()) << i << ": " << st.ToString();
  }
  Status st = c->Put("one-more", value);
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
  EXPECT_EQ(st.message().rfind("no space: pinned", 0), 0u) << st.message();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*c->Get(Name("h", i)), value) << i;

  // Unpinned, the old data gives way.
  ASSERT_TRUE(c->Unpin("hold", /*by_group=*/true).ok());
  st = c->Put("one-more", value);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto ns = FindNamespace(*client_, "pinned");
  ASSERT_TRUE(ns.has_value());
  EXPECT_LE(ns->bytes, 64u * 1024);
  EXPECT_GE(ns->evictions, 1u);
}

TEST_F(ContextTest, MetadataPinsAndNamespacesSurviveARestart) {
  NamespaceSpec spec;
  spec.quota_bytes = 8 << 20;
  spec.default_ttl_ms = 3'600'000;
  spec.priority = 2;
  Client* c = Namespace("persist", spec);
  ASSERT_NE(c, nullptr);
  PutOptions opts;
  opts.group = "sess";
  opts.parent = "root";
  opts.meta = std::string("shape\0[1,2]", 11);
  ASSERT_TRUE(c->Put("k", "value", opts).ok());
  ASSERT_TRUE(c->Put("loose", "v").ok());
  ASSERT_TRUE(c->Pin("loose").ok());
  ASSERT_TRUE(c->Pin("sess", {.by_group = true}).ok());
  auto before = c->Stat("k");
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  clients_.clear();
  ASSERT_TRUE(server_.Restart());
  ClientOptions options;
  options.port = server_.port();
  options.token = server_.admin_token();
  auto admin = Client::Connect(options);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  client_ = std::move(*admin);
  auto ns = FindNamespace(*client_, "persist");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->id, before->namespace_id);
  EXPECT_EQ(ns->config.quota_bytes, 8u << 20);
  EXPECT_EQ(ns->config.default_ttl_ms, 3'600'000u);
  EXPECT_EQ(ns->config.priority, 2u);
  EXPECT_EQ(ns->objects, 2u);

  auto after_client = Connect("persist");
  ASSERT_NE(after_client, nullptr);
  Client& after = *after_client;
  auto got = after.GetWithMeta("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value, "value");
  EXPECT_EQ(got->meta, opts.meta);
  auto info = after.Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->group, "sess");
  EXPECT_EQ(info->parent, "root");
  EXPECT_EQ(info->writer, before->writer);
  EXPECT_EQ(info->created_ms, before->created_ms);
  EXPECT_EQ(info->expires_ms, before->expires_ms);
  EXPECT_TRUE(info->pinned);  // by the group pin
  info = after.Stat("loose");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pinned);
  // The group pin still covers new objects.
  PutOptions in_sess;
  in_sess.group = "sess";
  ASSERT_TRUE(after.Put("new", "v", in_sess).ok());
  info = after.Stat("new");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->pinned);
  EXPECT_TRUE(after.Unpin("loose").ok());
  EXPECT_TRUE(after.Unpin("sess", /*by_group=*/true).ok());
}

TEST_F(ContextTest, SyncedMetadataAndNamespacesSurviveACrash) {
  Client* c = Namespace("crashy");
  ASSERT_NE(c, nullptr);
  PutOptions opts;
  opts.sync = true;
  opts.group = "g";
  opts.meta = "meta after crash";
  opts.ttl_ms = 3'600'000;
  ASSERT_TRUE(c->Put("k", "value", opts).ok());
  auto before = c->Stat("k");
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  clients_.clear();
  client_.reset();
  server_.Kill9();
  ASSERT_TRUE(server_.Start());
  auto after_client = Connect("crashy");
  ASSERT_NE(after_client, nullptr);
  auto got = after_client->GetWithMeta("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->value, "value");
  EXPECT_EQ(got->meta, "meta after crash");
  auto info = after_client->Stat("k");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->group, "g");
  EXPECT_EQ(info->expires_ms, before->expires_ms);
  EXPECT_EQ(info->namespace_id, before->namespace_id);
}

using ::ctxstore::testing::ServerOptions;

TEST(ContextLimits, LeasesPerConnectionAreBounded) {
  ServerOptions options;
  options.extra_args = {"--max-leases-per-connection", "2", "--max-lease", "5s"};
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ClientOptions client_options;
  client_options.port = server.port();
  client_options.token = server.admin_token();
  client_options.max_idle_connections = 1;
  auto client = Client::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Put("k", "v").ok());
  std::vector<std::string> keys = {"k"};
  // Sequential calls reuse the one pooled connection.
  auto first = (*client)->MatchPrefixLease(keys, 1000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*client)->MatchPrefixLease(keys, 1000).ok());
  auto third = (*client)->MatchPrefixLease(keys, 1000);
  EXPECT_EQ(third.status().code(), StatusCode::kBusy) << third.status().ToString();
  // Releasing one makes room again for a lease within --max-lease.
  ASSERT_TRUE((*client)->ReleaseLease(first->lease_id).ok());
  EXPECT_EQ((*client)->MatchPrefixLease(keys, 6000).status().code(), StatusCode::kInvalid);
  EXPECT_TRUE((*client)->MatchPrefixLease(keys, 1000).ok());
}

// A DRAM pin is what keeps an object in DRAM: 8 MiB of DRAM, then 24 MiB
// of other values through it. An unpinned object put at the same time as
// the pinned one is evicted to flash; the pinned one stays.
TEST(DramPin, KeepsItsObjectInDramUnderPressure) {
  ServerOptions options;
  options.memory = "8MiB";
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ClientOptions client_options;
  client_options.port = server.port();
  client_options.token = server.admin_token();
  auto connected = Client::Connect(client_options);
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  Client& c = **connected;
  const std::string pinned_value = testing::RandomBytes(256 << 10, 1);
  const std::string control_value = testing::RandomBytes(256 << 10, 2);
  ASSERT_TRUE(c.Put("pinned", pinned_value).ok());
  ASSERT_TRUE(c.Put("control", control_value).ok());
  auto n = c.Pin("pinned", {.dram = true});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  const std::string filler(512 << 10, 'f');
  for (int i = 0; i < 48; ++i) ASSERT_TRUE(c.Put(Name("filler-", i), filler).ok()) << i;
  ASSERT_TRUE(c.Flush().ok());

  auto control = c.Stat("control");
  ASSERT_TRUE(control.ok()) << control.status().ToString();
  EXPECT_FALSE(control->in_dram) << "no DRAM pressure: the test proves nothing";
  EXPECT_TRUE(control->on_flash);
  auto pinned = c.Stat("pinned");
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_TRUE(pinned->pin_dram);
  EXPECT_TRUE(pinned->in_dram) << "a DRAM-pinned object was evicted";
  auto stats = testing::StatsOf(c);
  EXPECT_GT(stats["evictions_dram"].get<uint64_t>(), 0u) << stats.dump();
  // Both still read back exactly (the control from flash).
  auto got = c.Get("control");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == control_value);
  got = c.Get("pinned");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == pinned_value);
  StopAndReport(server);
}

// A namespace quota of four 1 KiB objects, under each --eviction-policy: a
// workload whose survivors differ between LRU and every other policy, so
// that a server ignoring the flag (LRU is the default) fails; then pinned
// objects survive quota pressure under every policy.
//
// The workload: put a, b; read a; put c, d (the quota is full); put t0..t5,
// each of which evicts one object.
//  - lru: recency order b, a, c, d, t0, ...: the six oldest go, t2..t5 stay.
//  - s3fifo: all enter the small FIFO; at the first eviction a (read while
//    there) moves to main, and small is FIFO from then on: a, t3..t5 stay.
//  - lru-ghost, lru-doorkeeper: a first sighting enters at the cold end, so
//    each new object is the next to go (a, read, is hot): a, b, c stay, and
//    t5, the last one in.
struct PolicyCase {
  std::string policy;
  std::vector<std::string> survivors;
};

class PolicyTest : public ::testing::TestWithParam<PolicyCase> {};

const std::vector<std::string> kLruSurvivors = {"t2", "t3", "t4", "t5"};

TEST_P(PolicyTest, TheWorkloadsSurvivorsAreThePolicys) {
  const PolicyCase& param = GetParam();
  if (param.policy != "lru") {
    ASSERT_NE(param.survivors, kLruSurvivors) << "this case cannot tell the policy from lru";
  }
  ServerOptions options;
  options.extra_args = {"--eviction-policy", param.policy};
  ServerProcess server(options);
  ASSERT_TRUE(server.Start());
  ClientOptions client_options;
  client_options.port = server.port();
  client_options.token = server.admin_token();
  auto admin = Client::Connect(client_options);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  const std::string value(1024, 'x');

  ASSERT_TRUE((*admin)->CreateNamespace("order", {.quota_bytes = 4 * 1024}).ok());
  client_options.namespace_name = "order";
  auto order = Client::Connect(client_options);
  ASSERT_TRUE(order.ok()) << order.status().ToString();
  const std::vector<std::string> all = {"a", "b", "c", "d", "t0", "t1", "t2", "t3", "t4", "t5"};
  for (const char* key : {"a", "b"}) ASSERT_TRUE((*order)->Put(key, value).ok()) << key;
  ASSERT_TRUE((*order)->Get("a").ok());
  for (size_t i = 2; i < all.size(); ++i) ASSERT_TRUE((*order)->Put(all[i], value).ok()) << all[i];
  // What is left, in key order.
  auto page = (*order)->List({.limit = 100});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(Keys(page->items), param.survivors) << "policy " << param.policy;
  auto ns = FindNamespace(**admin, "order");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->evictions, 6u);

  // Pinned objects survive quota pressure under every policy; a put that
  // only pinned objects could make room for fails.
  NamespaceSpec spec;
  spec.quota_bytes = 10 * 1024;  // ten 1 KiB objects
  ASSERT_TRUE((*admin)->CreateNamespace("tight", spec).ok());
  client_options.namespace_name = "tight";
  auto client = Client::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Client& c = **client;
  ASSERT_TRUE(c.Put("pinned", value).ok());
  ASSERT_TRUE(c.Pin("pinned").ok());
  for (int i = 0; i < 100; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "tail-%d", i);
    ASSERT_TRUE(c.Put(key, value).ok()) << i;
  }
  EXPECT_TRUE(c.Get("pinned").ok()) << "a pinned object was evicted";
  ns = FindNamespace(**admin, "tight");
  ASSERT_TRUE(ns.has_value());
  EXPECT_LE(ns->bytes, spec.quota_bytes.value_or(0));
  EXPECT_EQ(ns->evictions, 91u);  // 101 objects put, 10 fit
  StopAndReport(server);
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyTest,
                         ::testing::Values(PolicyCase{"lru", kLruSurvivors},
                                           PolicyCase{"s3fifo", {"a", "t3", "t4", "t5"}},
                                           PolicyCase{"lru-ghost", {"a", "b", "c", "t5"}},
                                           PolicyCase{"lru-doorkeeper", {"a", "b", "c", "t5"}}),
                         [](const auto& info) {
                           std::string name = info.param.policy;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace ctxstore
