#include <strata/integrations/common/peer_verification.h>

#include <openssl/ssl.h>

namespace strata::integrations {

void verifyWithoutAsking(Poco::Net::Context& context) {
  SSL_CTX* raw = context.sslContext();
  // No callback: OpenSSL's own result of the chain check decides. The mode the context
  // set (VERIFY_PEER for a client) is kept.
  SSL_CTX_set_verify(raw, SSL_CTX_get_verify_mode(raw), nullptr);
}

}  // namespace strata::integrations
