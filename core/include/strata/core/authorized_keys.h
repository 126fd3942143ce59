#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <strata/core/curve_keys.h>

namespace strata::core {

using Layer = int;
constexpr Layer kMinLayer = 0;
constexpr Layer kMaxLayer = 4;

// Who a CURVE key belongs to, as the ZAP handler reports it to every handler.
struct Identity {
  std::string name;
  Layer layer = kMaxLayer;
};

// The keys allowed onto a socket. File format, one per line:
//   <public key Z85> <name> <layer>     # comment
// Names are unique, so a name identifies a peer as well as its key does.
// Immutable once built, so it may be shared between threads; a reload builds a new one.
class AuthorizedKeys {
 public:
  // Throws ConfigError with the line number for any malformed line, a duplicate key or name.
  static AuthorizedKeys parse(std::string_view text, const std::string& origin = "authorized_keys");
  static AuthorizedKeys load(const std::filesystem::path& path);

  void add(const PublicKey& key, Identity identity);
  // The identity of a key (Z85), or nullptr; makes no string, as it runs for every message.
  const Identity* lookup(std::string_view z85Key) const;
  std::optional<Identity> find(std::string_view z85Key) const;
  std::optional<Identity> findByName(std::string_view name) const;
  std::size_t size() const { return byKey_.size(); }
  bool empty() const { return byKey_.empty(); }

  // What a reload takes away: the names of before whose key or layer differs in after, or
  // that after no longer holds. A connection made under such a name must not keep its rights.
  static std::vector<std::string> changedNames(const AuthorizedKeys& before, const AuthorizedKeys& after);

 private:
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, Identity, TextHash, std::equal_to<>> byKey_;
  std::unordered_map<std::string, Layer, TextHash, std::equal_to<>> layerByName_;
};

}  // namespace strata::core
