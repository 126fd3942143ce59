#pragma once

#include <string>

namespace strata::bench {

// `strata-bench watch`: live objects on loopback. Strata's store (strata-writer ->
// strata-broker -> strata-node with the store plug-in on SQLite, or on PostgreSQL ->
// strata-watchers, all on Strata's client library) against NATS JetStream's key-value
// store (nats-kv-writer -> nats-server -js -> nats-kv-watchers, libnats), each writer,
// middle and watcher process its own.
//
// Latency rows: 1, 100 and 1,000 watches of one collection (bucket), in 1 process or 10
// of 10 or 100 watches each, while the writer puts stamped values paced (fewer per second
// as the watches grow); change-to-watcher latency p50/p99 over every change every watch
// got. Write rows: no watcher, one put at a time and 32 in flight. Every row is the median
// of rounds alternating the paths, and gives the CPU time per delivered change (per write
// in write rows) of writer, middle and watchers. The PostgreSQL rows need Debian's
// postgresql (skipped, with a message, when missing), the NATS rows nats-server and the
// NATS programs. Prints a table, what its columns mean and the ratios; returns a process
// exit code. only, when not empty, names the one path to run.
int runWatch(int rounds, const std::string& only);

}  // namespace strata::bench
