// Placeholder until the xml codec lands; replaced by its real implementation.
#include <strata/codecs/payload.h>

#include <stdexcept>

namespace strata::codecs {

namespace {

class Pending final : public PayloadCodec {
 public:
  std::string_view contentType() const override { return "xml"; }
  PayloadResult decode(std::string_view, const PayloadLimits&) const override {
    return PayloadResult::failure("xml codec not built yet");
  }
  std::string encode(const Poco::Dynamic::Var&) const override { throw std::invalid_argument("xml codec not built yet"); }
};

}  // namespace

const PayloadCodec& xmlCodec() {
  static const Pending codec;
  return codec;
}

}  // namespace strata::codecs
