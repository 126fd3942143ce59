#include <strata/nodes/plugin_host.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <type_traits>

#include <Poco/Logger.h>

#include <strata/codecs/protocol.h>
#include <strata/core/errors.h>
#include <strata/core/service_name.h>

#include "raw_reply.h"

static_assert(STRATA_ERROR_UNKNOWN_SERVICE == static_cast<int>(strata::codecs::ErrorCode::kUnknownService));
static_assert(STRATA_ERROR_TIMEOUT == static_cast<int>(strata::codecs::ErrorCode::kTimeout));
static_assert(STRATA_ERROR_FORBIDDEN == static_cast<int>(strata::codecs::ErrorCode::kForbidden));
static_assert(STRATA_ERROR_TOO_LARGE == static_cast<int>(strata::codecs::ErrorCode::kTooLarge));
static_assert(STRATA_ERROR_MALFORMED == static_cast<int>(strata::codecs::ErrorCode::kMalformed));
static_assert(STRATA_ERROR_UNAVAILABLE == static_cast<int>(strata::codecs::ErrorCode::kUnavailable));
static_assert(STRATA_ERROR_INTERNAL == static_cast<int>(strata::codecs::ErrorCode::kInternal));
static_assert(STRATA_ERROR_CONFLICT == static_cast<int>(strata::codecs::ErrorCode::kConflict));

// The ABI's opaque host handle: which plug-in is asking.
struct strata_host {
  strata::nodes::PluginHost::Plugin* plugin;
};

namespace strata::nodes {

namespace {

constexpr std::string_view kPluginPrefix = "strata.plugin.";
constexpr std::size_t kErrorBufferSize = 1024;
// Keys under strata.plugin.<name>. that the host reads itself.
constexpr std::array<std::string_view, 2> kHostKeys{"path", "layer"};

Poco::Message::Priority priorityOf(int level) {
  switch (level) {
    case STRATA_LOG_ERROR: return Poco::Message::PRIO_ERROR;
    case STRATA_LOG_WARNING: return Poco::Message::PRIO_WARNING;
    case STRATA_LOG_NOTICE: return Poco::Message::PRIO_NOTICE;
    case STRATA_LOG_DEBUG: return Poco::Message::PRIO_DEBUG;
    default: return Poco::Message::PRIO_INFORMATION;
  }
}

bool keyMatches(std::string_view key, std::string_view pattern) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    auto prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix;
  }
  return key == pattern;
}

}  // namespace

struct PluginHost::Plugin {
  struct PendingService {
    std::string name;
    strata_handler_fn handler;
    void* context;
    std::uint32_t flags;
  };

  PluginSpec spec;
  std::string dataDir;
  Node* node = nullptr;
  void* library = nullptr;
  const strata_plugin* description = nullptr;
  void* instance = nullptr;
  bool starting = false;
  std::vector<PendingService> pending;
  std::vector<std::string> services;
  strata_host handle{this};
  Poco::Logger* logger = nullptr;
  std::atomic<std::uint64_t> calls{0};  // bus calls it made (call and call_start), for /metrics
  // Lets answers to call_start reach the plug-in until it stops; shared with the calls
  // still in flight, which may outlive it.
  struct CallbackGate {
    std::mutex mutex;
    bool open = true;
  };
  std::shared_ptr<CallbackGate> callbacks = std::make_shared<CallbackGate>();
};

namespace {

using Plugin = PluginHost::Plugin;

const char* hostConfig(strata_host* host, const char* key) {
  if (host == nullptr || key == nullptr) return nullptr;
  const auto& config = host->plugin->spec.config;
  auto it = config.find(key);
  return it == config.end() ? nullptr : it->second.c_str();
}

void hostLog(strata_host* host, int level, const char* text) {
  if (host == nullptr || text == nullptr) return;
  host->plugin->logger->log(Poco::Message(host->plugin->logger->name(), text, priorityOf(level)));
}

int hostAddService(strata_host* host, const char* name, strata_handler_fn handler, void* context, std::uint32_t flags) {
  if (host == nullptr || name == nullptr || handler == nullptr) return STRATA_ERROR_MALFORMED;
  Plugin& plugin = *host->plugin;
  if (!plugin.starting) {
    plugin.logger->error("add_service(%s) outside start(): refused", std::string(name));
    return STRATA_ERROR_FORBIDDEN;
  }
  constexpr std::uint32_t known = STRATA_SERVICE_INLINE | STRATA_SERVICE_LOCAL;
  if ((flags & ~known) != 0) return STRATA_ERROR_MALFORMED;
  std::string service(name);
  if (auto problem = core::serviceNameProblem(service)) {
    plugin.logger->error("add_service refused: %s", *problem);
    return STRATA_ERROR_MALFORMED;
  }
  bool taken = plugin.node->hosts(service) ||
               std::any_of(plugin.pending.begin(), plugin.pending.end(), [&](const auto& p) { return p.name == service; });
  if (taken) {
    plugin.logger->error("service '%s' is already offered in this node", service);
    return STRATA_ERROR_FORBIDDEN;
  }
  plugin.pending.push_back({std::move(service), handler, context, flags});
  return STRATA_OK;
}

int replyFrame(strata_reply* reply, const char* data, std::size_t size) {
  if (reply == nullptr || (data == nullptr && size > 0)) return STRATA_ERROR_MALFORMED;
  reply->outcome.body.emplace_back(data == nullptr ? "" : std::string(data, size));
  return STRATA_OK;
}

int replyHeader(strata_reply* reply, const char* key, std::size_t keySize, const char* value, std::size_t valueSize) {
  if (reply == nullptr || key == nullptr || keySize == 0 || (value == nullptr && valueSize > 0)) {
    return STRATA_ERROR_MALFORMED;
  }
  reply->outcome.headers.emplace_back(std::string(key, keySize), value == nullptr ? "" : std::string(value, valueSize));
  return STRATA_OK;
}

int replyError(strata_reply* reply, std::uint16_t code, const char* text) {
  if (reply == nullptr) return STRATA_ERROR_MALFORMED;
  std::string message = text == nullptr ? "" : text;
  if (!codecs::isKnownErrorCode(code)) {
    message = "error " + std::to_string(code) + " is not a Strata error code: " + message;
    code = static_cast<std::uint16_t>(codecs::ErrorCode::kInternal);
  }
  if (message.size() > codecs::kMaxErrorText) message.resize(codecs::kMaxErrorText);
  reply->outcome.error = std::make_pair(static_cast<ErrorCode>(code), std::move(message));
  return STRATA_OK;
}

int replyPartial(strata_reply* reply) {
  if (reply == nullptr) return STRATA_ERROR_MALFORMED;
  if (reply->later) {
    reply->later->partial(std::move(reply->outcome.body), std::move(reply->outcome.headers));
  } else if (reply->partial != nullptr) {
    (*reply->partial)(std::move(reply->outcome.body), std::move(reply->outcome.headers));
  }
  reply->outcome.body.clear();
  reply->outcome.headers.clear();
  return STRATA_OK;
}

strata_reply* replyDetach(strata_reply* reply) {
  if (reply == nullptr || reply->later || reply->request == nullptr || !reply->request->answerLater) return nullptr;
  auto detached = std::make_unique<strata_reply>();
  detached->later = reply->request->answerLater();
  detached->outcome = std::move(reply->outcome);
  reply->outcome = Outcome::answeredLater();
  reply->request = nullptr;  // detached once: a second reply_detach gets NULL
  return detached.release();
}

int replyFinish(strata_reply* reply) {
  if (reply == nullptr || !reply->later) return STRATA_ERROR_MALFORMED;
  std::unique_ptr<strata_reply> owned(reply);
  owned->later->finish(std::move(owned->outcome));
  return STRATA_OK;
}

int hostCall(strata_host* host, const strata_call* call, strata_response_fn onResponse, void* context) {
  if (host == nullptr || call == nullptr) return STRATA_ERROR_MALFORMED;
  host->plugin->calls.fetch_add(1, std::memory_order_relaxed);
  return host->plugin->node->call(*call, onResponse, context);
}

int hostCallStart(strata_host* host, const strata_call* call, strata_response_fn onPartial,
                  strata_response_fn onFinal, void* context) {
  if (host == nullptr || call == nullptr || onFinal == nullptr) return STRATA_ERROR_MALFORMED;
  host->plugin->calls.fetch_add(1, std::memory_order_relaxed);
  auto gate = host->plugin->callbacks;
  auto through = [gate, context](strata_response_fn fn) -> Node::RawResponse {
    if (fn == nullptr) return nullptr;
    return [gate, context, fn](const strata_response& response) {
      std::lock_guard lock(gate->mutex);
      if (gate->open) fn(context, &response);
    };
  };
  return host->plugin->node->callStream(*call, through(onPartial), through(onFinal));
}

const char* hostDataDir(strata_host* host) { return host == nullptr ? "" : host->plugin->dataDir.c_str(); }

const char* hostConfigKeyAt(strata_host* host, std::size_t index) {
  if (host == nullptr) return nullptr;
  const auto& config = host->plugin->spec.config;  // a std::map: sorted, and its keys never move
  if (index >= config.size()) return nullptr;
  return std::next(config.begin(), static_cast<std::ptrdiff_t>(index))->first.c_str();
}

strata_bytes bytesOf(std::string_view text) { return {text.data(), text.size()}; }

// The fields of a strata_publish the plug-in's struct holds: one built against an older
// header is shorter, and what it lacks reads as zero.
strata_publish publishFields(const strata_publish& given) {
  strata_publish out{};
  std::memcpy(&out, &given, std::min<std::size_t>(given.struct_size, sizeof out));
  return out;
}

int hostPublish(strata_host* host, const strata_publish* given) {
  if (host == nullptr || given == nullptr || given->struct_size < offsetof(strata_publish, timeout_ms)) {
    return STRATA_ERROR_MALFORMED;
  }
  auto raw = publishFields(*given);
  OutgoingEvent event;
  event.subject.assign(raw.subject.data, raw.subject.size);
  event.body.assign(raw.body.data, raw.body.size);
  for (std::size_t i = 0; i < raw.header_count; ++i) {
    event.headers.emplace_back(std::string(raw.headers[i].key.data, raw.headers[i].key.size),
                               std::string(raw.headers[i].value.data, raw.headers[i].value.size));
  }
  event.timeout = std::chrono::milliseconds(raw.timeout_ms);
  auto result = host->plugin->node->publish(std::move(event));
  if (result.ok) return STRATA_OK;
  host->plugin->logger->warning("publish on '%s' failed: %s", std::string(raw.subject.data, raw.subject.size),
                                result.errorText);
  return static_cast<int>(result.errorCode);
}

int hostSubscribe(strata_host* host, const char* pattern, strata_event_fn fn, void* context,
                  std::uint64_t* subscription) {
  if (host == nullptr || pattern == nullptr || fn == nullptr || subscription == nullptr) return STRATA_ERROR_MALFORMED;
  try {
    *subscription = host->plugin->node->subscribe(pattern, [fn, context](const Event& e) {
      std::vector<strata_header> headers;
      headers.reserve(e.headers.size());
      for (const auto& [k, v] : e.headers) headers.push_back({bytesOf(k), bytesOf(v)});
      strata_event raw{};
      std::memcpy(raw.id, e.id.bytes().data(), sizeof raw.id);
      raw.subject = bytesOf(e.subject);
      raw.publisher_name = bytesOf(e.publisher.name);
      raw.publisher_layer = e.publisher.layer;
      raw.headers = headers.data();
      raw.header_count = headers.size();
      raw.body = bytesOf(e.body);
      fn(context, &raw);
    });
  } catch (const SubscribeError& e) {
    host->plugin->logger->warning("subscription to '%s' refused: %s", std::string(pattern), std::string(e.what()));
    switch (e.exitCode()) {
      case ExitCode::kNoPermission: return STRATA_ERROR_FORBIDDEN;
      case ExitCode::kDataError:
      case ExitCode::kUsage: return STRATA_ERROR_MALFORMED;
      default: return STRATA_ERROR_UNAVAILABLE;
    }
  }
  return STRATA_OK;
}

int hostUnsubscribe(strata_host* host, std::uint64_t subscription) {
  if (host == nullptr) return STRATA_ERROR_MALFORMED;
  host->plugin->node->unsubscribe(subscription);
  return STRATA_OK;
}

// What a host API entry answers when something failed inside it.
template <class R>
R failedAnswer() {
  if constexpr (std::is_same_v<R, int>) {
    return STRATA_ERROR_INTERNAL;
  } else if constexpr (!std::is_void_v<R>) {
    return nullptr;
  }
}

// The host API proper: Fn behind a catch-all, because nothing thrown inside (an
// allocation failing, a logger, a call during shutdown) may cross into a plug-in, which
// may be plain C.
template <auto Fn>
struct Guarded;
template <class R, class... Args, R (*Fn)(Args...)>
struct Guarded<Fn> {
  static R call(Args... args) noexcept {
    try {
      return Fn(args...);
    } catch (...) {
      return failedAnswer<R>();
    }
  }
};

constexpr strata_host_api kHostApi{
    STRATA_PLUGIN_ABI_VERSION,
    sizeof(strata_host_api),
    &Guarded<hostConfig>::call,
    &Guarded<hostLog>::call,
    &Guarded<hostAddService>::call,
    &Guarded<replyFrame>::call,
    &Guarded<replyHeader>::call,
    &Guarded<replyError>::call,
    &Guarded<replyPartial>::call,
    &Guarded<hostCall>::call,
    &Guarded<hostDataDir>::call,
    &Guarded<hostConfigKeyAt>::call,
    &Guarded<hostPublish>::call,
    &Guarded<hostSubscribe>::call,
    &Guarded<hostUnsubscribe>::call,
    &Guarded<replyDetach>::call,
    &Guarded<replyFinish>::call,
    &Guarded<hostCallStart>::call,
};

// The library's own ABI version, then its description; nullopt when both are sound.
std::optional<std::string> checkLibrary(Plugin& plugin) {
  using VersionFn = std::uint32_t (*)();
  using DescribeFn = const strata_plugin* (*)();
  auto version = reinterpret_cast<VersionFn>(::dlsym(plugin.library, STRATA_PLUGIN_ABI_VERSION_SYMBOL));
  if (version == nullptr) return "not a Strata plug-in: it exports no " STRATA_PLUGIN_ABI_VERSION_SYMBOL;
  if (std::uint32_t v = version(); v != STRATA_PLUGIN_ABI_VERSION) {
    return "built for plug-in ABI version " + std::to_string(v) + ", but this node speaks version " +
           std::to_string(STRATA_PLUGIN_ABI_VERSION) + ": rebuild it against this Strata";
  }
  auto describe = reinterpret_cast<DescribeFn>(::dlsym(plugin.library, STRATA_PLUGIN_DESCRIBE_SYMBOL));
  if (describe == nullptr) return "not a Strata plug-in: it exports no " STRATA_PLUGIN_DESCRIBE_SYMBOL;
  plugin.description = describe();
  const strata_plugin* d = plugin.description;
  if (d == nullptr || d->abi_version != STRATA_PLUGIN_ABI_VERSION || d->name == nullptr || d->start == nullptr ||
      d->stop == nullptr) {
    return std::string("its description is incomplete (null, another ABI version, or no name, start or stop)");
  }
  return std::nullopt;
}

std::optional<std::string> checkConfigKeys(const Plugin& plugin) {
  std::vector<std::string_view> known;
  if (plugin.description->config_keys != nullptr) {
    for (auto key = plugin.description->config_keys; *key != nullptr; ++key) known.emplace_back(*key);
  }
  for (const auto& [key, value] : plugin.spec.config) {
    bool ok = std::any_of(known.begin(), known.end(), [&](std::string_view pattern) { return keyMatches(key, pattern); });
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return "unknown key " + std::string(kPluginPrefix) + plugin.spec.name + "." + key + " (it reads: " +
             (list.empty() ? "none" : list) + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::filesystem::path defaultPluginDir() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "lib/strata/plugins";
  return self.parent_path().parent_path() / "lib" / "strata" / "plugins";
}

std::vector<PluginSpec> pluginSpecsFrom(const core::Config& config, const std::filesystem::path& pluginDir) {
  std::vector<PluginSpec> specs;
  std::set<std::string> names;
  for (const auto& name : config.getList("strata.plugins")) {
    if (!names.insert(name).second) throw ConfigError("strata.plugins lists '" + name + "' twice");
    PluginSpec spec;
    spec.name = name;
    std::string prefix = std::string(kPluginPrefix) + name + ".";
    spec.path = config.getString(prefix + "path", (pluginDir / ("libstrata_" + name + ".so")).string());
    spec.layer = static_cast<core::Layer>(config.getInt(prefix + "layer", 2, 0, 3));
    for (const auto& key : config.keysUnder(prefix)) {
      if (std::find(kHostKeys.begin(), kHostKeys.end(), key) != kHostKeys.end()) continue;
      spec.config.emplace(key, config.getString(prefix + key));
    }
    specs.push_back(std::move(spec));
  }
  for (const auto& key : config.keysUnder(std::string(kPluginPrefix))) {
    auto name = key.substr(0, key.find('.'));
    if (!names.contains(name)) {
      throw ConfigError(std::string(kPluginPrefix) + key + " configures plug-in '" + name +
                        "', which strata.plugins does not list");
    }
  }
  return specs;
}

PluginHost::PluginHost(Node& node, std::filesystem::path dataDir) : node_(node), dataDir_(std::move(dataDir)) {}

PluginHost::~PluginHost() { stop(); }

std::optional<std::string> PluginHost::load(const PluginSpec& spec) {
  auto plugin = std::make_unique<Plugin>();
  plugin->spec = spec;
  plugin->dataDir = dataDir_.string();
  plugin->node = &node_;
  plugin->logger = &Poco::Logger::get("plugin." + spec.name);
  auto fail = [&](const std::string& why) -> std::optional<std::string> {
    // A library that never started is unloaded again; nothing of it stays in the node.
    if (plugin->library != nullptr) ::dlclose(plugin->library);
    return "plug-in '" + spec.name + "' (" + spec.path.string() + "): " + why;
  };

  if (!std::filesystem::exists(spec.path)) {
    return fail("no such file; set strata.plugin." + spec.name + ".path or strata.plugin_dir");
  }
  plugin->library = ::dlopen(spec.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (plugin->library == nullptr) return fail(std::string("cannot load it: ") + ::dlerror());
  if (auto problem = checkLibrary(*plugin)) return fail(*problem);
  if (auto problem = checkConfigKeys(*plugin)) return fail(*problem);

  std::array<char, kErrorBufferSize> error{};
  plugin->starting = true;
  plugin->instance = plugin->description->start(&kHostApi, &plugin->handle, error.data(), error.size());
  plugin->starting = false;
  if (plugin->instance == nullptr) {
    error.back() = '\0';
    return fail(std::string("start failed: ") + (error[0] != '\0' ? error.data() : "no reason given"));
  }
  std::uint32_t forced = spec.layer == 3 ? STRATA_SERVICE_LOCAL : 0;
  for (const auto& service : plugin->pending) {
    try {
      node_.addService(service.name, service.handler, service.context, service.flags | forced);
    } catch (const std::exception& e) {
      // add_service checked names and duplicates already; this is the last guard. The
      // services added so far stay in the node's table but are never reachable once the
      // node refuses to start, which is what a failure here leads to.
      plugin->description->stop(plugin->instance);
      plugin->instance = nullptr;
      throw ConfigError("plug-in '" + spec.name + "': " + e.what());
    }
    plugin->services.push_back(service.name);
  }
  plugin->pending.clear();
  auto& log = Poco::Logger::get("strata-node");
  std::string list;
  for (const auto& s : plugin->services) list += (list.empty() ? "" : ", ") + s;
  log.information("plug-in %s %s loaded from %s%s: %s", std::string(plugin->description->name),
                  std::string(plugin->description->version ? plugin->description->version : "?"), spec.path.string(),
                  std::string(spec.layer == 3 ? " as a layer-3 module (in process only)" : ""),
                  list.empty() ? std::string("no services") : list);
  plugins_.push_back(std::move(plugin));
  return std::nullopt;
}

void PluginHost::stop() {
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
    Plugin& plugin = **it;
    if (plugin.instance == nullptr) continue;
    {
      // Waits for an answer being handed over; none is handed over afterwards.
      std::lock_guard lock(plugin.callbacks->mutex);
      plugin.callbacks->open = false;
    }
    plugin.description->stop(plugin.instance);
    plugin.instance = nullptr;
  }
  // The libraries stay mapped until the process exits: a plug-in's dependencies (Poco's
  // singletons, OpenSSL) register exit-time cleanup that must still find their code.
}

std::vector<PluginHost::Loaded> PluginHost::loaded() const {
  std::vector<Loaded> out;
  for (const auto& plugin : plugins_) {
    const auto* d = plugin->description;
    out.push_back({d->name, d->version ? d->version : "", d->description ? d->description : "", plugin->spec.path,
                   plugin->services, plugin->calls.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace strata::nodes
