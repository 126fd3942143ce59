#include <gtest/gtest.h>

#include <map>

#include <strata/core/errors.h>
#include <strata/integrations/http/gateway_options.h>
#include <strata/integrations/http/http_requester.h>

namespace strata::integrations::http {
namespace {

ConfigLookup lookup(std::map<std::string, std::string> keys) {
  return [keys = std::move(keys)](const std::string& key) -> std::optional<std::string> {
    auto it = keys.find(key);
    if (it == keys.end()) return std::nullopt;
    return it->second;
  };
}

TEST(GatewayOptions, HasSaneDefaults) {
  auto o = parseGatewayOptions(lookup({{"listen", "127.0.0.1:0"}, {"anonymous_layer", "4"}}));
  EXPECT_EQ(o.listen, "127.0.0.1:0");
  EXPECT_EQ(o.maxBody, 1024u * 1024u);
  EXPECT_EQ(o.anonymousLayer, 4);
  EXPECT_FALSE(o.tls());
  EXPECT_FALSE(o.xmlrpc);
  EXPECT_GT(o.maxThreads, 1);
  EXPECT_GT(o.maxQueued, 0);
  EXPECT_EQ(o.serviceLayer("echo"), 2);
  EXPECT_TRUE(o.policy.allows(4, 2, "echo"));
  EXPECT_FALSE(o.policy.allows(4, 1, "store"));
}

TEST(GatewayOptions, ReadsPolicyServiceLayersAndLimits) {
  auto o = parseGatewayOptions(lookup({{"listen", "127.0.0.1:0"},
                                       {"anonymous_layer", "4"},
                                       {"policy", "4:2,1"},
                                       {"service_layer.store", "1"},
                                       {"service_layer.bad", "9"},
                                       {"max_body", "10"},
                                       {"timeout_ms", "900000"},
                                       {"max_timeout_ms", "2000"},
                                       {"xmlrpc", "true"}}));
  EXPECT_EQ(o.serviceLayer("store"), 1);
  EXPECT_EQ(o.serviceLayer("bad"), std::nullopt);
  EXPECT_TRUE(o.policy.allows(4, 1, "store"));
  EXPECT_EQ(o.maxBody, 10u);
  EXPECT_EQ(o.callTimeout, std::chrono::milliseconds(2000));  // capped by max_timeout_ms
  EXPECT_TRUE(o.xmlrpc);
}

TEST(GatewayOptions, RefusesMissingOrMalformedKeys) {
  EXPECT_THROW(parseGatewayOptions(lookup({{"anonymous_layer", "4"}})), ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "127.0.0.1:0"}})), ConfigError);  // nobody may call
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "127.0.0.1:0"}, {"anonymous_layer", "7"}})), ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "x"}, {"anonymous_layer", "4"}, {"max_body", "-1"}})),
               ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "x"}, {"anonymous_layer", "4"}, {"max_threads", "many"}})),
               ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "x"}, {"anonymous_layer", "4"}, {"policy", "9:1"}})),
               ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "x"}, {"anonymous_layer", "4"}, {"tls_cert", "c.pem"}})),
               ConfigError);
  EXPECT_THROW(parseGatewayOptions(lookup({{"listen", "x"}, {"anonymous_layer", "4"}, {"xmlrpc", "maybe"}})),
               ConfigError);
}

TEST(RequesterOptions, ReadsTheAllowListAndLimits) {
  auto o = parseRequesterOptions(lookup({{"allow", "http://127.0.0.1:1/api/"}, {"client_timeout_ms", "250"},
                                         {"client_max_body", "100"}}));
  EXPECT_EQ(o.allow.prefixes().size(), 1u);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(o.maxResponseBody, 100u);
  EXPECT_THROW(parseRequesterOptions(lookup({})), ConfigError);
  EXPECT_THROW(parseRequesterOptions(lookup({{"allow", "http://a@b/"}})), ConfigError);
}

TEST(HttpRequester, RefusesBadRequestsWithoutConnecting) {
  // Port 1 on loopback: nothing listens, so a request that got through would be
  // "unavailable", never the errors below.
  HttpRequester requester(parseRequesterOptions(lookup({{"allow", "http://127.0.0.1:1/api/"}})));
  auto code = [&](const std::string& body) { return requester.handle(body).error; };
  EXPECT_EQ(code("not json"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code("[1]"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/admin"})"), codecs::ErrorCode::kForbidden);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/../admin"})"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1@evil.example/api/"})"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"method": "GET\r\nX: y", "url": "http://127.0.0.1:1/api/"})"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/", "headers": {"X-A": "b\r\nHost: evil"}})"),
            codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/", "headers": {"X-A\r\nB": "c"}})"),
            codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/", "headers": {"Host": "evil.example"}})"),
            codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/", "surprise": 1})"), codecs::ErrorCode::kMalformed);
  EXPECT_EQ(code(R"({"url": "http://127.0.0.1:1/api/"})"), codecs::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace strata::integrations::http
