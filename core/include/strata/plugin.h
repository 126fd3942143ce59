#pragma once

// A header-only C++ layer over <strata/plugin_abi.h> for writing plug-ins. Everything
// here compiles into the plug-in, so only the C ABI crosses into strata-node: a plug-in
// built with it does not link any Strata library.
//
//   class Greeter : public strata::plugin::Plugin {
//    public:
//     explicit Greeter(strata::plugin::Host& host) {
//       host.addService("greet", [](const strata::plugin::Request& request, strata::plugin::Reply& reply) {
//         reply.frame("hello, " + request.body());
//       });
//     }
//   };
//   STRATA_PLUGIN(Greeter, "greeter", "1.0", "says hello", "greeting")
//
// Exceptions never cross the boundary: one thrown by a handler becomes an `internal`
// error with its text; one thrown by the constructor fails the plug-in's start with it.

#include <array>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <strata/core/whole_number.h>
#include <strata/plugin_abi.h>

namespace strata::plugin {

using Id = std::array<std::uint8_t, 16>;

inline std::string_view view(strata_bytes bytes) { return {bytes.data, bytes.size}; }
inline strata_bytes bytes(std::string_view text) { return {text.data(), text.size()}; }

// Thrown by handlers for an error with its own code; any other exception is `internal`.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(strata_error code, const std::string& text) : std::runtime_error(text), code_(code) {}
  strata_error code() const { return code_; }

 private:
  strata_error code_;
};

// A read-only view of a request; valid while the handler runs.
class Request {
 public:
  explicit Request(const strata_request& raw) : raw_(raw) {}

  Id id() const {
    Id id{};
    std::memcpy(id.data(), raw_.id, id.size());
    return id;
  }
  std::string_view service() const { return view(raw_.service); }
  std::string_view callerName() const { return view(raw_.caller_name); }
  int callerLayer() const { return raw_.caller_layer; }
  std::chrono::milliseconds timeLeft() const { return std::chrono::milliseconds(raw_.deadline_ms); }

  std::optional<std::string_view> header(std::string_view key) const {
    for (std::size_t i = 0; i < raw_.header_count; ++i) {
      if (view(raw_.headers[i].key) == key) return view(raw_.headers[i].value);
    }
    return std::nullopt;
  }
  std::span<const strata_header> headers() const { return {raw_.headers, raw_.header_count}; }
  std::span<const strata_bytes> frames() const { return {raw_.frames, raw_.frame_count}; }
  // The body frames joined (a copy).
  std::string body() const {
    std::string out;
    for (const auto& frame : frames()) out.append(frame.data, frame.size);
    return out;
  }
  const strata_request& raw() const { return raw_; }

 private:
  const strata_request& raw_;
};

// The reply a handler builds.
class Reply {
 public:
  Reply(const strata_host_api& api, strata_reply* raw) : api_(api), raw_(raw) {}

  void frame(std::string_view data) { api_.reply_frame(raw_, data.data(), data.size()); }
  void header(std::string_view key, std::string_view value) {
    api_.reply_header(raw_, key.data(), key.size(), value.data(), value.size());
  }
  void error(strata_error code, const std::string& text) { error(code, text.c_str()); }
  // Allocates nothing, so it is safe where an exception must not start (a catch block).
  void error(strata_error code, const char* text) noexcept {
    api_.reply_error(raw_, static_cast<std::uint16_t>(code), text);
  }
  // Sends what was added so far as a partial reply.
  void partial() { api_.reply_partial(raw_); }

  // Takes the answer out of the handler (see LaterReply); empty where the answer must
  // come before the handler returns, or with a host too old to know.
  std::optional<class LaterReply> detach();

 private:
  const strata_host_api& api_;
  strata_reply* raw_;
};

// A reply answered after its handler returned: partials from any thread, one at a time,
// then finish(). Movable; one never finished is finished `unavailable` when it goes.
class LaterReply {
 public:
  LaterReply(const strata_host_api& api, strata_reply* raw) : api_(&api), raw_(raw) {}
  LaterReply(LaterReply&& other) noexcept : api_(other.api_), raw_(std::exchange(other.raw_, nullptr)) {}
  LaterReply& operator=(LaterReply&& other) noexcept {
    if (this != &other) {
      abandon();
      api_ = other.api_;
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  LaterReply(const LaterReply&) = delete;
  LaterReply& operator=(const LaterReply&) = delete;
  ~LaterReply() { abandon(); }

  void frame(std::string_view data) { api_->reply_frame(raw_, data.data(), data.size()); }
  void header(std::string_view key, std::string_view value) {
    api_->reply_header(raw_, key.data(), key.size(), value.data(), value.size());
  }
  // Sends what was added so far as a partial reply.
  void partial() { api_->reply_partial(raw_); }
  // Sends the final answer: the frames added since the last partial.
  void finish() { api_->reply_finish(std::exchange(raw_, nullptr)); }
  void finish(strata_error code, const std::string& text) {
    api_->reply_error(raw_, static_cast<std::uint16_t>(code), text.c_str());
    finish();
  }
  bool finished() const { return raw_ == nullptr; }

 private:
  void abandon() noexcept {
    if (raw_ == nullptr) return;
    api_->reply_error(raw_, STRATA_ERROR_UNAVAILABLE, "the answer was abandoned");
    api_->reply_finish(std::exchange(raw_, nullptr));
  }
  const strata_host_api* api_;
  strata_reply* raw_;
};

inline std::optional<LaterReply> Reply::detach() {
  if (api_.struct_size < offsetof(strata_host_api, reply_finish) + sizeof api_.reply_finish) return std::nullopt;
  strata_reply* later = api_.reply_detach(raw_);
  if (later == nullptr) return std::nullopt;
  return LaterReply(api_, later);
}

// An owned copy of a strata_response.
struct Response {
  Id id{};
  strata_error error = STRATA_OK;
  std::string errorText;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> frames;

  bool ok() const { return error == STRATA_OK; }
  std::string body() const {
    std::string out;
    for (const auto& f : frames) out += f;
    return out;
  }
};

struct CallOptions {
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{0};  // 0: the node's default
  std::optional<Id> id;                  // reuse an id (a retry of the same request)
  // On behalf of an outside caller (a gateway's client): always through the brokers and
  // their policy, never to an in-process-only service (STRATA_CALL_FROM_OUTSIDE).
  bool fromOutside = false;
};

using Handler = std::function<void(const Request&, Reply&)>;

// An event as a subscriber's function sees it: views valid during the call only.
class EventView {
 public:
  explicit EventView(const strata_event& raw) : raw_(raw) {}
  const std::uint8_t* id() const { return raw_.id; }
  std::string_view subject() const { return view(raw_.subject); }
  std::string_view publisherName() const { return view(raw_.publisher_name); }
  int publisherLayer() const { return raw_.publisher_layer; }
  std::string_view body() const { return view(raw_.body); }
  std::optional<std::string_view> header(std::string_view key) const {
    for (std::size_t i = 0; i < raw_.header_count; ++i) {
      if (view(raw_.headers[i].key) == key) return view(raw_.headers[i].value);
    }
    return std::nullopt;
  }
  std::span<const strata_header> headers() const { return {raw_.headers, raw_.header_count}; }

 private:
  const strata_event& raw_;
};

using EventHandler = std::function<void(const EventView&)>;

// The node, as a plug-in sees it.
class Host {
 public:
  Host(const strata_host_api& api, strata_host* raw) : api_(api), raw_(raw) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  std::optional<std::string> config(const std::string& key) const {
    const char* value = api_.config(raw_, key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  }
  std::string config(const std::string& key, const std::string& fallback) const {
    return config(key).value_or(fallback);
  }
  // Throws std::invalid_argument naming the key when set to something else than a
  // whole number in [min, max].
  long long configInt(const std::string& key, long long fallback, long long min, long long max) const {
    auto text = config(key);
    if (!text) return fallback;
    auto value = core::parseWholeNumber(*text, min, max);
    if (!value) throw std::invalid_argument(core::wholeNumberProblem(key, *text, min, max));
    return *value;
  }
  std::string dataDir() const { return api_.data_dir(raw_); }
  // Every configured key of this plug-in, sorted (without "strata.plugin.<name>.").
  std::vector<std::string> configKeys() const {
    std::vector<std::string> keys;
    if (api_.struct_size < offsetof(strata_host_api, config_key_at) + sizeof api_.config_key_at) return keys;
    for (std::size_t i = 0;; ++i) {
      const char* key = api_.config_key_at(raw_, i);
      if (key == nullptr) return keys;
      keys.emplace_back(key);
    }
  }

  void log(strata_log_level level, const std::string& text) const { api_.log(raw_, level, text.c_str()); }
  void info(const std::string& text) const { log(STRATA_LOG_INFORMATION, text); }
  void warning(const std::string& text) const { log(STRATA_LOG_WARNING, text); }
  void error(const std::string& text) const { log(STRATA_LOG_ERROR, text); }

  // Registers a service; only while the plug-in starts. The handler must outlive the
  // plug-in instance (the Host keeps it).
  void addService(const std::string& name, Handler handler, std::uint32_t flags = 0) {
    handlers_.push_back(std::make_unique<Handler>(std::move(handler)));
    int rc = api_.add_service(raw_, name.c_str(), &Host::trampoline, handlers_.back().get(), flags);
    if (rc != STRATA_OK) {
      handlers_.pop_back();
      throw std::invalid_argument("the node refused service '" + name + "'");
    }
  }

  // Calls a service (in process when this process hosts it) and waits for its answer.
  Response call(std::string_view service, const std::vector<std::string_view>& frames, const CallOptions& options = {}) const {
    std::vector<strata_bytes> rawFrames;
    rawFrames.reserve(frames.size());
    for (auto frame : frames) rawFrames.push_back(bytes(frame));
    std::vector<strata_header> rawHeaders;
    for (const auto& [key, value] : options.headers) rawHeaders.push_back({bytes(key), bytes(value)});
    strata_call call{sizeof(strata_call),
                     options.fromOutside ? static_cast<std::uint32_t>(STRATA_CALL_FROM_OUTSIDE) : 0u,
                     bytes(service),
                     rawHeaders.data(),
                     rawHeaders.size(),
                     rawFrames.data(),
                     rawFrames.size(),
                     static_cast<std::uint32_t>(options.timeout.count()),
                     options.id ? options.id->data() : nullptr};
    Response out;
    api_.call(raw_, &call, &Host::collect, &out);
    return out;
  }
  Response call(std::string_view service, std::string_view body, const CallOptions& options = {}) const {
    return call(service, std::vector<std::string_view>{body}, options);
  }

  // Whether the node offers call_start (a node older than this header does not).
  bool hasCallStart() const {
    return api_.struct_size >= offsetof(strata_host_api, call_start) + sizeof api_.call_start;
  }
  using ResponseHandler = std::function<void(Response&&)>;
  // Starts a call answered in parts (a store's watch) and returns at once; always
  // through the brokers. onPartial gets each partial reply, onFinal the final answer
  // once, both on the node's client thread: they must not block. Returns STRATA_OK once
  // sent (onFinal will follow, unless the plug-in stops first), or the error.
  strata_error callStream(std::string_view service, std::string_view body, const CallOptions& options,
                          ResponseHandler onPartial, ResponseHandler onFinal) const {
    if (!hasCallStart()) return STRATA_ERROR_UNAVAILABLE;
    std::vector<strata_header> rawHeaders;
    for (const auto& [key, value] : options.headers) rawHeaders.push_back({bytes(key), bytes(value)});
    strata_bytes frame = bytes(body);
    strata_call call{sizeof(strata_call),
                     static_cast<std::uint32_t>(STRATA_CALL_FROM_OUTSIDE),
                     bytes(service),
                     rawHeaders.data(),
                     rawHeaders.size(),
                     &frame,
                     1,
                     static_cast<std::uint32_t>(options.timeout.count()),
                     options.id ? options.id->data() : nullptr};
    auto handlers = std::make_unique<StreamHandlers>(StreamHandlers{std::move(onPartial), std::move(onFinal)});
    int rc = api_.call_start(raw_, &call, &Host::streamPartial, &Host::streamFinal, handlers.get());
    if (rc == STRATA_OK) handlers.release();  // streamFinal frees it
    return static_cast<strata_error>(rc);
  }

  // Whether the node offers events (a node older than this header does not).
  bool hasEvents() const {
    return api_.struct_size >= offsetof(strata_host_api, unsubscribe) + sizeof api_.unsubscribe;
  }
  // Publishes an event: to this process's subscribers by function call, then through the
  // brokers; returns once a broker accepted it, or the error (the node logs why).
  strata_error publish(std::string_view subject, std::string_view body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       std::chrono::milliseconds timeout = {}) const {
    if (!hasEvents()) return STRATA_ERROR_UNAVAILABLE;
    std::vector<strata_header> rawHeaders;
    for (const auto& [key, value] : headers) rawHeaders.push_back({bytes(key), bytes(value)});
    strata_publish event{sizeof(strata_publish), 0u,
                         bytes(subject),         rawHeaders.data(),
                         rawHeaders.size(),      bytes(body),
                         static_cast<std::uint32_t>(timeout.count())};
    return static_cast<strata_error>(api_.publish(raw_, &event));
  }
  // Subscribes handler to pattern; the Host keeps it. Throws std::invalid_argument when
  // the node refuses (a bad pattern, or the brokers' policy: the node logs why). Returns
  // the number unsubscribe takes.
  std::uint64_t subscribe(const std::string& pattern, EventHandler handler) {
    if (!hasEvents()) throw std::invalid_argument("this node offers no events");
    eventHandlers_.push_back(std::make_unique<EventHandler>(std::move(handler)));
    std::uint64_t number = 0;
    int rc = api_.subscribe(raw_, pattern.c_str(), &Host::eventTrampoline, eventHandlers_.back().get(), &number);
    if (rc != STRATA_OK) {
      eventHandlers_.pop_back();
      throw std::invalid_argument("the node refused the subscription to '" + pattern + "'");
    }
    return number;
  }
  void unsubscribe(std::uint64_t number) const { api_.unsubscribe(raw_, number); }

  const strata_host_api& api() const { return api_; }
  strata_host* raw() const { return raw_; }

 private:
  // Both run as C callbacks: nothing may leave them by exception.
  static void trampoline(void* context, const strata_request* raw, strata_reply* rawReply) noexcept;
  static void collect(void* context, const strata_response* raw) noexcept {
    try {
      collectUnguarded(context, raw);
    } catch (...) {
      static_cast<Response*>(context)->error = STRATA_ERROR_INTERNAL;  // out of memory while copying
    }
  }
  static void collectUnguarded(void* context, const strata_response* raw) {
    auto& out = *static_cast<Response*>(context);
    std::memcpy(out.id.data(), raw->id, out.id.size());
    out.error = static_cast<strata_error>(raw->error);
    out.errorText = std::string(view(raw->error_text));
    for (std::size_t i = 0; i < raw->header_count; ++i) {
      out.headers.emplace_back(view(raw->headers[i].key), view(raw->headers[i].value));
    }
    for (std::size_t i = 0; i < raw->frame_count; ++i) out.frames.emplace_back(view(raw->frames[i]));
  }

  struct StreamHandlers {
    ResponseHandler onPartial;
    ResponseHandler onFinal;
  };
  static void streamPartial(void* context, const strata_response* raw) noexcept {
    try {
      auto& handlers = *static_cast<StreamHandlers*>(context);
      if (!handlers.onPartial) return;
      Response out;
      collectUnguarded(&out, raw);
      handlers.onPartial(std::move(out));
    } catch (...) {
      // A partial's handler has nobody to answer: what it threw ends here.
    }
  }
  static void streamFinal(void* context, const strata_response* raw) noexcept {
    std::unique_ptr<StreamHandlers> handlers(static_cast<StreamHandlers*>(context));
    try {
      Response out;
      collectUnguarded(&out, raw);
      handlers->onFinal(std::move(out));
    } catch (...) {
      // As above.
    }
  }

  static void eventTrampoline(void* context, const strata_event* raw) noexcept {
    try {
      (*static_cast<EventHandler*>(context))(EventView(*raw));
    } catch (...) {
      // An event function has nobody to answer: what it threw ends here.
    }
  }

  const strata_host_api& api_;
  strata_host* raw_;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::vector<std::unique_ptr<EventHandler>> eventHandlers_;
};

// The base of a C++ plug-in: construct from a Host (register services there), destroy
// to stop. The Host outlives the instance.
class Plugin {
 public:
  virtual ~Plugin() = default;
};

namespace detail {

// Holds api_ for the trampoline, which only gets the handler's context.
inline const strata_host_api*& hostApi() {
  static const strata_host_api* api = nullptr;
  return api;
}

// Allocates nothing: it runs in catch blocks at the C boundary.
inline void writeError(char* error, std::size_t size, const char* text) noexcept {
  if (size == 0 || error == nullptr) return;
  std::size_t n = std::min(size - 1, std::strlen(text));
  std::memcpy(error, text, n);
  error[n] = '\0';
}

template <class T>
struct Instance {
  std::unique_ptr<Host> host;
  std::unique_ptr<T> plugin;
};

template <class T>
void* start(const strata_host_api* api, strata_host* raw, char* error, std::size_t errorSize) noexcept {
  try {
    if (api->abi_version != STRATA_PLUGIN_ABI_VERSION) {
      writeError(error, errorSize,
                 ("host ABI version " + std::to_string(api->abi_version) + ", plug-in built for " +
                  std::to_string(STRATA_PLUGIN_ABI_VERSION))
                     .c_str());
      return nullptr;
    }
    hostApi() = api;
    auto instance = std::make_unique<Instance<T>>();
    instance->host = std::make_unique<Host>(*api, raw);
    instance->plugin = std::make_unique<T>(*instance->host);
    return instance.release();
  } catch (const std::exception& e) {
    writeError(error, errorSize, e.what());
  } catch (...) {
    writeError(error, errorSize, "unknown exception");
  }
  return nullptr;
}

template <class T>
void stop(void* instance) noexcept {
  try {
    delete static_cast<Instance<T>*>(instance);
  } catch (...) {
    // Destructors must not throw; nothing more to do at the boundary.
  }
}

}  // namespace detail

inline void Host::trampoline(void* context, const strata_request* raw, strata_reply* rawReply) noexcept {
  const strata_host_api& api = *detail::hostApi();
  Reply reply(api, rawReply);
  try {
    Request request(*raw);
    (*static_cast<Handler*>(context))(request, reply);
  } catch (const ServiceError& e) {
    reply.error(e.code(), e.what());
  } catch (const std::exception& e) {
    reply.error(STRATA_ERROR_INTERNAL, e.what());
  } catch (...) {
    reply.error(STRATA_ERROR_INTERNAL, "unknown exception");
  }
}

}  // namespace strata::plugin

// Defines the two exported entry points for plug-in class T (constructible from Host&).
// The trailing arguments are the configuration keys it reads (under
// strata.plugin.<name>.), as string literals.
#define STRATA_PLUGIN(T, NAME, VERSION, DESCRIPTION, ...)                                                  \
  extern "C" STRATA_PLUGIN_EXPORT uint32_t strata_plugin_abi_version(void) { return STRATA_PLUGIN_ABI_VERSION; } \
  extern "C" STRATA_PLUGIN_EXPORT const strata_plugin* strata_plugin_describe(void) {                     \
    static const char* const keys[] = {__VA_ARGS__ __VA_OPT__(, ) nullptr};                               \
    static const strata_plugin plugin{STRATA_PLUGIN_ABI_VERSION,                                           \
                                      NAME,                                                                \
                                      VERSION,                                                             \
                                      DESCRIPTION,                                                         \
                                      keys,                                                                \
                                      &::strata::plugin::detail::start<T>,                                 \
                                      &::strata::plugin::detail::stop<T>};                                 \
    return &plugin;                                                                                        \
  }
