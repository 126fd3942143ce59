#pragma once

// A small path language over the JSON shape of an XML document (codecs::xmlCodec()):
//
//   path  = 1*( "/" step ) [ "/@" name ]
//   step  = name [ "[" index "]" ]
//   name  = an XML name of ASCII letters, digits, "_", "-", ".", ":" (not starting
//           with a digit, "-" or ".")
//   index = 1 to kMaxIndex, no leading zero: the index-th element of that name
//           among its siblings (1-based, as in XPath)
//
// The first step names the root element. Each further step goes to the child elements of
// that name (all, or the index-th). A final "/@name" takes that attribute of each
// selected element (elements without it are skipped). What is selected gives its text:
// an attribute's value, or an element's own text (its text pieces joined; the text of
// its descendants is not included). Anything else (wildcards, "//", "..", predicates
// other than an index, functions) is refused when parsing.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Dynamic/Var.h>

namespace strata::integrations::xml {

class XmlPath {
 public:
  static constexpr std::size_t kMaxLength = 1024;
  static constexpr std::size_t kMaxSteps = 64;
  static constexpr std::size_t kMaxIndex = 1'000'000;

  // The path, or nullopt with *error set when text is outside the grammar.
  static std::optional<XmlPath> parse(std::string_view text, std::string* error);

  // The text of every node the path selects in document, in document order for
  // elements of one name. document is what xmlCodec().decode() gave.
  std::vector<std::string> select(const Poco::Dynamic::Var& document) const;

 private:
  struct Step {
    std::string name;
    std::size_t index = 0;  // 0: every element of the name
  };

  std::vector<Step> steps_;
  std::optional<std::string> attribute_;
};

}  // namespace strata::integrations::xml
