#include <strata/nodes/plugin_host.h>

#include <fstream>

#include <gtest/gtest.h>

#include <strata/core/errors.h>

#include "../core/temp_dir.h"

namespace strata::nodes {
namespace {

const std::filesystem::path kTestPlugins = TEST_PLUGIN_DIR;
const std::filesystem::path kPlugins = STRATA_PLUGIN_DIR;

WorkerOptions options() {
  WorkerOptions o;
  o.name = "host-test";
  o.layer = 2;
  return o;
}

PluginSpec spec(const std::string& name, const std::filesystem::path& path, std::map<std::string, std::string> config = {}) {
  return PluginSpec{name, path, 2, std::move(config)};
}

class PluginHostTest : public ::testing::Test {
 protected:
  core::test::TempDir data_;
  Node node_{options(), std::nullopt};
  PluginHost host_{node_, data_.path()};

  // Starts the node at the first call: services are added before, calls made after.
  Response call(const std::string& service, std::string body) { return call(OutgoingRequest{service, {std::move(body)}, {}, {}, {}}); }
  Response call(OutgoingRequest request) {
    if (!started_) node_.start();
    started_ = true;
    return node_.call(std::move(request));
  }
  bool started_ = false;
};

TEST_F(PluginHostTest, LoadsAPluginAndServesItsServiceWithItsConfig) {
  auto failure = host_.load(spec("greeter", kPlugins / "libstrata_greeter.so", {{"greeting", "good morning"}}));
  ASSERT_FALSE(failure) << *failure;
  auto response = call("greet", "Ada");
  ASSERT_TRUE(response.ok) << response.errorText;
  EXPECT_EQ(response.bodyText(), "good morning, Ada");
  auto loaded = host_.loaded();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].name, "greeter");
  EXPECT_EQ(loaded[0].services, std::vector<std::string>{"greet"});
}

TEST_F(PluginHostTest, AHandlersServiceErrorKeepsItsCode) {
  ASSERT_FALSE(host_.load(spec("greeter", kPlugins / "libstrata_greeter.so")));
  auto response = call("greet", "");
  EXPECT_FALSE(response.ok);
  EXPECT_EQ(response.errorCode, ErrorCode::kMalformed);
  EXPECT_EQ(response.errorText, "greet needs a name");
}

TEST_F(PluginHostTest, LoadsAPluginWrittenInPlainC) {
  auto failure = host_.load(spec("c_upper", kTestPlugins / "libtest_c_plugin.so", {{"suffix", "!"}}));
  ASSERT_FALSE(failure) << *failure;
  auto response = call(OutgoingRequest{"c.upper", {"abc", "def"}, {}, {}, {}});
  ASSERT_TRUE(response.ok) << response.errorText;
  EXPECT_EQ(response.body, (Body{"ABC", "DEF", "!"}));
}

TEST_F(PluginHostTest, RefusesAnotherAbiVersionBeforeCallingAnythingElse) {
  // bad_abi's describe() aborts: getting a message back proves it was never called.
  auto failure = host_.load(spec("bad", kTestPlugins / "libtest_bad_abi.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("built for plug-in ABI version " + std::to_string(STRATA_PLUGIN_ABI_VERSION + 1)),
            std::string::npos)
      << *failure;
  EXPECT_NE(failure->find("rebuild it"), std::string::npos);
  EXPECT_TRUE(host_.loaded().empty());
}

TEST_F(PluginHostTest, ReportsAMissingFileWithTheKeyToSet) {
  auto failure = host_.load(spec("sqll", kPlugins / "libstrata_sqll.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("no such file"), std::string::npos) << *failure;
  EXPECT_NE(failure->find("strata.plugin.sqll.path"), std::string::npos) << *failure;
}

TEST_F(PluginHostTest, ReportsALibraryThatIsNoPlugin) {
  auto failure = host_.load(spec("other", kTestPlugins / "libtest_not_a_plugin.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("not a Strata plug-in"), std::string::npos) << *failure;
}

TEST_F(PluginHostTest, ReportsAFileThatIsNoLibrary) {
  auto junk = data_.path() / "libstrata_junk.so";
  std::ofstream(junk) << "not an ELF file";
  auto failure = host_.load(spec("junk", junk));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("cannot load it"), std::string::npos) << *failure;
}

TEST_F(PluginHostTest, RefusesAnUnknownConfigKeyNamingTheKnownOnes) {
  auto failure = host_.load(spec("greeter", kPlugins / "libstrata_greeter.so", {{"greting", "hi"}}));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("unknown key strata.plugin.greeter.greting (it reads: greeting)"), std::string::npos)
      << *failure;
  EXPECT_FALSE(node_.hosts("greet"));
}

TEST_F(PluginHostTest, AFailedStartLeavesNothingAndTheOthersKeepRunning) {
  auto failure = host_.load(spec("failing_start", kTestPlugins / "libtest_failing_start.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("start failed: database unreachable"), std::string::npos) << *failure;
  EXPECT_FALSE(node_.hosts("failing.service"));
  ASSERT_FALSE(host_.load(spec("greeter", kPlugins / "libstrata_greeter.so")));
  EXPECT_TRUE(call("greet", "x").ok);
  ASSERT_EQ(host_.loaded().size(), 1u);
}

TEST_F(PluginHostTest, ABadServiceNameFailsThatPluginOnly) {
  auto failure = host_.load(spec("bad_service_name", kTestPlugins / "libtest_bad_service_name.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("start failed: the node refused service 'has space'"), std::string::npos) << *failure;
  ASSERT_FALSE(host_.load(spec("greeter", kPlugins / "libstrata_greeter.so")));
  EXPECT_TRUE(call("greet", "x").ok);
}

// Names the wire cannot carry, or reserved, are refused when the plug-in offers them, by
// the same rule the codec applies: never accepted here and then fatal at Node::start.
TEST_F(PluginHostTest, RefusesAtLoadEveryNameTheWireWouldRefuse) {
  int n = 0;
  for (const std::string& name : std::vector<std::string>{"a:b", "a/b", "caf\xC3\xA9", "strata.mine", std::string(256, 'x')}) {
    auto failure = host_.load(spec("bad" + std::to_string(++n), kTestPlugins / "libtest_bad_service_name.so",
                                   {{"service", name}}));
    ASSERT_TRUE(failure) << name;
    EXPECT_NE(failure->find("start failed: the node refused service"), std::string::npos) << *failure;
  }
  EXPECT_TRUE(host_.loaded().empty());
  ASSERT_FALSE(host_.load(spec("greeter", kPlugins / "libstrata_greeter.so")));
  EXPECT_TRUE(call("greet", "x").ok);  // the node starts, with what was accepted
}

TEST_F(PluginHostTest, ASecondPluginOfferingATakenServiceFails) {
  ASSERT_FALSE(host_.load(spec("greeter", kPlugins / "libstrata_greeter.so")));
  auto failure = host_.load(spec("greeter2", kPlugins / "libstrata_greeter.so"));
  ASSERT_TRUE(failure);
  EXPECT_NE(failure->find("start failed"), std::string::npos) << *failure;
  EXPECT_EQ(host_.loaded().size(), 1u);
}

TEST_F(PluginHostTest, ALayer3ModuleIsCalledInProcessAndOfferedToNoBroker) {
  auto pricing = spec("pricing", kPlugins / "libstrata_pricing.so", {{"discount_percent", "10"}});
  pricing.layer = 3;
  ASSERT_FALSE(host_.load(pricing));
  ASSERT_FALSE(host_.load(spec("orders", kPlugins / "libstrata_orders.so")));
  auto services = node_.services();
  EXPECT_EQ(services, (std::vector<std::pair<std::string, Node::Reach>>{{"orders.place", Node::Reach::kServed},
                                                                        {"pricing.quote", Node::Reach::kLocal}}));
  auto response = call("orders.place", "apple 10\npear 5\n");
  ASSERT_TRUE(response.ok) << response.errorText;
  EXPECT_EQ(response.bodyText(), "total 675");  // (450 + 300) less 10 %
  EXPECT_EQ(node_.localCalls(), 3u);           // the order and its two quotes, no socket
  auto refused = call("orders.place", "apple 0\n");
  EXPECT_EQ(refused.errorCode, ErrorCode::kMalformed);
  EXPECT_NE(refused.errorText.find("line 1: quantity"), std::string::npos) << refused.errorText;
}

core::Config configOf(const std::string& text, const core::test::TempDir& dir) {
  auto file = dir.path() / "node.properties";
  std::ofstream(file) << text;
  return core::Config::load(file.string());
}

TEST(PluginSpecs, FindPluginsByNameInThePluginDirAndKeepTheirKeys) {
  core::test::TempDir dir;
  auto specs = pluginSpecsFrom(configOf("strata.plugins = sql, pricing\n"
                                        "strata.plugin.sql.database = notes.db\n"
                                        "strata.plugin.pricing.layer = 3\n"
                                        "strata.plugin.pricing.path = /opt/pricing.so\n",
                                        dir),
                               "/usr/lib/strata/plugins");
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].path, "/usr/lib/strata/plugins/libstrata_sql.so");
  EXPECT_EQ(specs[0].config, (std::map<std::string, std::string>{{"database", "notes.db"}}));
  EXPECT_EQ(specs[0].layer, 2);
  EXPECT_EQ(specs[1].path, "/opt/pricing.so");
  EXPECT_EQ(specs[1].layer, 3);
  EXPECT_TRUE(specs[1].config.empty());
}

TEST(PluginSpecs, RefuseSettingsForAPluginNotListed) {
  core::test::TempDir dir;
  try {
    pluginSpecsFrom(configOf("strata.plugins = sql\nstrata.plugin.sqll.database = x\n", dir), "/p");
    FAIL() << "accepted settings for an unlisted plug-in";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sqll.database configures plug-in 'sqll'"), std::string::npos)
        << e.what();
  }
}

TEST(PluginSpecs, RefuseALayerAboveThreeAndAPluginListedTwice) {
  core::test::TempDir dir;
  EXPECT_THROW(pluginSpecsFrom(configOf("strata.plugins = a\nstrata.plugin.a.layer = 4\n", dir), "/p"), ConfigError);
  EXPECT_THROW(pluginSpecsFrom(configOf("strata.plugins = a, a\n", dir), "/p"), ConfigError);
}

}  // namespace
}  // namespace strata::nodes
