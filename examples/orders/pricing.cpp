// A layer-3 business module: prices an order line. strata-node hosts it inside a layer-2
// process (strata.plugin.pricing.layer = 3), so only code in that process calls it, by a
// plain function call. Body: "<sku> <quantity>"; reply: the price in cents. It listens to
// orders.placed, which the orders service of the same process publishes: each event comes
// to it by function call, once, although the brokers relay it too.
#include <charconv>
#include <map>

#include <strata/plugin.h>

namespace {

using strata::plugin::Reply;
using strata::plugin::Request;
using strata::plugin::ServiceError;

class Pricing : public strata::plugin::Plugin {
 public:
  explicit Pricing(strata::plugin::Host& host)
      : discountPercent_(host.configInt("discount_percent", 0, 0, 100)) {
    host.addService("pricing.quote", [this](const Request& request, Reply& reply) { quote(request, reply); });
    if (host.hasEvents()) {
      host.subscribe("orders.placed", [&host](const strata::plugin::EventView& e) {
        host.info("pricing heard of an order from " + std::string(e.publisherName()) + ": " + std::string(e.body()));
      });
    }
  }

 private:
  void quote(const Request& request, Reply& reply) const {
    std::string body = request.body();
    auto space = body.find(' ');
    if (space == std::string::npos) throw ServiceError(STRATA_ERROR_MALFORMED, "pricing.quote takes '<sku> <quantity>'");
    auto it = kCatalogue.find(body.substr(0, space));
    if (it == kCatalogue.end()) throw ServiceError(STRATA_ERROR_MALFORMED, "no such sku: " + body.substr(0, space));
    long long quantity = 0;
    auto [end, error] = std::from_chars(body.data() + space + 1, body.data() + body.size(), quantity);
    if (error != std::errc() || end != body.data() + body.size() || quantity <= 0 || quantity > kMaxQuantity) {
      throw ServiceError(STRATA_ERROR_MALFORMED, "quantity must be a whole number from 1 to 10000");
    }
    long long cents = it->second * quantity * (100 - discountPercent_) / 100;
    reply.frame(std::to_string(cents));
  }

  static constexpr long long kMaxQuantity = 10'000;
  inline static const std::map<std::string, long long> kCatalogue{{"apple", 45}, {"pear", 60}, {"plum", 30}};
  long long discountPercent_;
};

}  // namespace

STRATA_PLUGIN(Pricing, "pricing", "1.0.0", "prices order lines (a layer-3 module)", "discount_percent")
