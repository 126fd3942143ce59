#include "subscription_table.h"

#include <algorithm>

#include <strata/core/subject.h>

#include "event_hub.h"

namespace strata::broker {

namespace {


bool addOnce(std::vector<Subscriber*>& list, Subscriber* subscriber) {
  if (std::find(list.begin(), list.end(), subscriber) != list.end()) return false;
  list.push_back(subscriber);
  return true;
}

bool eraseFrom(std::vector<Subscriber*>& list, Subscriber* subscriber) {
  auto it = std::find(list.begin(), list.end(), subscriber);
  if (it == list.end()) return false;
  *it = list.back();
  list.pop_back();
  return true;
}

}  // namespace

SubscriptionTable::SubscriptionTable() : root_(std::make_unique<Node>()) {}

SubscriptionTable::~SubscriptionTable() = default;

void SubscriptionTable::add(std::string_view pattern, Subscriber* subscriber) {
  core::splitTokens(pattern, tokens_);
  Node* node = root_.get();
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    auto token = tokens_[i];
    if (token == ">") {
      bool added = addOnce(node->tail, subscriber);
      size_ += added;
      generation_ += added;
      return;
    }
    if (token == "*") {
      if (!node->star) node->star = std::make_unique<Node>();
      node = node->star.get();
      continue;
    }
    auto it = node->literal.find(token);
    if (it == node->literal.end()) it = node->literal.emplace(std::string(token), std::make_unique<Node>()).first;
    node = it->second.get();
  }
  bool added = addOnce(node->exact, subscriber);
  size_ += added;
  generation_ += added;
}

void SubscriptionTable::remove(std::string_view pattern, Subscriber* subscriber) {
  core::splitTokens(pattern, tokens_);
  bool removed = false;
  removeBelow(*root_, 0, subscriber, removed);
  if (removed) {
    --size_;
    ++generation_;
  }
}

bool SubscriptionTable::removeBelow(Node& node, std::size_t at, Subscriber* subscriber, bool& removed) {
  if (at == tokens_.size()) {
    removed = eraseFrom(node.exact, subscriber);
  } else if (tokens_[at] == ">") {
    removed = eraseFrom(node.tail, subscriber);
  } else if (tokens_[at] == "*") {
    if (node.star && removeBelow(*node.star, at + 1, subscriber, removed)) node.star.reset();
  } else if (auto it = node.literal.find(tokens_[at]); it != node.literal.end()) {
    // Nodes left with nothing are pruned, so churn of subscriptions leaves no garbage.
    if (removeBelow(*it->second, at + 1, subscriber, removed)) node.literal.erase(it);
  }
  return node.empty();
}

void SubscriptionTable::match(std::string_view subject, std::vector<Subscriber*>& out) {
  out.clear();
  if (size_ == 0) return;
  ++matchStamp_;
  core::splitTokens(subject, tokens_);
  matchFrom(*root_, 0, out);
}

void SubscriptionTable::matchFrom(const Node& node, std::size_t token, std::vector<Subscriber*>& out) {
  if (token == tokens_.size()) {
    take(node.exact, out);
    return;
  }
  take(node.tail, out);  // '>' takes this token and every one after it
  if (auto it = node.literal.find(tokens_[token]); it != node.literal.end()) matchFrom(*it->second, token + 1, out);
  if (node.star) matchFrom(*node.star, token + 1, out);
}

void SubscriptionTable::take(const std::vector<Subscriber*>& subscribers, std::vector<Subscriber*>& out) {
  for (Subscriber* s : subscribers) {
    if (s->matchStamp == matchStamp_) continue;  // matched already by another of its patterns
    s->matchStamp = matchStamp_;
    out.push_back(s);
  }
}

}  // namespace strata::broker
