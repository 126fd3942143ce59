#!/usr/bin/env bash
# A guided tour of Strata on one machine: makes keys, starts a broker and two echo
# workers on loopback, calls them, shows the load shared between the workers and an
# unknown key refused, then stops everything cleanly. Installs and builds what it needs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

strata_setup >&2
BIN=$STRATA_BUILD
export PATH="$BIN/bin:$PATH"
STRATA=strata
RUN=$STRATA_BUILD/demo
rm -rf "$RUN" && mkdir -p "$RUN" && cd "$RUN"

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

step() { printf '\n\033[1;34m## %s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
show() {  # prints a command as typed, then runs it
  printf '\033[1m$ %s\033[0m\n' "$*"
  "$@"
}
wait_for() {  # wait_for FILE TEXT: until the log shows TEXT (at most 15 s)
  for _ in $(seq 150); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  say "timed out waiting for '$2' in $1:"; cat "$1"; exit 1
}

step "1. Keys: every process has a CURVE key pair"
say "The broker admits only the public keys listed in authorized_keys, each with a name and a layer."
for name in broker echo-a echo-b front; do show "$STRATA" keygen "$name" >/dev/null; done
ls -l ./*.key ./*.pub | awk '{print $1, $NF}'
cat > authorized_keys <<KEYS
# <public key>                           <name>  <layer>
$(cat echo-a.pub) echo-a 2
$(cat echo-b.pub) echo-b 2
$(cat front.pub) front 4
KEYS
show cat authorized_keys

step "2. A broker on loopback"
cat > broker.properties <<CONF
strata.broker.bind=tcp://127.0.0.1:*
strata.key=broker.key
strata.authorized_keys=authorized_keys
CONF
show cat broker.properties
strata-broker --config broker.properties >broker.log 2>&1 &
pids+=($!)
wait_for broker.log "listening on"
ENDPOINT=$(grep -o 'tcp://127.0.0.1:[0-9]*' broker.log | head -1)
say "broker.log: $(grep 'listening on' broker.log)"

step "3. Two workers running the built-in echo service (layer 2)"
for w in echo-a echo-b; do
  cat > $w.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=$w.key
strata.broker_key=broker.pub
strata.services=echo,sleep
strata.node.name=$w
CONF
  strata-node --config $w.properties >$w.log 2>&1 &
  pids+=($!)
  wait_for broker.log "worker $w ("
done
grep "ready with credit" broker.log | sed 's/^/broker.log: /'

step "4. A front end (layer 4) calls echo"
cat > front.properties <<CONF
strata.brokers=$ENDPOINT
strata.key=front.key
strata.broker_key=broker.pub
CONF
show "$STRATA" call --config front.properties --verbose echo "hello, strata"
show "$STRATA" services --config front.properties

step "5. Load shared between the workers: 20,000 requests, 100 in flight"
say "(workers= counts which worker answered)"
show "$STRATA" call --config front.properties --repeat 20000 --window 100 echo ping

step "6. A deadline: sleep 2000 ms with a 300 ms deadline"
show "$STRATA" call --config front.properties --timeout 300 sleep 2000 || say "(exit code $?: timeout)"

step "7. An unknown key is refused"
show "$STRATA" keygen stranger >/dev/null
show "$STRATA" call --config front.properties --define strata.key=stranger.key echo "let me in" ||
  say "(exit code $?: unavailable)"
say "broker.log: $(grep -m1 'refused a connection' broker.log)"

step "8. A layer the policy forbids: echo-a (layer 2) may not call echo (layer 2)"
show "$STRATA" call --config front.properties --define strata.key=echo-a.key echo hi || say "(exit code $?: forbidden)"

step "9. Clean shutdown on SIGTERM"
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}"; wait "${pids[$i]}" || true; done
pids=()
grep -h "stopp" echo-a.log echo-b.log broker.log | sed 's/^/log: /'
say ""
say "Done. Logs and configs are in ${RUN#"$STRATA_ROOT"/}/."
