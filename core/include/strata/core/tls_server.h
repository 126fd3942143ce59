#pragma once

// Header-only, so that core itself needs no TLS library: whoever includes it links
// Poco::NetSSL (the admin endpoint and the HTTP gateway do).

#include <mutex>
#include <string>

#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>

#include <strata/core/errors.h>

namespace strata::core {

// A TLS server context of TLS 1.2 and later from a PEM certificate (chain) and key;
// throws ConfigError naming what (the keys that gave them) when they do not load.
inline Poco::Net::Context::Ptr tlsServerContext(const std::string& cert, const std::string& key,
                                                const std::string& what) {
  // Poco's SSL initialisation is reference counted and never undone here: another part of
  // the process may use it too (OpenSSL 1.1+ cleans up by itself).
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
  try {
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, cert, "", Poco::Net::Context::VERIFY_NONE);
    context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    return context;
  } catch (const Poco::Exception& e) {
    throw ConfigError(what + ": cannot use certificate " + cert + " / key " + key + ": " + e.displayText());
  }
}

}  // namespace strata::core
