// Placeholder until the json codec lands; replaced by its real implementation.
#include <strata/codecs/payload.h>

#include <stdexcept>

namespace strata::codecs {

namespace {

class Pending final : public PayloadCodec {
 public:
  std::string_view contentType() const override { return "json"; }
  PayloadResult decode(std::string_view, const PayloadLimits&) const override {
    return PayloadResult::failure("json codec not built yet");
  }
  std::string encode(const Poco::Dynamic::Var&) const override { throw std::invalid_argument("json codec not built yet"); }
};

}  // namespace

const PayloadCodec& jsonCodec() {
  static const Pending codec;
  return codec;
}

}  // namespace strata::codecs
