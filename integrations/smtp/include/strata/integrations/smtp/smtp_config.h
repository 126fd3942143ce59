#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace strata::integrations::smtp {

// The plug-in's settings, the keys under strata.plugin.smtp. (see docs/integrations.md).
struct SmtpConfig {
  enum class StartTls { kOff, kRequired };

  static constexpr std::uint16_t kDefaultPort = 25;
  static constexpr std::chrono::milliseconds kDefaultTimeout{30'000};
  static constexpr std::chrono::milliseconds kMinTimeout{100};
  static constexpr std::chrono::milliseconds kMaxTimeout{600'000};
  static constexpr std::chrono::milliseconds kDefaultRetryBase{1'000};
  static constexpr std::chrono::milliseconds kMaxRetryBase{3'600'000};
  static constexpr int kDefaultMaxAttempts = 8;
  static constexpr int kMaxMaxAttempts = 1'000;
  static constexpr const char* kDefaultHost = "127.0.0.1";
  static constexpr const char* kOutboxFileName = "smtp-outbox.db";

  std::string host = kDefaultHost;
  std::uint16_t port = kDefaultPort;
  StartTls startTls = StartTls::kOff;
  std::string caFile;          // empty: the system's CAs
  std::string username;        // empty: no AUTH
  std::string password;        // from password_file; never logged or put in an error
  std::string defaultFrom;     // for mail without From; empty: From is required
  std::string heloName;        // the EHLO argument and the Message-ID domain
  std::chrono::milliseconds timeout = kDefaultTimeout;
  std::chrono::milliseconds retryBase = kDefaultRetryBase;
  int maxAttempts = kDefaultMaxAttempts;
  std::filesystem::path outbox;

  // What the plug-in's Host::config does: the value of a key, or nullopt when unset.
  using Lookup = std::function<std::optional<std::string>(const std::string& key)>;

  // Reads every key through lookup; outbox defaults to dataDir/smtp-outbox.db. Throws
  // strata::ConfigError naming the key for a bad value, and strata::KeyError for a
  // password_file that group or others may read.
  static SmtpConfig load(const Lookup& lookup, const std::filesystem::path& dataDir);
};

}  // namespace strata::integrations::smtp
