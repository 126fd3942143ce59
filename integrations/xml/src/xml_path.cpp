#include <strata/integrations/xml/xml_path.h>

#include <charconv>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/codecs/payload.h>

namespace strata::integrations::xml {

namespace {

using Poco::Dynamic::Var;
using ObjectPtr = Poco::JSON::Object::Ptr;

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

bool isName(std::string_view text) {
  if (text.empty() || !isNameStart(text.front())) return false;
  for (char c : text) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

bool isObject(const Var& v) { return v.type() == typeid(ObjectPtr) && !v.extract<ObjectPtr>().isNull(); }

}  // namespace

std::optional<XmlPath> XmlPath::parse(std::string_view text, std::string* error) {
  auto refuse = [&](const std::string& why) -> std::optional<XmlPath> {
    if (error) *error = "path '" + std::string(text.substr(0, kMaxLength)) + "': " + why;
    return std::nullopt;
  };
  if (text.size() > kMaxLength) return refuse("longer than " + std::to_string(kMaxLength) + " characters");
  if (text.empty() || text.front() != '/') return refuse("must start with '/'");
  XmlPath path;
  std::string_view rest = text;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    auto end = rest.find('/');
    std::string_view step = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (step.empty()) return refuse("empty step ('//' is not supported)");
    if (step.front() == '@') {
      if (!rest.empty()) return refuse("an attribute must be the last step");
      if (path.steps_.empty()) return refuse("an attribute needs an element before it");
      if (!isName(step.substr(1))) return refuse("'" + std::string(step) + "' is not an attribute name");
      path.attribute_ = std::string(step.substr(1));
      break;
    }
    Step parsed;
    auto bracket = step.find('[');
    std::string_view name = step.substr(0, bracket);
    if (!isName(name)) return refuse("'" + std::string(name) + "' is not an element name");
    parsed.name = std::string(name);
    if (bracket != std::string_view::npos) {
      std::string_view index = step.substr(bracket + 1);
      if (index.size() < 2 || index.back() != ']') return refuse("'" + std::string(step) + "' needs [index]");
      index.remove_suffix(1);
      if (index.front() == '0' || index.find_first_not_of("0123456789") != std::string_view::npos) {
        return refuse("'[" + std::string(index) + "]' is not an index from 1");
      }
      auto [last, ec] = std::from_chars(index.data(), index.data() + index.size(), parsed.index);
      if (ec != std::errc{} || last != index.data() + index.size() || parsed.index > kMaxIndex) {
        return refuse("index '" + std::string(index) + "' is over " + std::to_string(kMaxIndex));
      }
    }
    path.steps_.push_back(std::move(parsed));
    if (path.steps_.size() > kMaxSteps) return refuse("more than " + std::to_string(kMaxSteps) + " steps");
  }
  return path;
}

std::vector<std::string> XmlPath::select(const Var& document) const {
  std::vector<Var> current;
  if (isObject(document)) current.push_back(document);  // the document: the root's parent
  for (const auto& step : steps_) {
    std::vector<Var> next;
    for (const auto& element : current) {
      auto found = codecs::xmlChildren(element, step.name);
      if (step.index == 0) {
        next.insert(next.end(), found.begin(), found.end());
      } else if (step.index <= found.size()) {
        next.push_back(found[step.index - 1]);
      }
    }
    current = std::move(next);
  }
  std::vector<std::string> out;
  for (const auto& element : current) {
    if (!attribute_) {
      out.push_back(codecs::xmlText(element));
      continue;
    }
    if (!isObject(element)) continue;
    const auto& object = *element.extract<ObjectPtr>();
    std::string key = "@" + *attribute_;
    if (object.has(key)) out.push_back(object.get(key).convert<std::string>());
  }
  return out;
}

}  // namespace strata::integrations::xml
