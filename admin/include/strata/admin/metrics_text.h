#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::admin {

using Labels = std::map<std::string, std::string>;

// One scrape's metrics, built from figures a daemon already keeps and written in
// Prometheus's text exposition format by prometheus-cpp's serializer. Names follow
// Prometheus's conventions (strata_ prefix, base units, _total for counters); a family
// is made on its first use, and every use of a name must be of the same kind.
class MetricsText {
 public:
  MetricsText();
  ~MetricsText();
  MetricsText(const MetricsText&) = delete;
  MetricsText& operator=(const MetricsText&) = delete;

  void counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  void gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  // bounds: the buckets' upper bounds; counts: how many fell in each (not cumulative),
  // one more than bounds for those above the last; sum: of every value observed.
  void histogram(const std::string& name, const std::string& help, const Labels& labels,
                 const std::vector<double>& bounds, const std::vector<std::uint64_t>& counts, double sum);
  // The process's resident memory, start time and open files (process_*), and
  // strata_build_info{version}.
  void processMetrics(const std::string& version);

  std::string text() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace strata::admin
