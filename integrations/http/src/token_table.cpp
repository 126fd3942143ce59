#include <strata/integrations/http/token_table.h>


#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <Poco/SHA2Engine.h>

#include <strata/core/errors.h>
#include <strata/core/private_file.h>

namespace strata::integrations::http {

namespace {

// RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::strchr("-._~+/=", c) != nullptr;
}

bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::strchr("._-", c) != nullptr; }

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

TokenTable::Digest TokenTable::digest(std::string_view token) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(token.data(), static_cast<unsigned>(token.size()));
  const auto& bytes = engine.digest();
  Digest out{};
  std::copy_n(bytes.begin(), out.size(), out.begin());
  return out;
}

TokenTable TokenTable::parse(std::string_view text, const std::string& origin) {
  TokenTable table;
  std::size_t lineNumber = 0;
  while (!text.empty()) {
    ++lineNumber;
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto parts = fields(line);
    if (parts.empty()) continue;
    auto where = origin + " line " + std::to_string(lineNumber);
    if (parts.size() != 3) throw ConfigError(where + ": expected '<token> <name> <layer>'");
    auto token = parts[0];
    if (token.size() < kMinTokenLength || token.size() > kMaxTokenLength ||
        !std::all_of(token.begin(), token.end(), isTokenChar)) {
      throw ConfigError(where + ": a token must be " + std::to_string(kMinTokenLength) + " to " +
                              std::to_string(kMaxTokenLength) + " characters of A-Z a-z 0-9 - . _ ~ + / =");
    }
    auto name = parts[1];
    if (!std::all_of(name.begin(), name.end(), isNameChar)) {
      throw ConfigError(where + ": a name is letters, digits, '.', '_' and '-'");
    }
    auto layer = parts[2];
    if (layer.size() != 1 || layer[0] < '0' + core::kMinLayer || layer[0] > '0' + core::kMaxLayer) {
      throw ConfigError(where + ": the layer must be 0 to 4");
    }
    if (!table.byDigest_.emplace(digest(token), Principal{std::string(name), layer[0] - '0'}).second) {
      throw ConfigError(where + ": this token is already listed");
    }
  }
  return table;
}

TokenTable TokenTable::load(const std::filesystem::path& path) {
  core::requirePrivateFile(path, "token file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyError("cannot read token file " + path.string(), ExitCode::kNoInput);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

std::optional<Principal> TokenTable::find(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  auto it = byDigest_.find(digest(token));
  if (it == byDigest_.end()) return std::nullopt;
  return it->second;
}

}  // namespace strata::integrations::http
