/* Strata plug-in ABI: the one boundary between strata-node and a plug-in library.
 *
 * Plain C, so a plug-in built by another compiler, another C++ standard library or
 * another language links against it: no C++ type, exception or allocation crosses it.
 * Memory is owned by the side that made it; pointers handed across are valid only for
 * the duration of the call that hands them over unless a comment says otherwise.
 *
 * A plug-in is a shared library exporting two functions:
 *
 *   uint32_t strata_plugin_abi_version(void);
 *       returns STRATA_PLUGIN_ABI_VERSION as the plug-in was built. The host calls it
 *       before anything else and refuses the library if it differs from its own.
 *   const strata_plugin* strata_plugin_describe(void);
 *       returns a static description; start() registers the plug-in's services.
 *
 * C++ plug-ins use <strata/plugin.h>, a header-only layer over this one that turns
 * handlers into std::function and catches every exception at the boundary.
 */
#ifndef STRATA_PLUGIN_ABI_H
#define STRATA_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change. Additions go at the end of strata_host_api, which
 * carries its own size, so an older plug-in keeps working with a newer host. */
#define STRATA_PLUGIN_ABI_VERSION 1u

#define STRATA_PLUGIN_ABI_VERSION_SYMBOL "strata_plugin_abi_version"
#define STRATA_PLUGIN_DESCRIBE_SYMBOL "strata_plugin_describe"

/* Error codes: the same numbers as on the wire (docs/protocol.md). 0 is success. */
enum strata_error {
  STRATA_OK = 0,
  STRATA_ERROR_UNKNOWN_SERVICE = 1,
  STRATA_ERROR_TIMEOUT = 2,
  STRATA_ERROR_FORBIDDEN = 3,
  STRATA_ERROR_TOO_LARGE = 4,
  STRATA_ERROR_MALFORMED = 5,
  STRATA_ERROR_UNAVAILABLE = 6,
  STRATA_ERROR_INTERNAL = 7,
  STRATA_ERROR_CONFLICT = 8
};

/* Log levels, as Poco's and syslog's. */
enum strata_log_level {
  STRATA_LOG_ERROR = 3,
  STRATA_LOG_WARNING = 4,
  STRATA_LOG_NOTICE = 5,
  STRATA_LOG_INFORMATION = 6,
  STRATA_LOG_DEBUG = 7
};

/* Flags for add_service. */
enum strata_service_flags {
  /* Run the handler on the node's event loop instead of its thread pool. Only for
   * handlers that compute a little and never block. */
  STRATA_SERVICE_INLINE = 1u << 0,
  /* Serve only calls from inside this process (a layer-3 module's service): the service
   * is not offered to brokers or direct-mode clients. */
  STRATA_SERVICE_LOCAL = 1u << 1
};

typedef struct strata_bytes {
  const char* data;
  size_t size;
} strata_bytes;

typedef struct strata_header {
  strata_bytes key;
  strata_bytes value;
} strata_header;

/* A request as a handler sees it. Everything points into host memory that stays valid
 * until the handler returns. */
typedef struct strata_request {
  uint8_t id[16];           /* kept across retries: the key for doing an effect once */
  strata_bytes service;
  strata_bytes caller_name; /* as the broker (or this node) authenticated the caller */
  int caller_layer;
  const strata_header* headers;
  size_t header_count;
  const strata_bytes* frames; /* the body, one entry per frame */
  size_t frame_count;
  int64_t deadline_ms;      /* milliseconds left until the caller's deadline, at the call */
} strata_request;

/* A reply under construction, owned by the host. */
typedef struct strata_reply strata_reply;

/* The host's side of a plug-in: passed back on every host_api call. */
typedef struct strata_host strata_host;

/* A service handler. Fills reply through the host API; its return value is ignored
 * (set an error with reply_error). Runs on a pool thread unless registered inline, and
 * may run on several threads at once. */
typedef void (*strata_handler_fn)(void* context, const strata_request* request, strata_reply* reply);

/* Flags for strata_call. */
enum strata_call_flags {
  /* The call is made on behalf of someone outside this process (an HTTP client of a
   * gateway): it always goes through the brokers, so their authentication and layer
   * policy apply, and never reaches an in-process-only (layer-3) service. */
  STRATA_CALL_FROM_OUTSIDE = 1u << 0
};

/* A call to another service, from a plug-in. */
typedef struct strata_call {
  uint32_t struct_size;     /* sizeof(strata_call) of the plug-in: fields may be added at the end */
  uint32_t flags;           /* strata_call_flags */
  strata_bytes service;
  const strata_header* headers;
  size_t header_count;
  const strata_bytes* frames;
  size_t frame_count;
  uint32_t timeout_ms;      /* 0: the node's default */
  const uint8_t* id;        /* 16 bytes to reuse (a retry), or NULL for a fresh id */
} strata_call;

/* The answer to a strata_call; valid only during the callback that receives it. */
typedef struct strata_response {
  uint8_t id[16];
  uint16_t error;           /* STRATA_OK or a strata_error */
  strata_bytes error_text;
  const strata_header* headers;
  size_t header_count;
  const strata_bytes* frames;
  size_t frame_count;
} strata_response;

typedef void (*strata_response_fn)(void* context, const strata_response* response);

/* An event as a subscriber's function sees it; valid only during that call. */
typedef struct strata_event {
  uint8_t id[16];           /* the publisher's session and sequence number */
  strata_bytes subject;
  strata_bytes publisher_name; /* as the broker authenticated it; for an event published in
                                  this process, the node's own name and layer */
  int publisher_layer;
  const strata_header* headers;
  size_t header_count;
  strata_bytes body;
} strata_event;

/* Receives events. Events from the brokers come on the node's client thread, events
 * published in this process on the publisher's thread: it must not block, and may run
 * on several threads at once. From it, publish returns at once (a refusal is logged)
 * and subscribe does not wait for the brokers; call reaches only services of this
 * process (any other is answered STRATA_ERROR_UNAVAILABLE). */
typedef void (*strata_event_fn)(void* context, const strata_event* event);

/* An event to publish, from a plug-in. */
typedef struct strata_publish {
  uint32_t struct_size;     /* sizeof(strata_publish) of the plug-in: fields may be added at the end */
  uint32_t flags;           /* none defined yet: 0 */
  strata_bytes subject;
  const strata_header* headers;
  size_t header_count;
  strata_bytes body;
  uint32_t timeout_ms;      /* how long the brokers may take to accept it; 0: the node's default */
} strata_publish;

/* What the host offers a plug-in. Functions returning int return 0 on success and a
 * strata_error otherwise. Every function may be called from any thread. */
typedef struct strata_host_api {
  uint32_t abi_version;     /* STRATA_PLUGIN_ABI_VERSION of the host */
  uint32_t struct_size;     /* sizeof(strata_host_api) of the host */

  /* The value of the plug-in's configuration key (the part after
   * "strata.plugin.<name>."), or NULL when unset. The pointer stays valid while the
   * plug-in is loaded. Keys must be listed in strata_plugin.config_keys. */
  const char* (*config)(strata_host* host, const char* key);

  void (*log)(strata_host* host, int level, const char* text);

  /* Registers a service. Only during start(). context is passed to every call of fn. */
  int (*add_service)(strata_host* host, const char* name, strata_handler_fn fn, void* context, uint32_t flags);

  /* Building a reply (only while the handler that received it runs, or, once detached,
   * until reply_finish). */
  int (*reply_frame)(strata_reply* reply, const char* data, size_t size);
  int (*reply_header)(strata_reply* reply, const char* key, size_t key_size, const char* value, size_t value_size);
  int (*reply_error)(strata_reply* reply, uint16_t code, const char* text);
  /* Sends the frames and headers added so far as a partial reply and starts a new one. */
  int (*reply_partial)(strata_reply* reply);

  /* Calls a service and blocks until its answer, which on_response receives before
   * call returns (even for errors: then the int returned is the same error). A service
   * that this process hosts is called in process, as a plain function call with no copy
   * of the body; any other goes through the node's brokers. Must not be called from an
   * inline handler. */
  int (*call)(strata_host* host, const strata_call* call, strata_response_fn on_response, void* context);

  /* The directory where plug-ins keep their files (SQLite databases, outboxes). */
  const char* (*data_dir)(strata_host* host);

  /* The index-th of the plug-in's configured keys, in sorted order, or NULL past the
   * last: how a plug-in finds a family of keys ("statement.<name>"). The pointer stays
   * valid while the plug-in is loaded. */
  const char* (*config_key_at)(strata_host* host, size_t index);

  /* Events (present when struct_size reaches them). publish delivers the event to this
   * process's subscribers of its subject by function call, then through the node's
   * brokers to everyone else, and returns once a broker has accepted it (refusals are
   * logged with their reason). Not from an event function. */
  int (*publish)(strata_host* host, const strata_publish* event);
  /* Subscribes fn to events on subjects matching pattern ('*' one token, a final '>'
   * the rest), published in this process or anywhere through the brokers, each once.
   * During start() it takes effect when the node starts, without waiting for the
   * brokers (a refusal is then logged with its reason); later, subscribe waits for their
   * answer and returns STRATA_ERROR_FORBIDDEN when they refuse. *subscription receives
   * a number for unsubscribe. */
  int (*subscribe)(strata_host* host, const char* pattern, strata_event_fn fn, void* context, uint64_t* subscription);
  int (*unsubscribe)(strata_host* host, uint64_t subscription);

  /* Answers given later (present when struct_size reaches them): a stream that lasts,
   * such as a watch, without holding a handler thread. reply_detach takes the reply out
   * of the handler's hands and returns it; the handler then returns, and the plug-in
   * goes on with reply_frame, reply_header, reply_partial and reply_error on the
   * returned pointer, from any thread but one at a time, until reply_finish sends the
   * final answer (the frames added since the last partial, or the error set) and frees
   * it. Returns NULL where the answer must come before the handler returns (an inline
   * handler, a call from inside this process): answer at once then. A detached request
   * holds none of the node's credit. */
  strata_reply* (*reply_detach)(strata_reply* reply);
  int (*reply_finish)(strata_reply* reply);

  /* Calls answered in parts (present when struct_size reaches it), such as a store's
   * watch, without a thread waiting: call_start sends the call through the node's
   * brokers (always, as STRATA_CALL_FROM_OUTSIDE does) and returns at once. on_partial
   * (may be NULL) receives each partial reply and on_final the final answer, an error
   * included (the deadline passing, the node closing), exactly once; both run on the
   * node's client thread and must not block, though they may call call_start again.
   * Returns 0 once the call is on its way (on_final will follow), or an error (no
   * callback will). Once the plug-in's stop() is called no callback reaches it. */
  int (*call_start)(strata_host* host, const strata_call* call, strata_response_fn on_partial,
                    strata_response_fn on_final, void* context);
} strata_host_api;

/* What a plug-in says about itself. Static storage. */
typedef struct strata_plugin {
  uint32_t abi_version;     /* STRATA_PLUGIN_ABI_VERSION */
  const char* name;         /* short name, e.g. "sql" */
  const char* version;      /* the plug-in's own version */
  const char* description;  /* one line for logs and --help */
  /* NULL-terminated keys it reads; the host refuses others under strata.plugin.<name>.
   * A key ending in ".*" stands for every key under that prefix ("statement.*"). */
  const char* const* config_keys;

  /* Starts the plug-in: reads its configuration and registers its services. Returns an
   * instance pointer (non-NULL) passed to stop(), or NULL after writing a message of at
   * most error_size bytes (NUL included) into error. */
  void* (*start)(const strata_host_api* api, strata_host* host, char* error, size_t error_size);
  /* Stops it: no handler runs once it returns. */
  void (*stop)(void* instance);
} strata_plugin;

#if defined(_WIN32)
#define STRATA_PLUGIN_EXPORT __declspec(dllexport)
#else
#define STRATA_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
}
#endif

#endif /* STRATA_PLUGIN_ABI_H */
