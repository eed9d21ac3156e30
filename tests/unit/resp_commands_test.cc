// The Redis front end's command table and argument parsing
// (protocol/resp_commands.h): arity as Redis counts it, which arguments are
// values, integers as Redis's string2ll reads them, SET's options with
// Redis 7.0's precedence of errors, expiries, and the unknown-command text
// cut where Redis cuts it.
#include "protocol/resp_commands.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace ctxstore::protocol {
namespace {

using Condition = SetOptions::Condition;
using Expire = SetOptions::Expire;

Result<SetOptions> Parse(std::vector<std::string_view> args) {
  return ParseSetOptions(args);
}

TEST(RespCommands, FoundWhateverTheCaseWithRedisArity) {
  const RespCommandSpec* set = FindRespCommand("sEt");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->name, "set");
  EXPECT_FALSE(ArityOk(*set, 2));  // SET key
  EXPECT_TRUE(ArityOk(*set, 3));   // SET key value
  EXPECT_TRUE(ArityOk(*set, 9));
  const RespCommandSpec* get = FindRespCommand("GET");
  ASSERT_NE(get, nullptr);
  EXPECT_TRUE(ArityOk(*get, 2));
  EXPECT_FALSE(ArityOk(*get, 3));
  EXPECT_EQ(FindRespCommand("SHUTDOWN"), nullptr);
  EXPECT_EQ(FindRespCommand(""), nullptr);
  // Only what a client needs before AUTH may run before it.
  for (const RespCommandSpec& spec : RespCommands()) {
    const bool allowed =
        spec.name == "auth" || spec.name == "hello" || spec.name == "ping" || spec.name == "quit";
    EXPECT_EQ(spec.before_auth, allowed) << spec.name;
    EXPECT_EQ(FindRespCommand(spec.name), &spec);
  }
}

TEST(RespCommands, ValueArgumentsAreWhereEachCommandHasThem) {
  EXPECT_TRUE(IsValueArg(RespValues::kThird, 2, 3));   // SET k v
  EXPECT_FALSE(IsValueArg(RespValues::kThird, 1, 3));  // its key
  EXPECT_FALSE(IsValueArg(RespValues::kThird, 4, 5));  // SET k v EX <here>
  EXPECT_TRUE(IsValueArg(RespValues::kFourth, 3, 4));  // SETEX k s v
  EXPECT_TRUE(IsValueArg(RespValues::kPairs, 2, 5));   // MSET k v k v
  EXPECT_TRUE(IsValueArg(RespValues::kPairs, 4, 5));
  EXPECT_FALSE(IsValueArg(RespValues::kPairs, 3, 5));
  EXPECT_FALSE(IsValueArg(RespValues::kPairs, 2, 4));  // a bad MSET stores nothing
  EXPECT_FALSE(IsValueArg(RespValues::kNone, 1, 2));
  // Each value's key: SETEX key seconds value keeps its key first.
  EXPECT_EQ(KeyArgOf(RespValues::kThird, 2), 1u);
  EXPECT_EQ(KeyArgOf(RespValues::kFourth, 3), 1u);
  EXPECT_EQ(KeyArgOf(RespValues::kPairs, 4), 3u);
}

TEST(RespCommands, IntegersAsRedisReadsThem) {
  EXPECT_EQ(ParseRedisInt("0"), 0);
  EXPECT_EQ(ParseRedisInt("-12"), -12);
  EXPECT_EQ(ParseRedisInt("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseRedisInt("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (std::string_view bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.5", "9223372036854775808",
                               "99999999999999999999", "123456789012345678901", "0x10"}) {
    EXPECT_FALSE(ParseRedisInt(bad).has_value()) << bad;
  }
}

TEST(RespCommands, SetOptionsAndTheirConflicts) {
  auto o = Parse({"nx", "GET", "px", "1500"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->condition, Condition::kIfAbsent);
  EXPECT_TRUE(o->get);
  EXPECT_EQ(o->expire, Expire::kMillis);
  EXPECT_EQ(o->expire_value, 1500);
  // The same option again replaces its value, as in Redis.
  ASSERT_TRUE(Parse({"EX", "1", "ex", "5"}).ok());
  EXPECT_EQ(Parse({"EX", "1", "ex", "5"})->expire_value, 5);
  ASSERT_TRUE(Parse({"XX", "KEEPTTL"}).ok());
  EXPECT_TRUE(Parse({"XX", "KEEPTTL"})->keep_ttl);
  for (auto bad : std::vector<std::vector<std::string_view>>{{"NX", "XX"},
                                                             {"EX", "1", "PX", "2"},
                                                             {"KEEPTTL", "EX", "1"},
                                                             {"EX", "1", "KEEPTTL"},
                                                             {"EX"},
                                                             {"FOO"},
                                                             {"EX", "abc", "FOO"}}) {
    auto r = Parse(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), kSyntaxErrorText);
  }
  // The integer is read once every option is known.
  auto r = Parse({"EX", "abc"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), kNotIntegerText);
}

TEST(RespCommands, ExpiriesRelativeAbsoluteAndInvalid) {
  const uint64_t now_ms = 1'700'000'000'000;
  SetOptions o;
  o.expire = Expire::kSeconds;
  o.expire_value = 10;
  EXPECT_EQ(ExpiryOf(o, now_ms, "set")->ttl_ms, 10'000u);
  o.expire = Expire::kAtMillis;
  o.expire_value = static_cast<int64_t>(now_ms + 250);
  EXPECT_EQ(ExpiryOf(o, now_ms, "set")->ttl_ms, 250u);
  o.expire_value = static_cast<int64_t>(now_ms - 1);
  EXPECT_TRUE(ExpiryOf(o, now_ms, "set")->already_expired);
  o.expire = Expire::kSeconds;
  for (int64_t bad : {int64_t{0}, int64_t{-5}, std::numeric_limits<int64_t>::max() / 1000 + 1}) {
    o.expire_value = bad;
    auto e = ExpiryOf(o, now_ms, "setex");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().message(), "invalid expire time in 'setex' command");
  }
  EXPECT_EQ(ExpiryOf(SetOptions{}, now_ms, "set")->ttl_ms, 0u);
  // A relative time that overflows once the time now is added.
  o.expire = Expire::kMillis;
  o.expire_value = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(ExpiryOf(o, now_ms, "set").ok());
}

TEST(RespCommands, ErrorTextsAsRedisWritesThem) {
  std::vector<std::string_view> args = {"a", "b"};
  EXPECT_EQ(UnknownCommandText("foo", args),
            "unknown command 'foo', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(UnknownCommandText("foo", {}), "unknown command 'foo', with args beginning with: ");
  // Redis lists arguments until 128 bytes, each cut to what is left.
  const std::string long_arg(300, 'x');
  std::vector<std::string_view> many = {long_arg, "next"};
  EXPECT_EQ(UnknownCommandText("foo", many),
            "unknown command 'foo', with args beginning with: '" + std::string(128, 'x') + "' ");
  EXPECT_EQ(WrongArityText("get"), "wrong number of arguments for 'get' command");
}

}  // namespace
}  // namespace ctxstore::protocol
