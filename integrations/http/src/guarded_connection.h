#pragma once

#include <atomic>
#include <string>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include "connection_gate.h"
#include "connection_watch.h"

namespace strata::integrations::http {

// One client connection on a worker thread, registered with the watchdog while it is
// there. Plain HTTP with a gate: serves exactly one request, then hands a connection
// that may stay open back to the gate (ConnectionGate::readmit), so every request on a
// keep-alive connection, not only the first, waits for its whole header off the worker
// threads. TLS (whose bytes the gate cannot read): TLS-wrapped, handshake included, then
// served request after request on this thread (keep-alive, bounded by the watchdog). A
// request that opens an event stream hands its connection to the stream hub. Malformed
// requests are answered 400, as Poco's loop does.
class GuardedConnection : public Poco::Net::TCPServerConnection {
 public:
  struct Shared {
    Poco::Net::HTTPServerParams::Ptr params;
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers;
    Poco::Net::Context::Ptr tls;  // null for plain HTTP
    ConnectionWatch* watch = nullptr;
    // Set once the gate exists (it may dispatch before); null: no hand back.
    std::atomic<ConnectionGate*> gate{nullptr};
  };

  GuardedConnection(const Poco::Net::StreamSocket& socket, const Shared& shared);
  void run() override;

 private:
  enum class Next {
    kClose,    // the connection ends
    kAnother,  // it may carry another request
    kStream,   // it left for the stream hub (and the watchdog)
  };
  // Serves one request on socket (plain, or TLS-wrapped), the served+1-th on it.
  Next serveOne(Poco::Net::StreamSocket& socket, bool tls, int served, const std::string& peer);
  static void sendBadRequest(Poco::Net::HTTPServerSession& session);

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
