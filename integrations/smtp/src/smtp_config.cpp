#include <strata/integrations/common/whole_number.h>
#include <strata/integrations/smtp/smtp_config.h>


#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <Poco/Environment.h>

#include <strata/codecs/mail_message.h>
#include <strata/core/errors.h>
#include <strata/core/private_file.h>

namespace strata::integrations::smtp {

namespace {

constexpr const char* kKeyPrefix = "strata.plugin.smtp.";
constexpr long long kMaxPort = 65535;

std::string keyName(const std::string& key) { return kKeyPrefix + key; }

long long readInt(const SmtpConfig::Lookup& lookup, const std::string& key, long long fallback, long long min,
                  long long max) {
  return wholeNumberSetting(lookup(key), keyName(key), fallback, min, max);
}

// A host name for EHLO and Message-IDs: LDH labels, as isAddrSpec's domain.
bool isHostName(const std::string& name) { return codecs::mail::isAddrSpec("x@" + name); }

// The password: the file's first line. The file must be private, as a CURVE secret key.
std::string readPassword(const std::string& path) {
  core::requirePrivateFile(path, keyName("password_file"));
  std::ifstream in(path, std::ios::binary);
  std::string password;
  if (!in || !std::getline(in, password)) {
    throw KeyError(keyName("password_file") + " " + path + " cannot be read or is empty", ExitCode::kNoInput);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) throw KeyError(keyName("password_file") + " " + path + " holds an empty password", ExitCode::kDataError);
  return password;
}

bool isLoopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

}  // namespace

SmtpConfig SmtpConfig::load(const Lookup& lookup, const std::filesystem::path& dataDir) {
  SmtpConfig config;
  config.host = lookup("host").value_or(kDefaultHost);
  if (config.host.empty() || config.host.find_first_of(" \t\r\n") != std::string::npos) {
    throw ConfigError(keyName("host") + " must be a host name or address");
  }
  config.port = static_cast<std::uint16_t>(readInt(lookup, "port", kDefaultPort, 1, kMaxPort));
  auto startTls = lookup("starttls").value_or("off");
  if (startTls == "off") {
    config.startTls = StartTls::kOff;
  } else if (startTls == "required") {
    config.startTls = StartTls::kRequired;
  } else {
    throw ConfigError(keyName("starttls") + " must be off or required, not '" + startTls + "'");
  }
  config.caFile = lookup("ca_file").value_or("");
  if (!config.caFile.empty()) {
    if (config.startTls != StartTls::kRequired) throw ConfigError(keyName("ca_file") + " needs starttls = required");
    std::ifstream probe(config.caFile);
    if (!probe) throw ConfigError(keyName("ca_file") + " " + config.caFile + " cannot be read");
  }
  config.username = lookup("username").value_or("");
  auto passwordFile = lookup("password_file").value_or("");
  if (config.username.empty() != passwordFile.empty()) {
    throw ConfigError(keyName("username") + " and " + keyName("password_file") + " go together");
  }
  if (!config.username.empty()) {
    if (config.username.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      throw ConfigError(keyName("username") + " contains CR, LF or NUL");
    }
    if (config.startTls != StartTls::kRequired && !isLoopback(config.host)) {
      throw ConfigError(keyName("username") + " is set with starttls = off: the password would cross the network in "
                        "clear; set starttls = required");
    }
    config.password = readPassword(passwordFile);
  }
  config.defaultFrom = lookup("from").value_or("");
  if (!config.defaultFrom.empty() && codecs::mail::addrSpecOf(config.defaultFrom).empty()) {
    throw ConfigError(keyName("from") + " '" + config.defaultFrom + "' is not a valid mailbox");
  }
  config.heloName = lookup("helo").value_or("");
  if (config.heloName.empty()) {
    config.heloName = Poco::Environment::nodeName();
    if (!isHostName(config.heloName)) config.heloName = "localhost";
  } else if (!isHostName(config.heloName)) {
    throw ConfigError(keyName("helo") + " '" + config.heloName + "' is not a host name");
  }
  config.timeout = std::chrono::milliseconds(
      readInt(lookup, "timeout_ms", kDefaultTimeout.count(), kMinTimeout.count(), kMaxTimeout.count()));
  config.retryBase =
      std::chrono::milliseconds(readInt(lookup, "retry_ms", kDefaultRetryBase.count(), 1, kMaxRetryBase.count()));
  config.maxAttempts = static_cast<int>(readInt(lookup, "max_attempts", kDefaultMaxAttempts, 1, kMaxMaxAttempts));
  auto outbox = lookup("outbox");
  config.outbox = outbox && !outbox->empty() ? std::filesystem::path(*outbox) : dataDir / kOutboxFileName;
  return config;
}

}  // namespace strata::integrations::smtp
