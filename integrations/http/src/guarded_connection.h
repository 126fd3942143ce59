#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include "connection_watch.h"

namespace strata::integrations::http {

// One client connection on a worker thread: registered with the watchdog for its whole
// life, TLS-wrapped (handshake included) when the gateway has a TLS context, then served
// by Poco's HTTPServerConnection (keep-alive, 100-continue, malformed requests -> 400).
class GuardedConnection : public Poco::Net::TCPServerConnection {
 public:
  struct Shared {
    Poco::Net::HTTPServerParams::Ptr params;
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers;
    Poco::Net::Context::Ptr tls;  // null for plain HTTP
    ConnectionWatch* watch = nullptr;
  };

  GuardedConnection(const Poco::Net::StreamSocket& socket, const Shared& shared);
  void run() override;

 private:
  const Shared& shared_;
};

// Makes a GuardedConnection for each socket the dispatcher takes from its queue. shared
// must outlive the factory and every connection.
class GuardedConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit GuardedConnectionFactory(const GuardedConnection::Shared& shared) : shared_(shared) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GuardedConnection(socket, shared_);
  }

 private:
  const GuardedConnection::Shared& shared_;
};

}  // namespace strata::integrations::http
