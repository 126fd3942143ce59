// SmtpConfig: defaults, every refused value naming its key, and the password file rules.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include <strata/core/errors.h>
#include <strata/integrations/smtp/smtp_config.h>

namespace strata::integrations::smtp {
namespace {

SmtpConfig load(const std::map<std::string, std::string>& keys) {
  return SmtpConfig::load(
      [&keys](const std::string& key) -> std::optional<std::string> {
        auto it = keys.find(key);
        if (it == keys.end()) return std::nullopt;
        return it->second;
      },
      "/var/lib/strata");
}

std::string errorOf(const std::map<std::string, std::string>& keys) {
  try {
    load(keys);
  } catch (const strata::Error& e) {
    return e.what();
  }
  return "";
}

std::filesystem::path passwordFile(mode_t mode) {
  auto path = std::filesystem::temp_directory_path() / ("smtp-password-" + std::to_string(::getpid()) + "-" + std::to_string(mode));
  std::ofstream(path) << "s3cret\n";
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(SmtpConfig, HasSafeDefaults) {
  auto config = load({});
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 25);
  EXPECT_EQ(config.startTls, SmtpConfig::StartTls::kOff);
  EXPECT_EQ(config.outbox, "/var/lib/strata/smtp-outbox.db");
  EXPECT_EQ(config.timeout, SmtpConfig::kDefaultTimeout);
  EXPECT_EQ(config.maxAttempts, SmtpConfig::kDefaultMaxAttempts);
  EXPECT_FALSE(config.heloName.empty());
}

TEST(SmtpConfig, ReadsEveryKey) {
  auto password = passwordFile(0600);
  auto config = load({{"host", "relay.example"}, {"port", "587"}, {"starttls", "required"}, {"username", "u"},
                      {"password_file", password.string()}, {"from", "Node <n@n.example>"}, {"helo", "node.example"},
                      {"timeout_ms", "5000"}, {"retry_ms", "250"}, {"max_attempts", "3"}, {"outbox", "/tmp/o.db"}});
  std::filesystem::remove(password);
  EXPECT_EQ(config.host, "relay.example");
  EXPECT_EQ(config.port, 587);
  EXPECT_EQ(config.startTls, SmtpConfig::StartTls::kRequired);
  EXPECT_EQ(config.password, "s3cret");
  EXPECT_EQ(config.defaultFrom, "Node <n@n.example>");
  EXPECT_EQ(config.heloName, "node.example");
  EXPECT_EQ(config.timeout.count(), 5000);
  EXPECT_EQ(config.retryBase.count(), 250);
  EXPECT_EQ(config.maxAttempts, 3);
  EXPECT_EQ(config.outbox, "/tmp/o.db");
}

TEST(SmtpConfig, RefusesBadValuesNamingTheKey) {
  EXPECT_NE(errorOf({{"port", "0"}}).find("strata.plugin.smtp.port"), std::string::npos);
  EXPECT_NE(errorOf({{"port", "25x"}}).find("strata.plugin.smtp.port"), std::string::npos);
  EXPECT_NE(errorOf({{"starttls", "maybe"}}).find("strata.plugin.smtp.starttls"), std::string::npos);
  EXPECT_NE(errorOf({{"from", "not a mailbox"}}).find("strata.plugin.smtp.from"), std::string::npos);
  EXPECT_NE(errorOf({{"helo", "bad host\r\n"}}).find("strata.plugin.smtp.helo"), std::string::npos);
  EXPECT_NE(errorOf({{"timeout_ms", "1"}}).find("strata.plugin.smtp.timeout_ms"), std::string::npos);
  EXPECT_NE(errorOf({{"max_attempts", "0"}}).find("strata.plugin.smtp.max_attempts"), std::string::npos);
  EXPECT_NE(errorOf({{"ca_file", "/nonexistent"}, {"starttls", "required"}}).find("ca_file"), std::string::npos);
  EXPECT_NE(errorOf({{"username", "u"}}).find("go together"), std::string::npos);
}

TEST(SmtpConfig, RefusesAPasswordFileOthersCanRead) {
  auto password = passwordFile(0644);
  auto error = errorOf({{"host", "127.0.0.1"}, {"username", "u"}, {"password_file", password.string()}});
  std::filesystem::remove(password);
  EXPECT_NE(error.find("mode 0644"), std::string::npos) << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos);
}

TEST(SmtpConfig, RefusesAuthInClearToARemoteHost) {
  auto password = passwordFile(0600);
  auto error = errorOf({{"host", "relay.example"}, {"username", "u"}, {"password_file", password.string()}});
  std::filesystem::remove(password);
  EXPECT_NE(error.find("in clear"), std::string::npos) << error;
}

}  // namespace
}  // namespace strata::integrations::smtp
