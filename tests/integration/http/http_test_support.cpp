#include "http_test_support.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>

#include <strata/integrations/http/error_status.h>
#include <strata/integrations/http/gateway_options.h>

namespace strata::test {

namespace http = integrations::http;

http::ConfigLookup lookupOf(std::map<std::string, std::string> keys) {
  return [keys = std::move(keys)](const std::string& key) -> std::optional<std::string> {
    auto it = keys.find(key);
    if (it == keys.end()) return std::nullopt;
    return it->second;
  };
}

std::string CurlResult::header(const std::string& name) const {
  std::size_t start = 0;
  while (start < headers.size()) {
    auto end = headers.find('\n', start);
    std::string line = headers.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? headers.size() : end + 1;
    auto colon = line.find(':');
    if (colon == std::string::npos || Poco::icompare(line.substr(0, colon), name) != 0) continue;
    return Poco::trim(line.substr(colon + 1));
  }
  return "";
}

CurlResult curl(const std::filesystem::path& dir, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout) {
  static std::atomic<int> counter{0};
  auto n = std::to_string(counter++);
  auto headers = dir / ("curl-headers-" + n);
  auto body = dir / ("curl-body-" + n);
  std::vector<std::string> all{"-sS", "-D", headers.string(), "-o", body.string(), "-w", "%{http_code}"};
  all.insert(all.end(), args.begin(), args.end());
  auto run = runProgram(kCurl, all, "", timeout);
  CurlResult result;
  result.exitCode = run.exitCode;
  result.err = run.err;
  result.status = run.out.empty() ? 0 : std::atoi(run.out.c_str());
  result.headers = std::filesystem::exists(headers) ? readFile(headers) : "";
  result.body = std::filesystem::exists(body) ? readFile(body) : "";
  return result;
}

std::string rawExchange(const Poco::Net::SocketAddress& address, const std::string& bytes,
                        std::chrono::milliseconds timeout) {
  Poco::Net::StreamSocket socket(address);
  socket.setReceiveTimeout(Poco::Timespan(timeout.count() * 1000));
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  std::string out;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    while (std::chrono::steady_clock::now() < deadline) {
      int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
    // Timeout or reset: return what came.
  }
  return out;
}

int statusOf(const std::string& rawResponse) {
  // "HTTP/1.1 400 Bad Request"
  if (rawResponse.size() < 12 || rawResponse.rfind("HTTP/1.", 0) != 0) return 0;
  return std::atoi(rawResponse.substr(9, 3).c_str());
}

GatewayFixture::GatewayFixture(const std::map<std::string, int>& extraIdentities) {
  cluster_.addIdentity("broker", std::nullopt);
  cluster_.addIdentity("logic", 2);
  cluster_.addIdentity("gateway", 4);
  for (const auto& [name, layer] : extraIdentities) cluster_.addIdentity(name, layer);
  cluster_.startBroker();
  cluster_.startNode("logic", "echo, sleep");
  client_ = std::make_unique<nodes::Client>(cluster_.clientOptions("gateway"));
  std::ofstream(tokenFile()) << "# test tokens\n"
                             << kAliceToken << " alice 4\n"
                             << kBobToken << " bob 2\n";
  ::chmod(tokenFile().c_str(), 0600);
}

http::BusCall GatewayFixture::busCall() {
  return [this](const http::BusRequest& request) {
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(request);
    }
    nodes::OutgoingRequest outgoing;
    outgoing.service = request.service;
    outgoing.body.push_back(request.body);
    outgoing.headers = request.headers;
    outgoing.timeout = request.timeout;
    auto response = client_->call(std::move(outgoing));
    http::BusReply reply;
    if (!response.ok) {
      reply.error = response.errorCode;
      reply.errorText = response.errorText;
      return reply;
    }
    reply.headers = response.headers;
    reply.body = response.bodyText();
    return reply;
  };
}

std::unique_ptr<http::Gateway> GatewayFixture::start(const std::map<std::string, std::string>& extra,
                                                     http::BusStreams streams) {
  std::map<std::string, std::string> keys{{"listen", "127.0.0.1:0"}, {"tokens", tokenFile().string()}};
  for (const auto& [k, v] : extra) keys[k] = v;
  return std::make_unique<http::Gateway>(http::parseGatewayOptions(lookupOf(keys)), busCall(),
                                         [this](const std::string& text) {
                                           std::lock_guard lock(mutex_);
                                           log_ += text + "\n";
                                         },
                                         std::move(streams));
}

std::vector<http::BusRequest> GatewayFixture::calls() {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::string GatewayFixture::log() {
  std::lock_guard lock(mutex_);
  return log_;
}

}  // namespace strata::test
