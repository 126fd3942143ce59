#!/usr/bin/env bash
# Builds Strata and runs a benchmark that compares it with bare ZeroMQ programs and NATS,
# each path its own processes (docs/performance.md): `strata-bench e2e` (requests) by
# default, or the subcommand named first (`scripts/bench.sh events`). Installs what it
# needs first, NATS's server and C client too. Extra arguments go to strata-bench
# (e.g. --requests 5000 --latency-requests 1000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

strata_install_package_list nats-server libnats-dev
# A build tree configured before libnats was installed has no NATS programs: configure again.
if [[ -f $STRATA_BUILD/build.ninja ]] && ! grep -q "nats-publisher" "$STRATA_BUILD/build.ninja"; then
  strata_log "configuring again to pick up libnats"
  cmake -S "$STRATA_ROOT" -B "$STRATA_BUILD" >/dev/null
fi
strata_setup
command=e2e
if [[ $# -gt 0 && $1 != -* ]]; then
  command=$1
  shift
fi
strata_log "running strata-bench $command"
exec "$STRATA_BUILD/bin/strata-bench" "$command" "$@"
