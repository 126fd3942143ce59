#include <strata/admin/metrics_text.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace strata::admin {

namespace {

// Seconds since the epoch when this process started, from /proc (its 22nd stat field,
// in clock ticks since boot) and the boot time.
double startTimeSeconds() {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) ticks = std::stoull(field);
  }
  std::ifstream procStat("/proc/stat");
  double boot = 0;
  for (std::string line; std::getline(procStat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  return boot + static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double residentBytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double openFiles() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

struct MetricsText::State {
  prometheus::Registry registry;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms;
};

MetricsText::MetricsText() : state_(std::make_unique<State>()) {}
MetricsText::~MetricsText() = default;

void MetricsText::counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto& family = state_->counters[name];
  if (family == nullptr) family = &prometheus::BuildCounter().Name(name).Help(help).Register(state_->registry);
  family->Add(labels).Increment(value);
}

void MetricsText::gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto& family = state_->gauges[name];
  if (family == nullptr) family = &prometheus::BuildGauge().Name(name).Help(help).Register(state_->registry);
  family->Add(labels).Set(value);
}

void MetricsText::histogram(const std::string& name, const std::string& help, const Labels& labels,
                            const std::vector<double>& bounds, const std::vector<std::uint64_t>& counts, double sum) {
  auto& family = state_->histograms[name];
  if (family == nullptr) family = &prometheus::BuildHistogram().Name(name).Help(help).Register(state_->registry);
  std::vector<double> increments(counts.begin(), counts.end());
  family->Add(labels, bounds).ObserveMultiple(increments, sum);
}

void MetricsText::processMetrics(const std::string& version) {
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, residentBytes());
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", {}, startTimeSeconds());
  gauge("process_open_fds", "Number of open file descriptors.", {}, openFiles());
  gauge("strata_build_info", "The Strata version this process runs; always 1.", {{"version", version}}, 1);
}

std::string MetricsText::text() const {
  return prometheus::TextSerializer().Serialize(state_->registry.Collect());
}

}  // namespace strata::admin
