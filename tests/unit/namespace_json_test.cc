// The namespace settings' JSON codec (common/namespace_json.h): what the
// server reads from NS_CREATE/NS_SET, what NS_LIST and the catalog write,
// and what the client reads back.
#include "common/namespace_json.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/limits.h"

namespace ctxstore {
namespace {

NamespaceConfig EverySettingChanged() {
  NamespaceConfig c;
  c.quota_bytes = 1 << 30;
  c.default_ttl_ms = 60'000;
  c.max_ttl_ms = 3'600'000;
  c.priority = 6;
  c.require_model_fingerprint = true;
  c.encryption_key = "k1";
  c.max_pins = 7;
  c.max_leased_objects = 9;
  return c;
}

bool SameConfig(const NamespaceConfig& a, const NamespaceConfig& b) {
  bool same = true;
  VisitNamespaceFields(
      [&](const NamespaceField&, auto member, auto) { same = same && a.*member == b.*member; });
  return same;
}

Status Parse(const std::string& body, NamespaceSpec* spec) {
  return ParseNamespaceSpec(nlohmann::json::parse(body), OtherMembers::kRefuse, {"name"}, spec);
}

TEST(NamespaceJson, EverySettingRoundTripsThroughConfigSpecAndInfo) {
  const NamespaceConfig config = EverySettingChanged();
  nlohmann::json j = nlohmann::json::object();
  AddNamespaceConfigJson(config, &j);
  size_t fields = 0;
  VisitNamespaceFields([&](const NamespaceField& f, auto, auto) {
    ++fields;
    EXPECT_TRUE(j.contains(std::string(f.name))) << f.name;
  });
  EXPECT_EQ(j.size(), fields);

  NamespaceSpec spec;
  ASSERT_TRUE(ParseNamespaceSpec(j, OtherMembers::kRefuse, {}, &spec).ok());
  NamespaceConfig applied;
  ApplyNamespaceSpec(spec, &applied);
  EXPECT_TRUE(SameConfig(applied, config));

  NamespaceInfo info{
      .id = 3, .name = "t", .config = config, .objects = 4, .bytes = 5, .evictions = 6};
  auto back = ParseNamespaceInfo(NamespaceInfoJson<nlohmann::json>(info));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, 3u);
  EXPECT_EQ(back->name, "t");
  EXPECT_TRUE(SameConfig(back->config, config));
  EXPECT_EQ(back->objects, 4u);
  EXPECT_EQ(back->bytes, 5u);
  EXPECT_EQ(back->evictions, 6u);
}

TEST(NamespaceJson, ASpecWritesAndAppliesOnlyWhatItNames) {
  NamespaceSpec spec;
  spec.max_ttl_ms = 5000;
  spec.encryption_key = "";
  nlohmann::json j = nlohmann::json::object();
  AddNamespaceSpecJson(spec, &j);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"max_ttl_ms": 5000, "encryption_key": ""})"));

  NamespaceConfig config = EverySettingChanged();
  ApplyNamespaceSpec(spec, &config);
  EXPECT_EQ(config.max_ttl_ms, 5000u);
  EXPECT_EQ(config.encryption_key, "");
  EXPECT_EQ(config.quota_bytes, uint64_t{1} << 30);  // not named: unchanged
  EXPECT_EQ(config.priority, 6);
}

TEST(NamespaceJson, RequestsWithBadMembersAreRefusedNamingTheMember) {
  NamespaceSpec spec;
  struct Case {
    const char* body;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"quota_bytes": -1})", "\"quota_bytes\" must be a non-negative integer"},
           Case{R"({"max_pins": 1.5})", "\"max_pins\" must be a non-negative integer"},
           Case{R"({"default_ttl_ms": "1h"})", "\"default_ttl_ms\" must be a non-negative integer"},
           Case{R"({"priority": 8})", "\"priority\" must be 0..7"},
           Case{R"({"require_model_fingerprint": 1})",
                "\"require_model_fingerprint\" must be true or false"},
           Case{R"({"encryption_key": 5})",
                "\"encryption_key\" must be a key name (a string of at most 64 bytes)"},
           Case{R"({"quota": 5})", "unknown field \"quota\""},
       }) {
    SCOPED_TRACE(c.body);
    Status st = Parse(c.body, &spec);
    EXPECT_EQ(st.code(), StatusCode::kInvalid);
    EXPECT_EQ(st.message(), c.message);
  }
  const std::string long_key(kMaxKeyNameBytes + 1, 'k');
  EXPECT_EQ(Parse(R"({"encryption_key": ")" + long_key + "\"}", &spec).code(),
            StatusCode::kInvalid);
  EXPECT_TRUE(Parse(R"({"name": "x", "priority": 7})", &spec).ok());
  EXPECT_EQ(spec.priority, 7);
  EXPECT_EQ(Parse("[1]", &spec).code(), StatusCode::kInvalid);
}

TEST(NamespaceJson, RepliesAndFilesIgnoreWhatTheyDoNotKnowAndDefaultWhatIsMissing) {
  // An older server (or catalog) without the newer settings; a newer one
  // with settings this reader does not know.
  auto info = ParseNamespaceInfo(nlohmann::json::parse(
      R"({"id": 2, "name": "old", "quota_bytes": 10, "default_ttl_ms": 0, "max_ttl_ms": 0,
          "priority": 1, "some_future_setting": true, "objects": 1})"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->config.quota_bytes, 10u);
  EXPECT_EQ(info->config.priority, 1);
  EXPECT_EQ(info->config.max_pins, 0u);
  EXPECT_EQ(info->config.encryption_key, "");
  EXPECT_EQ(info->objects, 1u);
  EXPECT_EQ(info->bytes, 0u);
  // What is there must still be well formed.
  EXPECT_FALSE(ParseNamespaceInfo(nlohmann::json::parse(R"({"id": 1})")).ok());
  EXPECT_FALSE(ParseNamespaceInfo(nlohmann::json::parse(R"({"name": "x", "priority": 99})")).ok());
  EXPECT_FALSE(ParseNamespaceInfo(nlohmann::json::parse(R"({"name": "x", "bytes": -1})")).ok());
  EXPECT_FALSE(ParseNamespaceInfo(nlohmann::json::parse(R"({"name": "x", "id": 5e9})")).ok());
}

TEST(NamespaceJson, EveryFieldHasAFlagHelpAndAUniqueName) {
  std::set<std::string_view> names, flags;
  VisitNamespaceFields([&](const NamespaceField& f, auto, auto) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_TRUE(flags.insert(f.flag).second) << f.flag;
    EXPECT_FALSE(f.help.empty()) << f.name;
  });
  EXPECT_GE(names.size(), 8u);
}

}  // namespace
}  // namespace ctxstore
