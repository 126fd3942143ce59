#pragma once

// Private to the broker: the events waiting for one subscriber.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace strata::broker {

// Encoded event records (codecs::writeEventRecord) queued for one subscriber, oldest
// first, back to back in one buffer: a warm queue allocates nothing per event, and the
// records of a batch are one contiguous run, copied into the batch's frame at once.
class RecordQueue {
 public:
  bool empty() const { return sizes_.empty(); }
  std::size_t size() const { return sizes_.size(); }   // records
  std::size_t bytes() const { return bytes_; }         // of all records together
  std::size_t frontSize() const { return sizes_.front(); }
  std::size_t sizeAt(std::size_t i) const { return sizes_[i]; }

  void push(std::string_view record) {
    buffer_.append(record);
    sizes_.push_back(static_cast<std::uint32_t>(record.size()));
    bytes_ += record.size();
  }
  void pop() { popFront(1, sizes_.front()); }
  // The oldest count records, taking bytes in all, as one run; valid until the next change.
  std::string_view front(std::size_t bytes) const { return std::string_view(buffer_).substr(head_, bytes); }
  // Drops the oldest count records, taking bytes in all (as front(bytes) showed them).
  void popFront(std::size_t count, std::size_t bytes) {
    sizes_.erase(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(count));
    bytes_ -= bytes;
    head_ += bytes;
    if (sizes_.empty()) {
      // Drained, the usual case when the subscriber keeps up: start again at the front,
      // and give back what a burst left behind.
      head_ = 0;
      buffer_.clear();
      if (buffer_.capacity() > kKeptCapacity) buffer_.shrink_to_fit();
    } else if (head_ > kKeptCapacity && head_ > buffer_.size() / 2) {
      buffer_.erase(0, head_);  // what was sent: moved out once it is most of the buffer
      head_ = 0;
    }
  }

 private:
  static constexpr std::size_t kKeptCapacity = 256 * 1024;
  std::string buffer_;  // records from head_ on are queued; before it, sent or dropped
  std::size_t head_ = 0;
  std::size_t bytes_ = 0;
  std::deque<std::uint32_t> sizes_;
};

}  // namespace strata::broker
