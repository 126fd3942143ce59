#include <strata/core/authorized_keys.h>

#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>

#include "keys.h"
#include "temp_dir.h"

namespace strata::core {
namespace {

using test::freshKey;

// Replaces every "{k1}" / "{k2}" in text with the given keys, so table rows can be
// written before the keys exist.
std::string withKeys(std::string text, const PublicKey& k1, const PublicKey& k2) {
  for (auto [placeholder, key] : {std::pair{std::string_view("{k1}"), &k1}, std::pair{std::string_view("{k2}"), &k2}}) {
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder)) {
      text.replace(at, placeholder.size(), key->z85());
    }
  }
  return text;
}

class AuthorizedKeysTest : public ::testing::Test {
 protected:
  PublicKey k1_ = freshKey();
  PublicKey k2_ = freshKey();
  PublicKey k3_ = freshKey();
};

TEST_F(AuthorizedKeysTest, ChangedNamesAreThoseAReloadTakesRightsFrom) {
  PublicKey k4 = freshKey();
  auto before = AuthorizedKeys::parse(k1_.z85() + " web 4\n" + k2_.z85() + " db 1\n" + k3_.z85() + " gone 2\n" +
                                      k4.z85() + " same 3\n");
  PublicKey replacement = freshKey();
  // web's key replaced, db's layer changed, gone removed, same untouched, fresh added.
  auto after = AuthorizedKeys::parse(replacement.z85() + " web 4\n" + k2_.z85() + " db 2\n" + k4.z85() +
                                     " same 3\n" + freshKey().z85() + " fresh 4\n");
  EXPECT_EQ(AuthorizedKeys::changedNames(before, after), (std::vector<std::string>{"db", "gone", "web"}));
  EXPECT_TRUE(AuthorizedKeys::changedNames(before, before).empty());
  EXPECT_EQ(after.lookup(replacement.z85())->name, "web");
  EXPECT_EQ(after.lookup(k1_.z85()), nullptr);
}

TEST_F(AuthorizedKeysTest, ParsesEntriesBetweenCommentsAndBlankLines) {
  std::string text = "# who may connect\n"
                     "\n" +
                     k1_.z85() + " web 4   # the front end\n" +
                     "   \t  \n" + k2_.z85() + "\tdb\t1\n" +
                     "  # indented comment\n" + k3_.z85() + " reports.module_3 3";  // no final newline
  AuthorizedKeys keys = AuthorizedKeys::parse(text);

  EXPECT_EQ(keys.size(), 3u);
  auto web = keys.find(k1_.z85());
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->name, "web");
  EXPECT_EQ(web->layer, 4);
  auto db = keys.find(k2_.z85());
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->name, "db");
  EXPECT_EQ(db->layer, 1);
  auto reports = keys.find(k3_.z85());
  ASSERT_TRUE(reports.has_value());
  EXPECT_EQ(reports->name, "reports.module_3");
  EXPECT_EQ(reports->layer, 3);
}

TEST_F(AuthorizedKeysTest, FindByNameReturnsLayer) {
  AuthorizedKeys keys = AuthorizedKeys::parse(k1_.z85() + " web 4\n" + k2_.z85() + " db 0\n");
  auto db = keys.findByName("db");
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->name, "db");
  EXPECT_EQ(db->layer, 0);
  EXPECT_FALSE(keys.findByName("nobody").has_value());
}

TEST_F(AuthorizedKeysTest, FindOfUnlistedKeyIsEmpty) {
  AuthorizedKeys keys = AuthorizedKeys::parse(k1_.z85() + " web 4\n");
  EXPECT_FALSE(keys.find(k2_.z85()).has_value());
}

TEST_F(AuthorizedKeysTest, FileOfOnlyCommentsIsEmpty) {
  AuthorizedKeys keys = AuthorizedKeys::parse("# nobody yet\n\n   \n");
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(keys.size(), 0u);
}

TEST_F(AuthorizedKeysTest, AddMakesKeyFindable) {
  AuthorizedKeys keys;
  keys.add(k1_, Identity{"cli", 4});
  ASSERT_TRUE(keys.find(k1_.z85()).has_value());
  EXPECT_EQ(keys.find(k1_.z85())->name, "cli");
  EXPECT_EQ(keys.findByName("cli")->layer, 4);
}

TEST_F(AuthorizedKeysTest, LoadReadsFile) {
  test::TempDir dir;
  auto path = dir / "authorized_keys";
  std::ofstream(path) << "# test\n" << k1_.z85() << " web 4\n";
  AuthorizedKeys keys = AuthorizedKeys::load(path);
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.find(k1_.z85())->name, "web");
}

TEST_F(AuthorizedKeysTest, LoadErrorNamesFileAndLine) {
  test::TempDir dir;
  auto path = dir / "keys.txt";
  std::ofstream(path) << k1_.z85() << " web 4\n" << k2_.z85() << " db 9\n";
  try {
    AuthorizedKeys::load(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ":2:"), std::string::npos) << e.what();
  }
}

TEST_F(AuthorizedKeysTest, LoadOfMissingFileThrowsConfigError) {
  test::TempDir dir;
  EXPECT_THROW(AuthorizedKeys::load(dir / "absent"), ConfigError);
}

// Z85 uses '#' as one of its 85 characters, and about a third of generated keys contain
// one. A Z85 key never starts with '#' (the first character of each 5-character group
// encodes a value below 83, and '#' is 84), so only a '#' that starts a field is a comment.
TEST_F(AuthorizedKeysTest, AcceptsKeyContainingHash) {
  std::string z85;
  do {
    z85 = generateKeyPair().publicKey.z85();
  } while (z85.find('#') == std::string::npos);
  AuthorizedKeys keys = AuthorizedKeys::parse(z85 + " web 4  # the front end\n");
  ASSERT_TRUE(keys.find(z85).has_value());
  EXPECT_EQ(keys.find(z85)->name, "web");
}

// ---- Malformed lines ----

struct BadLine {
  std::string name;
  std::string line;      // may use {k1} (already on line 2) and {k2} (not listed yet)
  std::string message;   // a piece of the expected error text
};

void PrintTo(const BadLine& c, std::ostream* os) { *os << c.name; }

class AuthorizedKeysBadLine : public ::testing::TestWithParam<BadLine> {
 protected:
  PublicKey k1_ = freshKey();
  PublicKey k2_ = freshKey();
};

TEST_P(AuthorizedKeysBadLine, ThrowsConfigErrorNamingLineThree) {
  // Line 1 a comment, line 2 a good entry, line 3 the bad one, line 4 good again: the
  // error must name line 3, not the first or last line, nor count only entries.
  std::string text = withKeys("# header\n{k1} web 4\n" + GetParam().line + "\n" +
                                  freshKey().z85() + " later 2\n",
                              k1_, k2_);
  try {
    AuthorizedKeys::parse(text, "test_keys");
    FAIL() << "expected ConfigError for: " << GetParam().line;
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("test_keys:3: "), std::string::npos) << what;
    EXPECT_NE(what.find(GetParam().message), std::string::npos) << what;
    EXPECT_EQ(e.exitCode(), ExitCode::kConfig);
  }
}

struct BadLineName {
  std::string operator()(const ::testing::TestParamInfo<BadLine>& param) const { return param.param.name; }
};

INSTANTIATE_TEST_SUITE_P(
    AuthorizedKeys, AuthorizedKeysBadLine,
    ::testing::Values(
        BadLine{"KeyOnly", "{k2}", "expected '<public key> <name> <layer>'"},
        BadLine{"MissingLayer", "{k2} db", "expected '<public key> <name> <layer>'"},
        BadLine{"MissingLayerBeforeComment", "{k2} db # layer 1", "expected '<public key> <name> <layer>'"},
        BadLine{"TextAfterLayer", "{k2} db 1 extra", "unexpected text after the layer: 'extra'"},
        BadLine{"ShortKey", "abcdef db 1", "not a Z85 CURVE public key"},
        BadLine{"KeyOf41Characters", "{k2}x db 1", "not a Z85 CURVE public key"},
        BadLine{"KeyWithNonZ85Characters", std::string(40, '~') + " db 1", "not a Z85 CURVE public key"},
        BadLine{"NameWithSlash", "{k2} d/b 1", "bad name 'd/b'"},
        BadLine{"NameOf65Characters", "{k2} " + std::string(65, 'n') + " 1", "bad name"},
        BadLine{"LayerFive", "{k2} db 5", "layer must be 0 to 4, not '5'"},
        BadLine{"LayerNegative", "{k2} db -1", "layer must be 0 to 4, not '-1'"},
        BadLine{"LayerLetter", "{k2} db x", "layer must be 0 to 4, not 'x'"},
        BadLine{"LayerWithLeadingZero", "{k2} db 01", "layer must be 0 to 4, not '01'"},
        BadLine{"DuplicateKey", "{k1} other 1", "key listed twice"},
        BadLine{"DuplicateName", "{k2} web 1", "name 'web' listed twice"}),
    BadLineName{});

}  // namespace
}  // namespace strata::core
