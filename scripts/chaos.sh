#!/usr/bin/env bash
# A chaos soak: three brokers (SQLite journals), four workers sharing an idempotency
# store, a steady mix of durable and plain requests, and a seeded driver that kills and
# restarts brokers (SIGKILL), freezes workers (SIGSTOP/SIGCONT) and cuts links (TCP
# proxies). A ledger checks at the end that nothing was lost or done twice.
#
#   scripts/chaos.sh [--minutes N] [--rate R] [--durable-percent P] [--seed S]
#
# Defaults: 2 minutes, 100 requests/s, 30% durable, a random seed (printed, so a run can
# be repeated). Installs and builds what it needs first. Exit 0 when the ledger is clean.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
strata_setup
strata_log "chaos soak: $*"
exec "$STRATA_BUILD/bin/strata-chaos" "$@"
