#pragma once

// What the NATS programs of `strata-bench watch` share: JetStream and its key-value
// bucket "bench" (file storage, one replica, one value kept per key), made by whichever
// program comes first.

#include <memory>

#include "nats_common.h"
#include "watch_report.h"

namespace strata::bench::nats {

struct JetStreamDeleter {
  void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
};
struct KeyValueDeleter {
  void operator()(kvStore* kv) const noexcept { kvStore_Destroy(kv); }
};
using JetStream = std::unique_ptr<jsCtx, JetStreamDeleter>;
using KeyValue = std::unique_ptr<kvStore, KeyValueDeleter>;

inline JetStream jetStream(natsConnection* connection, jsOptions* options = nullptr) {
  jsCtx* js = nullptr;
  check(natsConnection_JetStream(&js, connection, options), "natsConnection_JetStream");
  return JetStream(js);
}

// The bench bucket, made if missing. Throws std::runtime_error.
inline KeyValue bucket(jsCtx* js) {
  kvStore* kv = nullptr;
  if (js_KeyValue(&kv, js, kWatchCollection) == NATS_OK) return KeyValue(kv);
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = kWatchCollection;
  config.History = 1;
  config.StorageType = js_FileStorage;
  check(js_CreateKeyValue(&kv, js, &config), "js_CreateKeyValue");
  return KeyValue(kv);
}

}  // namespace strata::bench::nats
