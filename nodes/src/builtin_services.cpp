#include <strata/nodes/builtin_services.h>

#include <charconv>
#include <thread>

#include <strata/core/errors.h>

namespace strata::nodes {

Outcome echoService(const IncomingRequest& request, const PartialSender&) {
  return Outcome::reply(request.body, request.headers);
}

Outcome sleepService(const IncomingRequest& request, const PartialSender&) {
  std::string text;
  for (const auto& frame : request.body) text += frame;
  long long ms = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (error != std::errc() || end != text.data() + text.size() || ms < 0) {
    return Outcome::failure(ErrorCode::kMalformed, "sleep takes a whole number of milliseconds");
  }
  auto until = std::min(std::chrono::steady_clock::now() + std::min(std::chrono::milliseconds(ms), kMaxSleep),
                        request.deadline);
  std::this_thread::sleep_until(until);
  return Outcome::reply({"slept " + std::to_string(ms) + " ms"});
}

void addBuiltinServices(Node& node, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (name == "echo") {
      node.addService(name, echoService, Worker::Execution::kInline);
    } else if (name == "sleep") {
      node.addService(name, sleepService);
    } else {
      throw ConfigError("unknown service '" + name + "' in strata.services; built in: echo, sleep");
    }
  }
}

}  // namespace strata::nodes
