#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <strata/core/errors.h>
#include <strata/integrations/http/token_table.h>

namespace strata::integrations::http {
namespace {

constexpr const char* kGood =
    "# the gateway's callers\n"
    "s3cr3t-token-for-alice-0001 alice 4   # front end\n"
    "\n"
    "  bearer.token_of~bob+/== bob 2\r\n";

std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(TokenTable, ParsesTokensNamesAndLayersAndSkipsComments) {
  auto table = TokenTable::parse(kGood);
  EXPECT_EQ(table.size(), 2u);
  auto alice = table.find("s3cr3t-token-for-alice-0001");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->layer, 4);
  auto bob = table.find("bearer.token_of~bob+/==");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->name, "bob");
  EXPECT_EQ(bob->layer, 2);
}

TEST(TokenTable, FindsNothingForAnUnknownEmptyOrPrefixToken) {
  auto table = TokenTable::parse(kGood);
  EXPECT_FALSE(table.find(""));
  EXPECT_FALSE(table.find("s3cr3t-token-for-alice-000"));
  EXPECT_FALSE(table.find("s3cr3t-token-for-alice-0001 "));
  EXPECT_FALSE(table.find("alice"));
}

TEST(TokenTable, RefusesMalformedLinesWithTheLineNumberButNeverTheToken) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"only-a-token-0123456789\n", "line 1"},
      {"# c\nshort alice 4\n", "line 2"},
      {"token-with-a-\x01-byte-123 alice 4\n", "line 1"},
      {"a-perfectly-long-token-1 al:ice 4\n", "a name is"},
      {"a-perfectly-long-token-1 alice 5\n", "layer must be 0 to 4"},
      {"a-perfectly-long-token-1 alice four\n", "layer must be 0 to 4"},
      {"a-perfectly-long-token-1 alice 4 extra\n", "expected"},
      {"a-perfectly-long-token-1 alice 4\na-perfectly-long-token-1 bob 2\n", "already listed"},
  };
  for (const auto& c : cases) {
    auto message = messageOf([&] { TokenTable::parse(c.text, "tokens.txt"); });
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.text << " -> " << message;
    EXPECT_NE(message.find("tokens.txt"), std::string::npos) << message;
    EXPECT_EQ(message.find("a-perfectly-long-token-1"), std::string::npos) << message;
  }
}

class TokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path = std::filesystem::temp_directory_path() / ("strata-http-tokens-" + std::to_string(::getpid()));
    std::ofstream(path) << kGood;
  }
  void TearDown() override { std::filesystem::remove(path); }
  std::filesystem::path path;
};

TEST_F(TokenFile, LoadsAFileOnlyItsOwnerMayRead) {
  ::chmod(path.c_str(), 0600);
  EXPECT_EQ(TokenTable::load(path).size(), 2u);
}

TEST_F(TokenFile, RefusesAFileThatGroupOrOthersMayRead) {
  for (mode_t mode : {0640, 0604, 0660}) {
    ::chmod(path.c_str(), mode);
    auto message = messageOf([&] { TokenTable::load(path); });
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
  }
  ::chmod(path.c_str(), 0644);
  EXPECT_THROW(TokenTable::load(path), KeyError);
}

TEST_F(TokenFile, RefusesAMissingFile) { EXPECT_THROW(TokenTable::load(path.string() + ".nothing"), KeyError); }

}  // namespace
}  // namespace strata::integrations::http
