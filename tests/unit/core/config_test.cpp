#include <strata/core/config.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/core/errors.h>
#include <strata/core/limits.h>

#include "temp_dir.h"

namespace strata::core {
namespace {

using namespace std::chrono_literals;

// Writes `text` to a file in a fresh temp dir and loads it with the given overrides.
class ConfigTest : public ::testing::Test {
 protected:
  Config load(const std::string& text, const std::vector<std::string>& defines = {},
              const std::string& fileName = "strata.properties") {
    auto path = dir_ / fileName;
    std::ofstream(path) << text;
    return Config::load(path.string(), defines);
  }

  // The message of the ConfigError that fn throws, or a failure if it throws none.
  template <typename Fn>
  static std::string configErrorOf(Fn fn) {
    try {
      fn();
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError";
    return {};
  }

  test::TempDir dir_;
};

TEST_F(ConfigTest, LoadsPropertiesFile) {
  Config config = load("# broker settings\n"
                       "strata.broker.bind = tcp://127.0.0.1:5555, ipc:///tmp/strata.sock\n"
                       "strata.queue.max = 100\n");
  EXPECT_EQ(config.getString("strata.broker.bind"), "tcp://127.0.0.1:5555, ipc:///tmp/strata.sock");
  EXPECT_EQ(config.getList("strata.broker.bind"),
            (std::vector<std::string>{"tcp://127.0.0.1:5555", "ipc:///tmp/strata.sock"}));
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 100);
}

TEST_F(ConfigTest, LoadsIniFile) {
  Config config = load("[strata]\nqueue.max = 7\n", {}, "broker.ini");
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 7);
}

TEST_F(ConfigTest, LoadsJsonFile) {
  Config config = load(R"({"strata": {"queue": {"max": 9}}})", {}, "broker.json");
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 9);
}

TEST_F(ConfigTest, DefineOverridesFileValue) {
  Config config = load("strata.queue.max = 10\n", {"strata.queue.max=20"});
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 20);
}

TEST_F(ConfigTest, DefineAddsKeyAbsentFromFile) {
  Config config = load("strata.queue.max = 10\n", {" strata.log.level = debug "});
  EXPECT_EQ(config.getString("strata.log.level"), "debug");
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 10);
}

TEST_F(ConfigTest, DefinesWorkWithoutFile) {
  Config config = Config::load("", {"strata.queue.max=3"});
  EXPECT_EQ(config.getInt("strata.queue.max", 0, 1, 1000), 3);
}

TEST_F(ConfigTest, DefineWithoutEqualsThrowsConfigError) {
  EXPECT_THROW(load("", {"strata.queue.max"}), ConfigError);
  EXPECT_THROW(load("", {"=5"}), ConfigError);
}

TEST_F(ConfigTest, MissingFileThrowsConfigError) {
  std::string message = configErrorOf([&] { Config::load((dir_ / "absent.properties").string()); });
  EXPECT_NE(message.find("absent.properties"), std::string::npos) << message;
}

TEST_F(ConfigTest, MalformedJsonThrowsConfigError) {
  EXPECT_THROW(load("{ not json", {}, "broken.json"), ConfigError);
}

TEST_F(ConfigTest, KnownKeysPass) {
  Config config = load("strata.broker.bind = tcp://127.0.0.1:5555\n"
                       "strata.limits.max_frames = 32\n"
                       "strata.policy.default = 4:2\n"
                       "other.tool.setting = x\n");  // only strata.* keys are checked
  EXPECT_NO_THROW(config.checkKnownKeys(brokerKeys()));
}

TEST_F(ConfigTest, UnknownKeyIsRefusedWithSuggestion) {
  Config config = load("strata.queue.mx = 5\n");
  std::string message = configErrorOf([&] { config.checkKnownKeys(brokerKeys()); });
  EXPECT_NE(message.find("unknown configuration key 'strata.queue.mx'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'strata.queue.max'"), std::string::npos) << message;
}

TEST_F(ConfigTest, UnknownDefinedKeyIsRefused) {
  // A typo on the command line is as dangerous as one in the file.
  Config config = load("", {"strata.heartbeat_sm=100"});
  std::string message = configErrorOf([&] { config.checkKnownKeys(nodeKeys()); });
  EXPECT_NE(message.find("did you mean 'strata.heartbeat_ms'"), std::string::npos) << message;
}

TEST_F(ConfigTest, FarOffUnknownKeyIsRefusedWithoutSuggestion) {
  Config config = load("strata.completely.different = 1\n");
  std::string message = configErrorOf([&] { config.checkKnownKeys(brokerKeys()); });
  EXPECT_NE(message.find("strata.completely.different"), std::string::npos) << message;
  EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
}

TEST_F(ConfigTest, PrefixKeyAcceptsAnyServiceName) {
  Config config = load("strata.policy.echo = 4,2\nstrata.policy.sql.query = 2\n");
  EXPECT_NO_THROW(config.checkKnownKeys(brokerKeys()));
}

TEST_F(ConfigTest, PrefixKeyIsRefusedByProgramWithoutIt) {
  // Clients have no policy: the same line in a client's file is a mistake.
  Config config = load("strata.policy.echo = 4,2\n");
  EXPECT_THROW(config.checkKnownKeys(clientKeys()), ConfigError);
}

TEST_F(ConfigTest, KeyOfOneProgramIsRefusedByAnother) {
  Config config = load("strata.broker.bind = tcp://127.0.0.1:5555\n");
  EXPECT_NO_THROW(config.checkKnownKeys(brokerKeys()));
  EXPECT_THROW(config.checkKnownKeys(clientKeys()), ConfigError);
}

TEST_F(ConfigTest, KeysUnderListsPrefixKeysWithoutPrefix) {
  Config config = load("strata.policy.echo = 4\nstrata.policy.sql.query = 2\nstrata.queue.max = 1\n");
  auto keys = config.keysUnder("strata.policy.");
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"echo", "sql.query"}));
}

TEST_F(ConfigTest, GetIntReturnsFallbackWhenAbsent) {
  Config config = load("");
  EXPECT_EQ(config.getInt("strata.queue.max", 42, 1, 100), 42);
}

TEST_F(ConfigTest, GetIntAcceptsRangeEnds) {
  Config config = load("strata.a = 1\nstrata.b = 100\n");
  EXPECT_EQ(config.getInt("strata.a", 0, 1, 100), 1);
  EXPECT_EQ(config.getInt("strata.b", 0, 1, 100), 100);
}

TEST_F(ConfigTest, GetIntBelowMinimumThrowsConfigErrorNamingKeyAndRange) {
  Config config = load("strata.queue.max = 0\n");
  std::string message = configErrorOf([&] { config.getInt("strata.queue.max", 10, 1, 100); });
  EXPECT_NE(message.find("strata.queue.max"), std::string::npos) << message;
  EXPECT_NE(message.find("must be a whole number from 1 to 100, not '0'"), std::string::npos) << message;
}

TEST_F(ConfigTest, GetIntAboveMaximumThrowsConfigError) {
  Config config = load("strata.queue.max = 101\n");
  EXPECT_THROW(config.getInt("strata.queue.max", 10, 1, 100), ConfigError);
}

TEST_F(ConfigTest, GetIntOfTextThrowsConfigError) {
  Config config = load("strata.a = ten\nstrata.b = 10ms\nstrata.c = 99999999999999999999999\n");
  EXPECT_THROW(config.getInt("strata.a", 0, 0, 100), ConfigError);
  EXPECT_THROW(config.getInt("strata.b", 0, 0, 100), ConfigError);
  EXPECT_THROW(config.getInt("strata.c", 0, 0, 100), ConfigError);
}

TEST_F(ConfigTest, GetMillisRefusesZero) {
  Config config = load("strata.heartbeat_ms = 0\n");
  EXPECT_THROW(config.getMillis("strata.heartbeat_ms", 1000ms), ConfigError);
}

TEST_F(ConfigTest, GetMillisReadsMilliseconds) {
  Config config = load("strata.heartbeat_ms = 250\n");
  EXPECT_EQ(config.getMillis("strata.heartbeat_ms", 1000ms), 250ms);
  EXPECT_EQ(config.getMillis("strata.timeout_ms", 1000ms), 1000ms);
}

TEST_F(ConfigTest, GetStringOfMissingKeyThrowsRequired) {
  Config config = load("");
  std::string message = configErrorOf([&] { config.getString("strata.key"); });
  EXPECT_NE(message.find("'strata.key' is required"), std::string::npos) << message;
}

TEST_F(ConfigTest, GetStringOfBlankValueThrowsConfigError) {
  Config config = load("strata.key =   \n");
  EXPECT_THROW(config.getString("strata.key"), ConfigError);
}

TEST_F(ConfigTest, GetStringFallbackUsedOnlyWhenAbsent) {
  Config config = load("strata.log.level = debug\n");
  EXPECT_EQ(config.getString("strata.log.level", "information"), "debug");
  EXPECT_EQ(config.getString("strata.key", "none"), "none");
}

TEST_F(ConfigTest, GetBoolParsesAndRefusesJunk) {
  Config config = load("strata.a = true\nstrata.b = false\nstrata.c = maybe\n");
  EXPECT_TRUE(config.getBool("strata.a", false));
  EXPECT_FALSE(config.getBool("strata.b", true));
  EXPECT_TRUE(config.getBool("strata.absent", true));
  EXPECT_THROW(config.getBool("strata.c", false), ConfigError);
}

TEST_F(ConfigTest, LimitsDefaultWhenUnset) {
  Limits limits = load("").limits();
  EXPECT_EQ(limits.maxFrameSize, Limits::kDefaultMaxFrameSize);
  EXPECT_EQ(limits.maxFrames, Limits::kDefaultMaxFrames);
  EXPECT_EQ(limits.maxMessageSize, Limits::kDefaultMaxMessageSize);
  EXPECT_EQ(limits.handshake, Limits::kDefaultHandshake);
}

TEST_F(ConfigTest, LimitsTakeOverrides) {
  Limits limits = load("strata.limits.max_frame_size = 1024\n"
                       "strata.limits.max_frames = 16\n",
                       {"strata.limits.max_message_size=4096", "strata.limits.handshake_ms=250"})
                      .limits();
  EXPECT_EQ(limits.maxFrameSize, 1024u);
  EXPECT_EQ(limits.maxFrames, 16u);
  EXPECT_EQ(limits.maxMessageSize, 4096u);
  EXPECT_EQ(limits.handshake, 250ms);
}

TEST_F(ConfigTest, LimitsOutOfRangeThrowConfigError) {
  EXPECT_THROW(load("strata.limits.max_frames = 7\n").limits(), ConfigError);
  EXPECT_THROW(load("strata.limits.max_frame_size = 63\n").limits(), ConfigError);
  EXPECT_THROW(load("strata.limits.handshake_ms = 0\n").limits(), ConfigError);
}

TEST(SplitList, TrimsItemsAndDropsEmptyOnes) {
  EXPECT_EQ(splitList(" a, b ,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(splitList("x;y", ';'), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(splitList("").empty());
  EXPECT_TRUE(splitList(" , ").empty());
}

TEST(ConfigKeys, EveryProgramAcceptsTheCommonKeys) {
  for (const auto* keys : {&brokerKeys(), &nodeKeys(), &clientKeys()}) {
    bool hasKey = false;
    for (const auto& spec : *keys) hasKey = hasKey || spec.name == "strata.key";
    EXPECT_TRUE(hasKey);
  }
}

TEST(ConfigKeys, EveryKeyHasHelpText) {
  for (const auto* keys : {&brokerKeys(), &nodeKeys(), &clientKeys()}) {
    for (const auto& spec : *keys) {
      EXPECT_FALSE(spec.help.empty()) << spec.name;
      EXPECT_TRUE(spec.name.starts_with("strata.")) << spec.name;
    }
  }
}

}  // namespace
}  // namespace strata::core
