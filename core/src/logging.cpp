#include <strata/core/logging.h>

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/StreamChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/PatternFormatter.h>

#include <strata/core/errors.h>

namespace strata::core {

void setupLogging(const std::string& level, std::ostream& out) {
  Poco::AutoPtr<Poco::PatternFormatter> formatter(
      new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
  Poco::AutoPtr<Poco::StreamChannel> console(new Poco::StreamChannel(out));
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
  // Loggers made before this call keep their old settings; bring them along.
  Poco::Logger::setChannel("", channel);
  int parsed = 0;
  try {
    parsed = Poco::Logger::parseLevel(level);
  } catch (const Poco::Exception&) {
    throw ConfigError("strata.log.level must be one of fatal, critical, error, warning, notice, information, "
                      "debug, trace; not '" + level + "'");
  }
  Poco::Logger::setLevel("", parsed);
}

bool RateLimitedLog::allow(const std::string& key, TimePoint now) {
  // Bounded, so that peers with ever new names cannot grow it without end.
  constexpr std::size_t kMaxKeys = 4096;
  if (entries_.size() >= kMaxKeys && !entries_.contains(key)) entries_.clear();
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (inserted || now - e.last >= interval_) {
    e.last = now;
    e.reported = e.held;
    e.held = 0;
    return true;
  }
  ++e.held;
  return false;
}

std::size_t RateLimitedLog::suppressed(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.reported;
}

}  // namespace strata::core
