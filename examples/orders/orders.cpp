// A layer-2 business service built on a layer-3 module: orders.place prices each line
// with pricing.quote, which the same process hosts, so each quote is a function call.
// Body: lines "<sku> <quantity>"; reply: "total <cents>". Each order placed is published
// as an event on orders.placed, body "total <cents>", for whoever subscribes.
#include <sstream>

#include <strata/plugin.h>

namespace {

using strata::plugin::Reply;
using strata::plugin::Request;
using strata::plugin::ServiceError;

class Orders : public strata::plugin::Plugin {
 public:
  explicit Orders(strata::plugin::Host& host) : host_(host) {
    host.addService("orders.place", [this](const Request& request, Reply& reply) { place(request, reply); });
  }

 private:
  void place(const Request& request, Reply& reply) const {
    std::istringstream lines(request.body());
    long long total = 0;
    int count = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      auto quote = host_.call("pricing.quote", line);
      if (!quote.ok()) throw ServiceError(quote.error, "line " + std::to_string(count + 1) + ": " + quote.errorText);
      total += std::stoll(quote.body());
      ++count;
    }
    if (count == 0) throw ServiceError(STRATA_ERROR_MALFORMED, "an order needs at least one line");
    std::string placed = "total " + std::to_string(total);
    // The order stands whether or not anyone hears of it: a failed publish is logged by
    // the node, and the caller still gets its total.
    host_.publish("orders.placed", placed, {{"lines", std::to_string(count)}});
    reply.frame(placed);
  }

  strata::plugin::Host& host_;
};

}  // namespace

STRATA_PLUGIN(Orders, "orders", "1.0.0", "places orders, priced by the pricing module")
