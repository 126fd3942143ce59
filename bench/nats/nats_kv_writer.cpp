// nats-kv-writer: strata-bench watch's NATS writer. Puts --writes values into the
// JetStream key-value bucket "bench" (keys k0 to k99 in turn), each stamped with the time
// it was sent, paced at --rate per second (0: as fast as it can). With --window 1 each put
// waits for its acknowledgement (kvStore_Put); with more, puts go out asynchronously
// (js_PublishAsync to the bucket's subject, what kvStore_Put publishes) with at most that
// many unacknowledged. Prints one summary line (watch_report.h) and exits 0, or 1 if a put
// failed.
//
//   nats-kv-writer --url nats://127.0.0.1:PORT [--writes N] [--rate R] [--window W] [--size BYTES]

#include <chrono>
#include <iostream>
#include <mutex>

#include "bench_program.h"
#include "nats_kv.h"

namespace strata::bench::nats {
namespace {

struct Acks {
  std::mutex mutex;
  WriteReport report;
};

void onAck(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  auto now = monotonicNs();
  auto& acks = *static_cast<Acks*>(closure);
  std::string_view data(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  {
    std::lock_guard lock(acks.mutex);
    ++acks.report.writes;
    if (ack != nullptr && error == nullptr) {
      ++acks.report.ok;
      acks.report.latenciesUs.push_back((now - stampIn(data)) / 1000);
    } else {
      ++acks.report.errors;
    }
  }
  natsMsg_Destroy(message);
}

int run(const ProgramArgs& args) {
  const auto writes = args.number("--writes", 1000);
  const auto window = std::max<std::uint64_t>(args.number("--window", 1), 1);
  const auto size = args.number("--size", kDefaultValueSize);
  Library library;
  auto connection = connect(args.required("--url"), true);
  Acks acks;
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = static_cast<std::int64_t>(window);
  options.PublishAsync.AckHandler = &onAck;
  options.PublishAsync.AckHandlerClosure = &acks;
  auto js = jetStream(connection.get(), &options);
  auto kv = bucket(js.get());

  Pacer pacer(args.number("--rate", 0));
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < writes; ++i) {
    pacer.waitFor(i);
    auto sent = monotonicNs();
    auto value = stampedValue(sent, size);
    auto key = watchKey(i);
    if (window == 1) {
      std::uint64_t revision = 0;
      auto status = kvStore_Put(&revision, kv.get(), key.c_str(), value.data(), static_cast<int>(value.size()));
      std::lock_guard lock(acks.mutex);
      ++acks.report.writes;
      if (status == NATS_OK) {
        ++acks.report.ok;
        acks.report.latenciesUs.push_back((monotonicNs() - sent) / 1000);
      } else {
        ++acks.report.errors;
      }
    } else {
      auto subject = std::string("$KV.") + kWatchCollection + "." + key;
      check(js_PublishAsync(js.get(), subject.c_str(), value.data(), static_cast<int>(value.size()), nullptr),
            "js_PublishAsync");
    }
  }
  if (window > 1) {
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = 60'000;
    check(js_PublishAsyncComplete(js.get(), &wait), "js_PublishAsyncComplete");
  }
  std::lock_guard lock(acks.mutex);
  acks.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << acks.report.line() << std::endl;
  return acks.report.errors == 0 && acks.report.ok == writes ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-kv-writer", argc, argv, {"--url", "--writes", "--rate", "--window", "--size"},
                                     strata::bench::nats::run);
}
