#include <strata/core/layer_policy.h>

#include <gtest/gtest.h>

#include <strata/core/errors.h>

namespace strata::core {
namespace {

TEST(LayerPolicy, DefaultAllowsLayer4ToCallLayer2) { EXPECT_TRUE(LayerPolicy().allows(4, 2, "orders")); }

TEST(LayerPolicy, DefaultRefusesLayer4CallingLayer1Or0) {
  LayerPolicy policy;
  EXPECT_FALSE(policy.allows(4, 1, "db"));
  EXPECT_FALSE(policy.allows(4, 0, "db"));
}

TEST(LayerPolicy, DefaultRefusesCallsWithinTheSameLayer) {
  LayerPolicy policy;
  for (Layer layer = kMinLayer; layer <= kMaxLayer; ++layer) {
    EXPECT_FALSE(policy.allows(layer, layer, "svc")) << layer;
  }
}

TEST(LayerPolicy, DefaultAllowsLayer2ToCallLayers1And0) {
  LayerPolicy policy;
  EXPECT_TRUE(policy.allows(2, 1, "db"));
  EXPECT_TRUE(policy.allows(2, 0, "db"));
}

TEST(LayerPolicy, DefaultAllowsLayer3ModuleToCallLayers1And0) {
  LayerPolicy policy;
  EXPECT_TRUE(policy.allows(3, 1, "db"));
  EXPECT_TRUE(policy.allows(3, 0, "db"));
  EXPECT_FALSE(policy.allows(3, 2, "orders"));
}

TEST(LayerPolicy, DefaultAllowsLayer1ToCallLayer0) { EXPECT_TRUE(LayerPolicy().allows(1, 0, "storage")); }

TEST(LayerPolicy, DefaultRefusesLayer1CallingUpwards) {
  LayerPolicy policy;
  EXPECT_FALSE(policy.allows(1, 2, "orders"));
  EXPECT_FALSE(policy.allows(1, 4, "web"));
}

TEST(LayerPolicy, DefaultRefusesLayer0CallingAnything) {
  LayerPolicy policy;
  for (Layer target = kMinLayer; target <= kMaxLayer; ++target) {
    EXPECT_FALSE(policy.allows(0, target, "svc")) << "0 -> " << target;
  }
}

TEST(LayerPolicy, ReservedServicesAnswerEveryLayer) {
  LayerPolicy policy;
  for (Layer caller = kMinLayer; caller <= kMaxLayer; ++caller) {
    EXPECT_TRUE(policy.allows(caller, 0, "strata.ping")) << caller;
    EXPECT_TRUE(policy.allows(caller, 4, "strata.services")) << caller;
  }
}

TEST(LayerPolicy, ReservedPrefixNeedsTheDot) {
  // "stratafoo" is an ordinary service, not a reserved one.
  EXPECT_FALSE(LayerPolicy().allows(0, 0, "stratafoo"));
}

TEST(LayerPolicy, ReservedServicesIgnoreServiceOverride) {
  LayerPolicy policy;
  policy.setServiceCallers("strata.ping", "4");
  EXPECT_TRUE(policy.allows(0, 0, "strata.ping"));
}

TEST(LayerPolicy, RefusesCallerLayerOutsideRange) {
  LayerPolicy policy;
  EXPECT_FALSE(policy.allows(-1, 0, "db"));
  EXPECT_FALSE(policy.allows(5, 2, "orders"));
}

TEST(LayerPolicy, ServiceOverrideAllowsListedCallerAgainstDefault) {
  LayerPolicy policy;
  policy.setServiceCallers("audit", "4,2");
  EXPECT_TRUE(policy.allows(4, 1, "audit"));  // 4 -> 1 is refused by default
  EXPECT_TRUE(policy.allows(2, 1, "audit"));
}

TEST(LayerPolicy, ServiceOverrideRefusesUnlistedCallerAgainstDefault) {
  LayerPolicy policy;
  policy.setServiceCallers("audit", "4");
  EXPECT_FALSE(policy.allows(2, 1, "audit"));  // 2 -> 1 is allowed by default
}

TEST(LayerPolicy, ServiceOverrideLeavesOtherServicesOnDefault) {
  LayerPolicy policy;
  policy.setServiceCallers("audit", "4");
  EXPECT_FALSE(policy.allows(4, 1, "db"));
  EXPECT_TRUE(policy.allows(2, 1, "db"));
}

TEST(LayerPolicy, ServiceOverrideReplacesEarlierOverride) {
  LayerPolicy policy;
  policy.setServiceCallers("audit", "4");
  policy.setServiceCallers("audit", "2");
  EXPECT_FALSE(policy.allows(4, 1, "audit"));
  EXPECT_TRUE(policy.allows(2, 1, "audit"));
}

TEST(LayerPolicy, SetDefaultRulesReplacesBuiltInRules) {
  LayerPolicy policy;
  policy.setDefaultRules("4:1 ; 1:0");
  EXPECT_TRUE(policy.allows(4, 1, "db"));
  EXPECT_FALSE(policy.allows(4, 2, "orders"));  // was allowed by the built-in rules
  EXPECT_FALSE(policy.allows(2, 1, "db"));
  EXPECT_TRUE(policy.allows(1, 0, "storage"));
}

TEST(LayerPolicy, EmptyDefaultRulesRefuseEveryOrdinaryCall) {
  LayerPolicy policy;
  policy.setDefaultRules("");
  EXPECT_FALSE(policy.allows(4, 2, "orders"));
  EXPECT_TRUE(policy.allows(4, 2, "strata.ping"));
}

TEST(LayerPolicy, BadRuleTextThrowsConfigError) {
  for (const char* rules : {"4-2", "4:2;5:1", "4:x", "a:1", "4:12", "44:2", ":2", "4:2;2"}) {
    LayerPolicy policy;
    EXPECT_THROW(policy.setDefaultRules(rules), ConfigError) << rules;
  }
}

TEST(LayerPolicy, BadRuleTextKeepsPreviousRules) {
  // A rejected reload must not leave a half-applied policy behind.
  LayerPolicy policy;
  EXPECT_THROW(policy.setDefaultRules("4:1;9:0"), ConfigError);
  EXPECT_TRUE(policy.allows(4, 2, "orders"));
  EXPECT_FALSE(policy.allows(4, 1, "db"));
}

TEST(LayerPolicy, BadServiceCallersThrowConfigError) {
  LayerPolicy policy;
  EXPECT_THROW(policy.setServiceCallers("audit", "4,7"), ConfigError);
  EXPECT_THROW(policy.setServiceCallers("audit", "four"), ConfigError);
}

TEST(LayerPolicy, BadServiceCallersKeepPreviousOverride) {
  LayerPolicy policy;
  policy.setServiceCallers("audit", "4");
  EXPECT_THROW(policy.setServiceCallers("audit", "2,x"), ConfigError);
  EXPECT_TRUE(policy.allows(4, 1, "audit"));
}

}  // namespace
TEST(LayerPolicy, ByDefaultLayersZeroToThreePublishAnywhereAndFrontEndsNowhere) {
  LayerPolicy policy;
  for (Layer layer = 0; layer <= 3; ++layer) EXPECT_TRUE(policy.mayPublish(layer, "orders.eu")) << layer;
  EXPECT_FALSE(policy.mayPublish(4, "orders.eu"));
}

TEST(LayerPolicy, ByDefaultEveryLayerMaySubscribeToAnything) {
  LayerPolicy policy;
  for (Layer layer = 0; layer <= 4; ++layer) EXPECT_TRUE(policy.maySubscribe(layer, ">")) << layer;
}

TEST(LayerPolicy, PublishRightsAreSubjectPatterns) {
  LayerPolicy policy;
  policy.setPublishRights(1, "store.>, audit.*");
  EXPECT_TRUE(policy.mayPublish(1, "store.orders.changed"));
  EXPECT_TRUE(policy.mayPublish(1, "audit.login"));
  EXPECT_FALSE(policy.mayPublish(1, "audit.login.failed"));
  EXPECT_FALSE(policy.mayPublish(1, "orders.eu"));
  EXPECT_TRUE(policy.mayPublish(2, "orders.eu"));  // other layers keep their defaults
}

TEST(LayerPolicy, ASubscriptionMustLieInsideARight) {
  LayerPolicy policy;
  policy.setSubscribeRights(4, "store.public.>");
  EXPECT_TRUE(policy.maySubscribe(4, "store.public.orders"));
  EXPECT_TRUE(policy.maySubscribe(4, "store.public.*"));
  EXPECT_FALSE(policy.maySubscribe(4, "store.*"));  // would reach store.private
  EXPECT_FALSE(policy.maySubscribe(4, ">"));
}

TEST(LayerPolicy, NoneTakesEveryRightAway) {
  LayerPolicy policy;
  policy.setPublishRights(2, "none");
  policy.setSubscribeRights(2, "none");
  EXPECT_FALSE(policy.mayPublish(2, "a"));
  EXPECT_FALSE(policy.maySubscribe(2, "a"));
}

TEST(LayerPolicy, RefusesRightsThatAreNoPatterns) {
  LayerPolicy policy;
  EXPECT_THROW(policy.setPublishRights(1, "store..x"), ConfigError);
  EXPECT_THROW(policy.setSubscribeRights(1, "a.>.b"), ConfigError);
  EXPECT_THROW(policy.setPublishRights(5, ">"), ConfigError);
}

}  // namespace strata::core
