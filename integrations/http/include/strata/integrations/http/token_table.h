#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <strata/core/authorized_keys.h>

namespace strata::integrations::http {

// Who an HTTP client is on the bus: the name and layer its bearer token maps to.
struct Principal {
  std::string name;
  core::Layer layer = core::kMaxLayer;
};

// The gateway's bearer tokens. File format, one per line:
//   <token> <name> <layer>     # comment
// A token is at least kMinTokenLength characters of RFC 6750's b64token alphabet; a name
// is letters, digits, '.', '_' and '-'; a layer is 0 to 4. Tokens are kept only as their
// SHA-256 digests and never appear in an error message. Immutable once built.
class TokenTable {
 public:
  static constexpr std::size_t kMinTokenLength = 16;
  static constexpr std::size_t kMaxTokenLength = 512;

  // Throws ConfigError naming origin and the line for a malformed line or a
  // duplicate token.
  static TokenTable parse(std::string_view text, const std::string& origin = "tokens");
  // Throws KeyError when the file is missing or group or others may access it
  // (chmod 600, as for secret keys), else as parse().
  static TokenTable load(const std::filesystem::path& path);

  std::optional<Principal> find(std::string_view token) const;
  std::size_t size() const { return byDigest_.size(); }

 private:
  using Digest = std::array<std::uint8_t, 32>;
  static Digest digest(std::string_view token);

  std::map<Digest, Principal> byDigest_;
};

}  // namespace strata::integrations::http
