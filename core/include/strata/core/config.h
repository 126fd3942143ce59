#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <strata/core/limits.h>

namespace strata::core {

// One documented configuration key (docs/configuration.md lists the same set).
struct KeySpec {
  std::string_view name;
  std::string_view help;
  bool prefix = false;  // name is a prefix: "strata.policy." accepts "strata.policy.<svc>"
  std::string_view placeholder = "<service>";  // what follows a prefix, in --help
};

// The keys each program accepts. A `strata.*` key outside its program's set is refused
// with a suggestion, so that a typo never silently falls back to a default.
const std::vector<KeySpec>& brokerKeys();
const std::vector<KeySpec>& nodeKeys();
const std::vector<KeySpec>& clientKeys();

// Typed access to a Poco configuration with Strata's validation and errors. Every getter
// throws ConfigError naming the key when the value is missing or malformed.
class Config {
 public:
  explicit Config(Poco::AutoPtr<Poco::Util::AbstractConfiguration> conf) : conf_(std::move(conf)) {}

  // Loads FILE (.properties, .ini or .json) then applies "key=value" overrides.
  static Config load(const std::string& file, const std::vector<std::string>& defines = {});

  // Throws ConfigError for any strata.* key not in keys.
  void checkKnownKeys(const std::vector<KeySpec>& keys) const;

  bool has(const std::string& key) const { return conf_->hasProperty(key); }
  std::string getString(const std::string& key) const;
  std::string getString(const std::string& key, const std::string& fallback) const;
  std::vector<std::string> getList(const std::string& key) const;  // comma separated, trimmed
  long long getInt(const std::string& key, long long fallback, long long min, long long max) const;
  bool getBool(const std::string& key, bool fallback) const;
  std::chrono::milliseconds getMillis(const std::string& key, std::chrono::milliseconds fallback) const;
  // Every key that starts with prefix, with the prefix removed.
  std::vector<std::string> keysUnder(const std::string& prefix) const;

  Limits limits() const;  // strata.limits.*
  Poco::Util::AbstractConfiguration& raw() { return *conf_; }

 private:
  Poco::AutoPtr<Poco::Util::AbstractConfiguration> conf_;
};

std::vector<std::string> splitList(std::string_view text, char separator = ',');

}  // namespace strata::core
