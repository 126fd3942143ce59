#include <strata/core/authorized_keys.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <strata/core/errors.h>

namespace strata::core {

namespace {

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

AuthorizedKeys AuthorizedKeys::parse(std::string_view text, const std::string& origin) {
  AuthorizedKeys keys;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    // '#' is a Z85 digit, so it starts a comment only at the start of a field.
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line.erase(i);
        break;
      }
    }
    std::istringstream fields(line);
    std::string key, name, layerText, extra;
    if (!(fields >> key)) continue;  // blank or comment
    auto where = origin + ":" + std::to_string(lineNo) + ": ";
    if (!(fields >> name >> layerText)) throw ConfigError(where + "expected '<public key> <name> <layer>'");
    if (fields >> extra) throw ConfigError(where + "unexpected text after the layer: '" + extra + "'");
    PublicKey publicKey = [&] {
      try {
        return PublicKey::fromZ85(key);
      } catch (const KeyError&) {
        throw ConfigError(where + "not a Z85 CURVE public key");
      }
    }();
    if (!validName(name)) throw ConfigError(where + "bad name '" + name + "' (letters, digits, '-', '_', '.')");
    if (layerText.size() != 1 || layerText[0] < '0' || layerText[0] > '0' + kMaxLayer) {
      throw ConfigError(where + "layer must be 0 to 4, not '" + layerText + "'");
    }
    if (keys.find(key)) throw ConfigError(where + "key listed twice");
    if (keys.findByName(name)) throw ConfigError(where + "name '" + name + "' listed twice");
    keys.add(publicKey, Identity{name, layerText[0] - '0'});
  }
  return keys;
}

AuthorizedKeys AuthorizedKeys::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read authorized keys file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

void AuthorizedKeys::add(const PublicKey& key, Identity identity) {
  layerByName_[identity.name] = identity.layer;
  byKey_[key.z85()] = std::move(identity);
}

const Identity* AuthorizedKeys::lookup(std::string_view z85Key) const {
  auto it = byKey_.find(z85Key);
  return it == byKey_.end() ? nullptr : &it->second;
}

std::optional<Identity> AuthorizedKeys::find(std::string_view z85Key) const {
  const Identity* identity = lookup(z85Key);
  if (!identity) return std::nullopt;
  return *identity;
}

std::optional<Identity> AuthorizedKeys::findByName(std::string_view name) const {
  auto it = layerByName_.find(name);
  if (it == layerByName_.end()) return std::nullopt;
  return Identity{it->first, it->second};
}

std::vector<std::string> AuthorizedKeys::changedNames(const AuthorizedKeys& before, const AuthorizedKeys& after) {
  std::vector<std::string> changed;
  for (const auto& [key, identity] : before.byKey_) {
    const Identity* now = after.lookup(key);
    if (!now || now->name != identity.name || now->layer != identity.layer) changed.push_back(identity.name);
  }
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  return changed;
}

}  // namespace strata::core
