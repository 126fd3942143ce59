#pragma once

// Headless Chromium (Debian's `chromium`) for tests of the pages Strata serves, driven
// over its DevTools protocol: evaluate script in the page, read its DOM, take a
// screenshot.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <Poco/JSON/Object.h>

namespace Poco::Net {
class HTTPClientSession;
class WebSocket;
}  // namespace Poco::Net

namespace strata::test {

class Cluster;

// One page's DevTools connection.
class DevTools {
 public:
  explicit DevTools(const std::string& webSocketUrl);
  ~DevTools();
  DevTools(const DevTools&) = delete;
  DevTools& operator=(const DevTools&) = delete;

  // Sends a command and returns its "result"; throws std::runtime_error for an error.
  Poco::JSON::Object::Ptr command(const std::string& method, Poco::JSON::Object::Ptr params = nullptr);
  // The value of a script expression, as text ("" for undefined).
  std::string evaluate(const std::string& expression);
  // A PNG of the page as it shows, written to file.
  void screenshot(const std::filesystem::path& file);

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::unique_ptr<Poco::Net::WebSocket> socket_;
  int next_ = 0;
};

inline constexpr const char* kChromium = "/usr/bin/chromium";

// Starts headless Chromium in cluster's directory (a profile of its own, the cluster owns
// the process) on url, and connects to that page. Throws std::runtime_error when it does
// not come up within timeout.
std::unique_ptr<DevTools> openInChromium(Cluster& cluster, const std::string& url,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Where a test keeps what a person would look at (screenshots): test-output/<name> in
// the build tree, made if missing.
std::filesystem::path testOutputFolder(const std::string& name);

}  // namespace strata::test
