#pragma once

// Pieces the HTTP integration tests share: a broker and a node running echo and sleep,
// a gateway wired to a real client, curl, and raw sockets for what curl will not send.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <strata/integrations/http/bus_call.h>
#include <strata/integrations/http/gateway.h>
#include <strata/nodes/client.h>

#include "cluster.h"

namespace strata::test {

inline constexpr const char* kCurl = "/usr/bin/curl";
inline constexpr const char* kOpenssl = "/usr/bin/openssl";
inline constexpr const char* kPython = "/usr/bin/python3";
// Tokens in the fixture's token file: alice is a front end (layer 4), bob is layer 2.
inline constexpr const char* kAliceToken = "alice-token-0123456789abcdef";
inline constexpr const char* kBobToken = "bob-token-0123456789abcdef";

integrations::http::ConfigLookup lookupOf(std::map<std::string, std::string> keys);

// What curl saw: the status, the response headers (as sent) and the body.
struct CurlResult {
  int exitCode = -1;
  int status = 0;
  std::string headers;
  std::string body;
  std::string err;
  std::string header(const std::string& name) const;  // case-insensitive, trimmed; "" if none
};
CurlResult curl(const std::filesystem::path& dir, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Sends raw bytes to address and returns what came back until the peer closed (or
// timeout passed).
std::string rawExchange(const Poco::Net::SocketAddress& address, const std::string& bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
int statusOf(const std::string& rawResponse);

// A broker, a layer-2 node running echo and sleep, and the gateway's own identity
// "gateway" (layer 4: a front end calling layer-2 services).
class GatewayFixture {
 public:
  // extraIdentities: more names and layers for authorized_keys, made before the broker starts.
  explicit GatewayFixture(const std::map<std::string, int>& extraIdentities = {});

  Cluster& cluster() { return cluster_; }
  std::filesystem::path tokenFile() const { return cluster_.dir() / "tokens"; }

  // A gateway on 127.0.0.1:0 with the token file and extra keys, calling through the client.
  std::unique_ptr<integrations::http::Gateway> start(const std::map<std::string, std::string>& extra = {},
                                                     integrations::http::BusStreams streams = {});
  integrations::http::BusCall busCall();
  // Every bus request the gateway made, as it made it.
  std::vector<integrations::http::BusRequest> calls();
  std::string log();

  nodes::Client& client() { return *client_; }

 private:
  Cluster cluster_;
  std::unique_ptr<nodes::Client> client_;
  std::mutex mutex_;
  std::vector<integrations::http::BusRequest> calls_;
  std::string log_;
};

}  // namespace strata::test
