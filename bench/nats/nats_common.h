#pragma once

// What the NATS programs (nats-client and nats-worker for e2e, nats-publisher and
// nats-subscriber for events) share: owners for libnats's handles and a connection to
// one server, on plain TCP or, given a CA file, over TLS.

#include <memory>
#include <stdexcept>
#include <string>

#include <nats/nats.h>

namespace strata::bench::nats {

// The request/reply programs' service; the event programs take --subject.
constexpr const char* kSubject = "echo";
constexpr const char* kQueueGroup = "workers";

// Throws std::runtime_error naming what failed, with libnats's text for status.
inline void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw std::runtime_error(what + ": " + natsStatus_GetText(status));
}

struct ConnectionDeleter {
  void operator()(natsConnection* connection) const noexcept { natsConnection_Destroy(connection); }
};
struct SubscriptionDeleter {
  void operator()(natsSubscription* subscription) const noexcept { natsSubscription_Destroy(subscription); }
};
struct OptionsDeleter {
  void operator()(natsOptions* options) const noexcept { natsOptions_Destroy(options); }
};
using Connection = std::unique_ptr<natsConnection, ConnectionDeleter>;
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

// Opens libnats and closes it (its threads and memory) when the last handle is gone:
// declare it first. Throws std::runtime_error.
struct Library {
  Library() { check(nats_Open(-1), "nats_Open"); }
  ~Library() { nats_Close(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// Connects to the server at url (nats://127.0.0.1:PORT, or tls://... with caFile, the
// certificate that signed the server's). With sendAsap each publish is written at once;
// without, libnats's flusher thread gathers writes (it waits about a millisecond for more
// first). Throws std::runtime_error.
inline Connection connect(const std::string& url, bool sendAsap, const std::string& caFile = {}) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "natsOptions_Create");
  std::unique_ptr<natsOptions, OptionsDeleter> options(raw);
  check(natsOptions_SetURL(options.get(), url.c_str()), "natsOptions_SetURL");
  if (!caFile.empty()) {
    check(natsOptions_SetSecure(options.get(), true), "natsOptions_SetSecure");
    check(natsOptions_LoadCATrustedCertificates(options.get(), caFile.c_str()), "cannot load " + caFile);
  }
  check(natsOptions_SetSendAsap(options.get(), sendAsap), "natsOptions_SetSendAsap");
  natsConnection* connection = nullptr;
  check(natsConnection_Connect(&connection, options.get()), "cannot connect to " + url);
  return Connection(connection);
}

}  // namespace strata::bench::nats
