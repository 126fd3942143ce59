#include <strata/integrations/store/access.h>

#include <stdexcept>

#include <strata/core/whole_number.h>

namespace strata::integrations::store {

namespace {

constexpr int kLastLayer = 4;

std::vector<std::string_view> tokens(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto start = text.find_first_not_of(", \t", i);
    if (start == std::string_view::npos) break;
    auto end = text.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

bool isLayerToken(std::string_view token) {
  return !token.empty() && token.find_first_not_of("0123456789-") == std::string_view::npos;
}

}  // namespace

const Who AccessRules::kDefaultRead = Who::everyone();
const Who AccessRules::kDefaultWrite = Who::layersUpTo(3);

Who Who::everyone() {
  Who who;
  who.everyone_ = true;
  return who;
}

Who Who::layersUpTo(int last) {
  Who who;
  for (int layer = 0; layer <= last; ++layer) who.layers_ |= 1u << layer;
  return who;
}

Who Who::parse(std::string_view text) {
  Who who;
  auto list = tokens(text);
  if (list.empty()) throw std::invalid_argument("is empty: write \"none\" for nobody");
  for (auto token : list) {
    if (token == "*") {
      who.everyone_ = true;
    } else if (token == "none") {
      if (list.size() > 1) throw std::invalid_argument("mixes \"none\" with others");
    } else if (isLayerToken(token)) {
      auto dash = token.find('-');
      auto first = core::parseWholeNumber(token.substr(0, dash), 0, kLastLayer);
      auto last = dash == std::string_view::npos ? first : core::parseWholeNumber(token.substr(dash + 1), 0, kLastLayer);
      if (!first || !last || *first > *last) {
        throw std::invalid_argument("has '" + std::string(token) + "', which is not a layer 0 to 4 or a range of them");
      }
      for (auto layer = *first; layer <= *last; ++layer) who.layers_ |= 1u << layer;
    } else {
      who.names_.emplace(token);
    }
  }
  return who;
}

bool Who::includes(const Caller& caller) const {
  if (everyone_) return true;
  if (caller.layer >= 0 && caller.layer <= kLastLayer && (layers_ & (1u << caller.layer)) != 0) return true;
  return names_.find(caller.name) != names_.end();
}

std::string Who::describe() const {
  if (everyone_) return "*";
  std::string out;
  for (int layer = 0; layer <= kLastLayer; ++layer) {
    if ((layers_ & (1u << layer)) != 0) out += (out.empty() ? "" : " ") + std::to_string(layer);
  }
  for (const auto& name : names_) out += (out.empty() ? "" : " ") + name;
  return out.empty() ? "none" : out;
}

const Who& AccessRules::who(std::string_view collection, std::string_view attribute, std::optional<Who> Rule::*part,
                            const Who& fallback) const {
  if (auto c = collections_.find(collection); c != collections_.end()) {
    if (auto a = c->second.attributes.find(attribute); a != c->second.attributes.end() && a->second.*part) {
      return *(a->second.*part);
    }
    if (c->second.own.*part) return *(c->second.own.*part);
  }
  if (defaults_.*part) return *(defaults_.*part);
  return fallback;
}

}  // namespace strata::integrations::store
