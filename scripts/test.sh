#!/usr/bin/env bash
# Builds Strata and runs the whole test suite with ctest: unit tests, the fuzz corpus
# replay and the integration tests with real processes on loopback. Installs what it
# needs first. Extra arguments go to ctest (e.g. -L unit, -R Broker).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

strata_setup
strata_log "running the tests"
cd "$STRATA_BUILD"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 300 "$@"
