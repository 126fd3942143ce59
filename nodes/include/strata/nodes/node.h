#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <strata/nodes/client.h>
#include <strata/nodes/worker.h>
#include <strata/plugin_abi.h>

namespace strata::nodes {

// A node process: the services it hosts (its own, its plug-ins', its layer-3 modules'),
// served to brokers or clients through a Worker, and its way to call other services.
// A call to a service this process hosts is a plain function call on the caller's
// thread, with no socket and no copy of the body; any other goes through the Client.
//
// Services are added before start() and never change afterwards, so calls read the
// table without a lock from any thread. Calls are answered `unavailable` before start()
// and after close(): plug-ins may call from their own threads (an HTTP gateway listens
// while later plug-ins still load), and shutdown must know when the last call left.
class Node {
 public:
  // Who may call a service.
  enum class Reach {
    kServed,  // brokers and direct-mode clients, and this process
    kLocal,   // this process only: a layer-3 module's service, offered to no broker
  };

  // client: how calls to services hosted elsewhere leave the process; nullopt answers
  // them `unavailable`.
  Node(WorkerOptions worker, std::optional<ClientOptions> client);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Before start(). Throws ConfigError for a name already taken or not a valid name.
  void addService(const std::string& name, Handler handler, Worker::Execution execution = Worker::Execution::kPool,
                  Reach reach = Reach::kServed);
  // A handler behind the plug-in C ABI; called in process with views of the caller's
  // frames. STRATA_SERVICE_INLINE and STRATA_SERVICE_LOCAL in flags as add_service's.
  void addService(const std::string& name, strata_handler_fn handler, void* context, std::uint32_t flags);

  bool hosts(std::string_view service) const;
  // Every service and whether it is served.
  std::vector<std::pair<std::string, Reach>> services() const;

  // Opens the node to calls and starts the worker when some service is served and there
  // are brokers or endpoints to serve it on. Throws ConfigError.
  void start();
  // Stops serving: the worker says goodbye to the brokers; running handlers finish.
  void stop();
  // Refuses new calls and waits up to grace for the running ones to return; true when
  // none is left. After it, the plug-ins may be stopped.
  bool close(std::chrono::milliseconds grace);

  // Calls a service: in process when hosted here (partial replies are dropped, as a
  // blocking remote call drops them), otherwise through the client. The same contract
  // as Client::call: never throws for the callee's failures, which come back as errors.
  Response call(OutgoingRequest request);
  // The same through the C ABI: on_response gets the answer before this returns; the
  // return value is its error code (STRATA_OK when it succeeded).
  int call(const strata_call& call, strata_response_fn onResponse, void* context);
  // Starts a call through the client without waiting, partial replies included (a
  // store's watch): onPartial for each, onFinal once with the answer, both on the
  // client's loop thread. Always through the brokers, as a call from outside. Returns
  // STRATA_OK once sent, or the error code when it could not be (then no callback runs).
  using RawResponse = std::function<void(const strata_response&)>;
  int callStream(const strata_call& call, RawResponse onPartial, RawResponse onFinal);

  // Publishes an event: to this process's subscribers of its subject first, by function
  // call on this thread, then through the client to the brokers (blocking until one
  // accepts; from an event handler, which runs on the client's thread, it returns at once
  // and a refusal is logged). Answered `unavailable` before start() and after close().
  // In-process delivery is a function call within one trusted process, like an
  // in-process call: the brokers' event rights apply to what leaves it. Its subscribers
  // see this node's name and layer as the publisher, and an id of the node's own.
  PublishResult publish(OutgoingEvent event);
  using EventHandler = std::function<void(const Event&)>;
  // Subscribes handler to pattern: events published in this process, and through the
  // client those published anywhere else, each once. Before start() it takes effect at
  // start(), without waiting for the brokers (a refusal is logged); afterwards at once,
  // waiting, and a refusal throws SubscribeError. Returns a number for unsubscribe().
  std::uint64_t subscribe(const std::string& pattern, EventHandler handler);
  void unsubscribe(std::uint64_t number);

  // Calls answered in process and through the client, since start.
  std::uint64_t localCalls() const { return localCalls_.load(std::memory_order_relaxed); }
  std::uint64_t remoteCalls() const { return remoteCalls_.load(std::memory_order_relaxed); }

  // The worker's status, or nullopt when the node serves nothing (a gateway alone). Call
  // after start(); any thread.
  std::optional<Worker::Status> workerStatus() const;

  const std::string& name() const { return workerOptions_.name; }
  core::Layer layer() const { return workerOptions_.layer; }
  // Direct mode: the endpoints bound.
  std::vector<std::string> endpoints() const;

 private:
  struct Service {
    Handler handler;                     // a C++ handler, or
    strata_handler_fn raw = nullptr;     // one behind the C ABI
    void* rawContext = nullptr;
    Worker::Execution execution = Worker::Execution::kPool;
    Reach reach = Reach::kServed;
  };
  void add(const std::string& name, Service service);
  const Service* find(std::string_view name) const;
  Outcome runLocal(const Service& service, IncomingRequest request);
  Response callAdmitted(OutgoingRequest request, bool fromOutside);
  int callAdmitted(const strata_call& call, const core::MessageId& id, strata_response_fn onResponse, void* context);
  bool enter();  // admits a call while running; every true is paired with leave()
  void leave();
  Response refusal(const core::MessageId& id, const std::string& service);
  // A call's deadline when it names none: the client's default.
  std::chrono::milliseconds defaultTimeout() const;

  enum class State { kLoading, kRunning, kClosed };

  struct EventSubscription {
    std::string pattern;
    std::shared_ptr<EventHandler> handler;  // shared with deliveries in progress
    Client::Subscription remote;
  };
  // Lets events reach handlers until close(), which waits for those being delivered: a
  // plug-in's handlers are freed when it stops, right after.
  struct DeliveryGate {
    std::mutex mutex;
    std::condition_variable idle;
    bool open = true;
    std::size_t active = 0;
  };
  static void deliverEvent(DeliveryGate& gate, const EventHandler& handler, const Event& event);
  // Through the client; waiting for the brokers' answer (throws SubscribeError), or not
  // (a refusal is logged).
  void subscribeRemote(EventSubscription& subscription, bool wait);

  WorkerOptions workerOptions_;
  std::optional<ClientOptions> clientOptions_;
  // Looked up by string_view without making a string (C++20 transparent lookup).
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };
  std::unordered_map<std::string, Service, NameHash, std::equal_to<>> services_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<Client> client_;
  std::mutex gate_;
  std::condition_variable drained_;
  State state_ = State::kLoading;  // written under gate_, by start() and close()
  std::size_t inFlight_ = 0;       // under gate_
  std::shared_ptr<DeliveryGate> deliveries_ = std::make_shared<DeliveryGate>();
  std::mutex eventsMutex_;
  std::map<std::uint64_t, EventSubscription> eventSubscriptions_;  // under eventsMutex_
  std::uint64_t nextSubscription_ = 1;                             // under eventsMutex_
  // Events published here carry ids of their own session; the same events coming back
  // through the brokers carry the client's, and are dropped, having been delivered here.
  std::uint64_t localSession_;
  std::atomic<std::uint64_t> localSequence_{0};
  std::atomic<std::uint64_t> localCalls_{0};
  std::atomic<std::uint64_t> remoteCalls_{0};
};

// Runs a C ABI handler on request: the handler sees views of request's frames and
// headers, and its reply becomes the Outcome. partial may be null (partials dropped).
Outcome invokeRawHandler(strata_handler_fn handler, void* context, const IncomingRequest& request,
                         const PartialSender* partial);

}  // namespace strata::nodes
