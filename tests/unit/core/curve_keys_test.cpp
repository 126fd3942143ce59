#include <strata/core/curve_keys.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include <strata/core/errors.h>

#include "temp_dir.h"

namespace strata::core {
namespace {

namespace fs = std::filesystem;

// The permission bits of path, as stat(2) reports them.
unsigned modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<unsigned>(st.st_mode & 07777);
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a file with exactly `mode`, whatever the process umask.
void writeWithMode(const fs::path& path, const std::string& text, unsigned mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), static_cast<mode_t>(mode)), 0);
}

// The exit code of the KeyError fn throws, or a failure if it throws none.
template <typename Fn>
ExitCode keyErrorCodeOf(Fn fn) {
  try {
    fn();
  } catch (const KeyError& e) {
    return e.exitCode();
  }
  ADD_FAILURE() << "expected KeyError";
  return ExitCode::kOk;
}

TEST(CurveKeys, GeneratedKeysAre40CharactersOfZ85) {
  KeyPair pair = generateKeyPair();
  EXPECT_EQ(pair.publicKey.z85().size(), PublicKey::kZ85Length);
  EXPECT_EQ(std::string(pair.secretKey.z85()).size(), PublicKey::kZ85Length);
}

TEST(CurveKeys, GeneratedPairsDiffer) {
  KeyPair a = generateKeyPair();
  KeyPair b = generateKeyPair();
  EXPECT_NE(a.publicKey, b.publicKey);
  EXPECT_NE(std::string(a.secretKey.z85()), std::string(b.secretKey.z85()));
}

TEST(CurveKeys, SecretKeyDerivesItsPublicKey) {
  KeyPair pair = generateKeyPair();
  EXPECT_EQ(pair.secretKey.publicKey(), pair.publicKey);
}

TEST(CurveKeys, PublicKeyOfKnownSecretKey) {
  // The test vector of the ZeroMQ CURVE examples (RFC 26): catches a derivation that is
  // merely self-consistent.
  SecretKey secret = SecretKey::fromZ85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs");
  EXPECT_EQ(secret.publicKey().z85(), "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
}

TEST(CurveKeys, MovedFromSecretKeyIsWiped) {
  SecretKey secret = SecretKey::fromZ85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs");
  SecretKey moved(std::move(secret));
  EXPECT_EQ(std::string(moved.z85()), "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs");
  // The old object must hold no copy of the key material.
  EXPECT_EQ(std::string(secret.z85()), "");  // reading a moved-from key is the point here
}

TEST(CurveKeys, FromZ85RejectsWrongLength) {
  EXPECT_THROW(PublicKey::fromZ85(""), KeyError);
  EXPECT_THROW(PublicKey::fromZ85(std::string(39, 'a')), KeyError);
  EXPECT_THROW(PublicKey::fromZ85(std::string(41, 'a')), KeyError);
  EXPECT_THROW(SecretKey::fromZ85(std::string(39, 'a')), KeyError);
}

TEST(CurveKeys, FromZ85RejectsNonZ85Characters) {
  EXPECT_THROW(PublicKey::fromZ85(std::string(40, '~')), KeyError);
  EXPECT_THROW(SecretKey::fromZ85(std::string(39, 'a') + " "), KeyError);
}

TEST(CurveKeys, WriteKeyPairCreatesSecretFile0600AndPublicFile0644) {
  test::TempDir dir;
  KeyPair pair = generateKeyPair();
  writeKeyPair(dir / "node", pair);

  ASSERT_TRUE(fs::exists(dir / "node.key"));
  ASSERT_TRUE(fs::exists(dir / "node.pub"));
  EXPECT_EQ(modeOf(dir / "node.key"), 0600u);
  EXPECT_EQ(modeOf(dir / "node.pub"), 0644u);
  EXPECT_EQ(readFile(dir / "node.key"), std::string(pair.secretKey.z85()) + "\n");
  EXPECT_EQ(readFile(dir / "node.pub"), pair.publicKey.z85() + "\n");
}

TEST(CurveKeys, WriteKeyPairRefusesToOverwriteExistingPair) {
  test::TempDir dir;
  KeyPair first = generateKeyPair();
  writeKeyPair(dir / "node", first);

  EXPECT_EQ(keyErrorCodeOf([&] { writeKeyPair(dir / "node", generateKeyPair()); }), ExitCode::kCantCreate);
  EXPECT_EQ(readFile(dir / "node.key"), std::string(first.secretKey.z85()) + "\n");
}

TEST(CurveKeys, WriteKeyPairRefusesWhenOnlyPublicFileExists) {
  // Writing the secret half next to someone else's public key would pair them wrongly.
  test::TempDir dir;
  std::ofstream(dir / "node.pub") << "existing\n";
  EXPECT_THROW(writeKeyPair(dir / "node", generateKeyPair()), KeyError);
  EXPECT_FALSE(fs::exists(dir / "node.key"));
}

TEST(CurveKeys, WriteKeyPairOverwritesWhenAskedAndResetsMode) {
  test::TempDir dir;
  writeKeyPair(dir / "node", generateKeyPair());
  ASSERT_EQ(::chmod((dir / "node.key").c_str(), 0644), 0);
  KeyPair second = generateKeyPair();
  writeKeyPair(dir / "node", second, /*overwrite=*/true);
  EXPECT_EQ(readFile(dir / "node.key"), std::string(second.secretKey.z85()) + "\n");
  EXPECT_EQ(modeOf(dir / "node.key"), 0600u);
}

TEST(CurveKeys, WriteKeyPairIntoMissingDirectoryThrowsKeyError) {
  test::TempDir dir;
  EXPECT_THROW(writeKeyPair(dir / "no" / "such" / "node", generateKeyPair()), KeyError);
}

TEST(CurveKeys, LoadSecretKeyReadsWrittenKey) {
  test::TempDir dir;
  KeyPair pair = generateKeyPair();
  writeKeyPair(dir / "node", pair);
  SecretKey loaded = loadSecretKey(dir / "node.key");
  EXPECT_EQ(std::string(loaded.z85()), std::string(pair.secretKey.z85()));
  EXPECT_EQ(loaded.publicKey(), pair.publicKey);
}

TEST(CurveKeys, LoadSecretKeyAcceptsMode0400) {
  test::TempDir dir;
  KeyPair pair = generateKeyPair();
  writeWithMode(dir / "ro.key", std::string(pair.secretKey.z85()) + "\n", 0400);
  EXPECT_EQ(loadSecretKey(dir / "ro.key").publicKey(), pair.publicKey);
}

TEST(CurveKeys, LoadSecretKeyRefusesGroupReadableFile) {
  test::TempDir dir;
  writeWithMode(dir / "g.key", std::string(generateKeyPair().secretKey.z85()) + "\n", 0640);
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "g.key"); }), ExitCode::kNoPermission);
}

TEST(CurveKeys, LoadSecretKeyRefusesWorldReadableFile) {
  test::TempDir dir;
  writeWithMode(dir / "o.key", std::string(generateKeyPair().secretKey.z85()) + "\n", 0604);
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "o.key"); }), ExitCode::kNoPermission);
}

TEST(CurveKeys, LoadSecretKeyRefusesGroupWritableFile) {
  test::TempDir dir;
  writeWithMode(dir / "w.key", std::string(generateKeyPair().secretKey.z85()) + "\n", 0620);
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "w.key"); }), ExitCode::kNoPermission);
}

TEST(CurveKeys, LoadSecretKeyErrorNamesModeAndFix) {
  test::TempDir dir;
  writeWithMode(dir / "g.key", std::string(generateKeyPair().secretKey.z85()) + "\n", 0640);
  try {
    loadSecretKey(dir / "g.key");
    FAIL() << "expected KeyError";
  } catch (const KeyError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("0640"), std::string::npos) << what;
    EXPECT_NE(what.find("chmod 600"), std::string::npos) << what;
  }
}

TEST(CurveKeys, LoadSecretKeyRejectsJunkContent) {
  test::TempDir dir;
  writeWithMode(dir / "junk.key", "this is not a key\n", 0600);
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "junk.key"); }), ExitCode::kDataError);
}

TEST(CurveKeys, LoadSecretKeyRejectsEmptyFile) {
  test::TempDir dir;
  writeWithMode(dir / "empty.key", "", 0600);
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "empty.key"); }), ExitCode::kDataError);
}

TEST(CurveKeys, LoadSecretKeyAcceptsCrLfLineEnd) {
  test::TempDir dir;
  KeyPair pair = generateKeyPair();
  writeWithMode(dir / "crlf.key", std::string(pair.secretKey.z85()) + "\r\n", 0600);
  EXPECT_EQ(loadSecretKey(dir / "crlf.key").publicKey(), pair.publicKey);
}

TEST(CurveKeys, LoadSecretKeyOfMissingFileThrowsNoInput) {
  test::TempDir dir;
  EXPECT_EQ(keyErrorCodeOf([&] { loadSecretKey(dir / "absent.key"); }), ExitCode::kNoInput);
}

TEST(CurveKeys, LoadPublicKeyReadsWrittenKey) {
  test::TempDir dir;
  KeyPair pair = generateKeyPair();
  writeKeyPair(dir / "node", pair);
  EXPECT_EQ(loadPublicKey(dir / "node.pub"), pair.publicKey);
}

TEST(CurveKeys, LoadPublicKeyRejectsJunkContent) {
  test::TempDir dir;
  std::ofstream(dir / "junk.pub") << "junk\n";
  EXPECT_EQ(keyErrorCodeOf([&] { loadPublicKey(dir / "junk.pub"); }), ExitCode::kDataError);
}

TEST(CurveKeys, LoadPublicKeyOfMissingFileThrowsNoInput) {
  test::TempDir dir;
  EXPECT_EQ(keyErrorCodeOf([&] { loadPublicKey(dir / "absent.pub"); }), ExitCode::kNoInput);
}

}  // namespace
}  // namespace strata::core
