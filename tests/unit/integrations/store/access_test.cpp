// Who may read and write which attribute, as the store's configuration says it.
#include <gtest/gtest.h>

#include <strata/core/errors.h>
#include <strata/integrations/store/access.h>
#include <strata/integrations/store/store_service.h>

namespace strata::integrations::store {
namespace {

TEST(Who, ReadsLayersRangesNamesAndEveryone) {
  auto who = Who::parse("0-1, billing 3");
  EXPECT_TRUE(who.includes({"anyone", 0}));
  EXPECT_TRUE(who.includes({"anyone", 1}));
  EXPECT_FALSE(who.includes({"anyone", 2}));
  EXPECT_TRUE(who.includes({"anyone", 3}));
  EXPECT_TRUE(who.includes({"billing", 4}));
  EXPECT_FALSE(who.includes({"front", 4}));
  EXPECT_EQ(who.describe(), "0 1 3 billing");
  EXPECT_TRUE(Who::parse("*").includes({"x", 4}));
  EXPECT_FALSE(Who::parse("none").includes({"x", 0}));
}

TEST(Who, RefusesWhatItCannotRead) {
  for (const char* bad : {"", " , ", "5", "3-1", "0-9", "none 1", "-1"}) {
    EXPECT_THROW(Who::parse(bad), std::invalid_argument) << "'" << bad << "'";
  }
}

TEST(AccessRules, TheMostSpecificRuleWins) {
  AccessRules rules;
  EXPECT_TRUE(rules.mayRead("any", "thing", {"front", 4}));  // read: everyone
  EXPECT_FALSE(rules.mayWrite("any", "thing", {"front", 4}));  // write: layers 0-3
  EXPECT_TRUE(rules.mayWrite("any", "thing", {"app", 2}));

  rules.setCollection("accounts", {std::nullopt, Who::parse("*")});
  rules.setAttribute("accounts", "secret", {Who::parse("0-2"), std::nullopt});
  rules.setAttribute("accounts", "secret", {std::nullopt, Who::parse("0")});  // merged, not replaced
  EXPECT_TRUE(rules.mayWrite("accounts", "name", {"front", 4}));
  EXPECT_FALSE(rules.mayRead("accounts", "secret", {"front", 4}));
  EXPECT_TRUE(rules.mayRead("accounts", "secret", {"app", 2}));
  EXPECT_FALSE(rules.mayWrite("accounts", "secret", {"app", 2}));
  EXPECT_TRUE(rules.mayWrite("accounts", "secret", {"root", 0}));
  EXPECT_TRUE(rules.mayRead("accounts", "name", {"front", 4}));
}

TEST(StoreConfig, ReadsRulesAndNamesTheKeyOfABadValue) {
  auto config = StoreConfig::fromKeys({{"collection.accounts.attribute.secret.read", "0-2"},
                                       {"collection.accounts.write", "*"},
                                       {"retention", "50"}},
                                      "/tmp");
  EXPECT_FALSE(config.rules.mayRead("accounts", "secret", {"front", 4}));
  EXPECT_TRUE(config.rules.mayWrite("accounts", "name", {"front", 4}));
  EXPECT_EQ(config.database.retention, 50);
  EXPECT_EQ(config.database.database, "/tmp/store.db");

  auto fails = [](std::map<std::string, std::string> keys, const std::string& needle) {
    try {
      StoreConfig::fromKeys(keys, "/tmp");
      ADD_FAILURE() << "accepted " << keys.begin()->first;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails({{"collection.accounts.attribute.secret.read", "9"}}, "strata.plugin.store.collection.accounts.attribute.secret.read");
  fails({{"collection.accounts.colour", "red"}}, "collection.<name>.read|write");
  fails({{"collection.accounts.attribute..read", "1"}}, "names no attribute");
  fails({{"retention", "0"}}, "strata.plugin.store.retention must be a whole number");
  fails({{"connector", "mysql"}}, "sqlite or postgresql");
  fails({{"connector", "postgresql"}}, "must be set for postgresql");
}

}  // namespace
}  // namespace strata::integrations::store
