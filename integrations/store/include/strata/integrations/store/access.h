#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace strata::integrations::store {

// Who a caller is, as the broker authenticated it.
struct Caller {
  std::string name;
  int layer = 4;
};

// A set of callers: layers, key names, or everyone. Written in configuration as a list
// separated by commas or spaces: "*" (everyone), "none", a layer "2", a range "0-3", or
// a key name from strata.authorized_keys ("billing").
class Who {
 public:
  static Who everyone();
  static Who nobody() { return Who(); }
  static Who layersUpTo(int last);
  // Throws std::invalid_argument naming the token it cannot read.
  static Who parse(std::string_view text);

  bool includes(const Caller& caller) const;
  std::string describe() const;  // as configured, for logs and docs

 private:
  bool everyone_ = false;
  std::uint32_t layers_ = 0;  // bit n: layer n
  std::set<std::string, std::less<>> names_;
};

// Who may read and who may write each attribute of each collection. The most specific
// rule wins: an attribute's own, then its collection's, then the store's default (read:
// everyone; write: layers 0 to 3).
class AccessRules {
 public:
  // What one level of the rules says; unset parts fall to the level above.
  struct Rule {
    std::optional<Who> read;
    std::optional<Who> write;
  };

  // Each sets the parts the rule gives and keeps the others.
  void setDefault(const Rule& rule) { merge(defaults_, rule); }
  void setCollection(const std::string& collection, const Rule& rule) { merge(collections_[collection].own, rule); }
  void setAttribute(const std::string& collection, const std::string& attribute, const Rule& rule) {
    merge(collections_[collection].attributes[attribute], rule);
  }

  bool mayRead(std::string_view collection, std::string_view attribute, const Caller& caller) const {
    return who(collection, attribute, &Rule::read, kDefaultRead).includes(caller);
  }
  bool mayWrite(std::string_view collection, std::string_view attribute, const Caller& caller) const {
    return who(collection, attribute, &Rule::write, kDefaultWrite).includes(caller);
  }

 private:
  struct Collection {
    Rule own;
    std::map<std::string, Rule, std::less<>> attributes;
  };
  static void merge(Rule& into, const Rule& from) {
    if (from.read) into.read = from.read;
    if (from.write) into.write = from.write;
  }
  static const Who kDefaultRead;
  static const Who kDefaultWrite;
  const Who& who(std::string_view collection, std::string_view attribute, std::optional<Who> Rule::*part,
                 const Who& fallback) const;

  Rule defaults_;
  std::map<std::string, Collection, std::less<>> collections_;
};

}  // namespace strata::integrations::store
