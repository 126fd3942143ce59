#pragma once

// Private to the broker: which subscribers want which subjects.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata::broker {

struct Subscriber;

// Subscription patterns in a tree of their tokens, as NATS's sublist keeps them: a match
// walks the subject's tokens once, following at each level the literal child and the '*'
// child and taking the '>' subscribers on the way, so its cost follows the subject's
// length and the patterns that really match, never the number of subscriptions.
class SubscriptionTable {
 public:
  SubscriptionTable();
  ~SubscriptionTable();
  SubscriptionTable(const SubscriptionTable&) = delete;
  SubscriptionTable& operator=(const SubscriptionTable&) = delete;

  // pattern must be valid (core::isValidPattern). Adding a pair twice holds it once.
  void add(std::string_view pattern, Subscriber* subscriber);
  void remove(std::string_view pattern, Subscriber* subscriber);

  // The subscribers with a pattern matching subject, each once however many of its
  // patterns match, into out (cleared first). subject must be valid.
  void match(std::string_view subject, std::vector<Subscriber*>& out);

  std::size_t size() const { return size_; }  // subscriber-pattern pairs held
  // Changes with every add and remove that changes the table: a match made at one
  // generation holds while it stays the same.
  std::uint64_t generation() const { return generation_; }

 private:
  struct Node;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, Hash, std::equal_to<>> literal;
    std::unique_ptr<Node> star;
    std::vector<Subscriber*> exact;  // patterns that end at this node
    std::vector<Subscriber*> tail;   // patterns that end in '>' after this node's tokens
    bool empty() const { return literal.empty() && !star && exact.empty() && tail.empty(); }
  };

  void matchFrom(const Node& node, std::size_t token, std::vector<Subscriber*>& out);
  void take(const std::vector<Subscriber*>& subscribers, std::vector<Subscriber*>& out);
  // Removes subscriber from pattern's tokens[at...] below node; true when node is left empty.
  bool removeBelow(Node& node, std::size_t at, Subscriber* subscriber, bool& removed);

  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
  std::uint64_t generation_ = 1;
  std::uint64_t matchStamp_ = 0;
  std::vector<std::string_view> tokens_;  // reused by every call
};

}  // namespace strata::broker
