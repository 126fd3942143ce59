#!/usr/bin/env bash
# The compose cluster on this machine, under podman (../shared notes: no Docker engine and
# no registry here): builds Strata on the host, makes a Debian base image with debootstrap,
# builds the image from deploy/Dockerfile's `prebuilt` stage, then runs docker-compose.yml.
#   scripts/cluster.sh up | test | down
# `test` brings the cluster up, puts load on the pool from the client container, kills
# broker-a with `podman kill`, checks that no request was lost, calls each plug-in node
# (orders with its layer-3 module, SQL, mail to the sink, the HTTP gateway with curl, a
# store watch streamed through the gateway and its live page), and brings it down.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

PROJECT=strata-cluster
IMAGE=localhost/strata:cluster
RUNTIME="libzmq5,libsodium23,libpocofoundation80,libpocoutil80,libpocojson80,libpocoxml80,libpoconet80,libpoconetssl80"
RUNTIME+=",libpococrypto80,libpocodata80,libpocodatasqlite80,libpocodatapostgresql80,libsqlite3-0,libpq5,python3-aiosmtpd"
RUNTIME+=",libprometheus-cpp-core1.0,curl"
# Named after its package list, so a new runtime dependency makes a new base image.
BASE=localhost/strata-base:bookworm-$(printf '%s' "$RUNTIME" | md5sum | cut -c1-8)
WORK=$STRATA_BUILD/cluster
export CONTAINERS_CONF=$WORK/containers.conf

install_podman() {
  local missing=()
  for p in podman podman-compose runc debootstrap; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  strata_log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

prepare() {
  strata_install_packages
  install_podman
  mkdir -p "$WORK"
  # runc, not crun (mixed cgroups here), and ulimits within the machine's hard limits.
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=10000:10000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
  strata_build
  strata_log "installing into out/install"
  rm -rf "$STRATA_ROOT/out/install"
  cmake --install "$STRATA_BUILD" --prefix "$STRATA_ROOT/out/install" >/dev/null
  if ! podman image exists "$BASE"; then
    strata_log "making the base image with debootstrap (about a minute)"
    local mirror rootfs=$WORK/rootfs
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include="$RUNTIME" bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log"
    tar -C "$rootfs" -c . | podman import - "$BASE" >/dev/null
    rm -rf "$rootfs"
  fi
  strata_log "building $IMAGE"
  podman build -q -f "$STRATA_ROOT/deploy/Dockerfile" --target prebuilt --build-arg BASE="$BASE" \
    -t "$IMAGE" "$STRATA_ROOT" >/dev/null
}

# The gateway's port on the host: STRATA_HTTP_PORT, or a free one.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HTTP_PORT=${STRATA_HTTP_PORT:-$(free_port)}
# The brokers' admin endpoints (dashboard, /metrics, probes) on the host.
ADMIN_A_PORT=${STRATA_ADMIN_A_PORT:-$(free_port)}
ADMIN_B_PORT=${STRATA_ADMIN_B_PORT:-$(free_port)}

compose() {
  STRATA_IMAGE=$IMAGE STRATA_HTTP_PORT=$HTTP_PORT STRATA_ADMIN_A_PORT=$ADMIN_A_PORT STRATA_ADMIN_B_PORT=$ADMIN_B_PORT podman-compose -f "$STRATA_ROOT/docker-compose.yml" -p "$PROJECT" "$@"
}

client() { podman exec "${PROJECT}_client_1" strata "$@"; }

up() {
  prepare
  strata_log "starting the cluster"
  compose up -d --no-build >/dev/null 2>&1
  for _ in $(seq 100); do
    client call --config /opt/strata/etc/client.properties --timeout 1000 echo ready >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  compose logs >&2
  echo "cluster did not come up" >&2
  return 1
}

down() { compose down -v >/dev/null 2>&1 || true; }

test_cluster() {
  trap down EXIT
  up
  strata_log "services as the pool sees them"
  client services --config /opt/strata/etc/client.properties
  test_operations_before
  strata_log "load on the pool; broker-a killed after 2 s"
  local out=$WORK/load.txt
  # 300,000 requests: several seconds even on a quiet machine (100,000 once finished in
  # under 2 s); the check below fails the test rather than let a kill after the load pass.
  client call --config /opt/strata/etc/client.properties --timeout 30000 --repeat 300000 --window 50 echo x >"$out" &
  local load=$!
  sleep 2  # the kill lands in the load's middle
  kill -0 "$load" 2>/dev/null || { echo "FAILED: the load ended before the kill"; exit 1; }
  podman kill "${PROJECT}_broker-a_1" >/dev/null
  wait "$load" || true
  cat "$out"
  if ! grep -q "requests=300000 ok=300000 errors=0" "$out"; then
    client call --config /opt/strata/etc/client.properties strata.stats "" || true
    compose logs 2>&1 | grep -v "Information" | tail -40
    echo "FAILED: requests were lost"
    exit 1
  fi
  echo "broker kill: 300000 requests, broker-a killed under load, none lost"
  test_operations_after
  test_plugins
  echo "cluster test passed"
}

fail() {
  compose logs 2>&1 | grep -v "Information" | tail -40
  echo "FAILED: $*"
  exit 1
}

eventually() {  # eventually CMD...: until CMD succeeds, at most 30 s
  for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

healthy() {  # healthy SERVICE: its compose healthcheck (curl on /readyz) passes now
  podman healthcheck run "${PROJECT}_$1_1" >/dev/null 2>&1
}

test_operations_before() {
  strata_log "operations: probes, metrics and dashboards of the published admin ports"
  eventually curl -sf "http://127.0.0.1:$ADMIN_A_PORT/readyz" || fail "broker-a's /readyz never answered 200"
  local metrics=$WORK/metrics.txt
  curl -sS "http://127.0.0.1:$ADMIN_A_PORT/metrics" >"$metrics"
  promtool check metrics <"$metrics" || fail "promtool refused broker-a's /metrics"
  grep -q '^strata_workers{service="echo"} 2$' "$metrics" || fail "broker-a's /metrics does not show echo's 2 workers"
  [[ $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_B_PORT/") == 200 ]] ||
    fail "broker-b's dashboard is not published"
  for service in broker-a broker-b echo-1 echo-2 orders integrations store gateway; do
    eventually healthy "$service" || fail "the healthcheck of $service does not pass"
  done
  echo "admin: /readyz 200, /metrics passes promtool, dashboards on 127.0.0.1:$ADMIN_A_PORT and :$ADMIN_B_PORT, 8 healthchecks pass"
}

test_operations_after() {
  # broker-a is dead: the nodes stay ready through broker-b, and status says which is gone.
  for service in echo-1 echo-2; do healthy "$service" || fail "$service is not ready with broker-b alone"; done
  local status=$WORK/status.txt
  client status --config /opt/strata/etc/client.properties --timeout 1000 >"$status" || fail "strata status failed"
  cat "$status"
  grep -q "tcp://broker-a:5555 .*UNREACHABLE" "$status" || fail "status does not show broker-a unreachable"
  grep -q "tcp://broker-b:5555 .* up " "$status" || fail "status does not show broker-b up"
  curl -sS "http://127.0.0.1:$ADMIN_B_PORT/api/pool" | grep -q '"reachable":false,"url":"http://broker-a:9100"' ||
    fail "broker-b's dashboard does not show broker-a gone"
  echo "after the kill: echo nodes still ready; strata status and broker-b's dashboard show broker-a unreachable"
}

logic() {  # a call as a layer-2 service would make it
  client call --config /opt/strata/etc/client.properties --define strata.key=/keys/logic.key "$@"
}

test_plugins() {
  strata_log "plug-ins in the cluster: a layer-3 module, SQL, mail, the HTTP gateway"
  local client_conf=/opt/strata/etc/client.properties
  eventually client call --config "$client_conf" orders.place "apple 1" || fail "orders.place never answered"
  local total
  total=$(client call --config "$client_conf" orders.place "$(printf 'apple 10\nplum 4')")
  echo "orders.place: $total"
  [[ $total == "total 513" ]] || fail "orders.place answered '$total'"
  client call --config "$client_conf" pricing.quote "apple 1" >/dev/null 2>&1 &&
    fail "the layer-3 module was reachable through the brokers"

  eventually logic xml.to_json "<a/>" || fail "the integration node never answered"
  logic -H content-type=application/json sql.query \
    '{"statement": "add_note", "params": {"title": "cluster", "body": "kept in SQLite"}}' >/dev/null
  local note
  note=$(logic -H content-type=application/json sql.query '{"statement": "get_note", "params": {"title": "cluster"}}')
  echo "sql.query: $note"
  grep -q '"body":"kept in SQLite"' <<<"$note" || fail "the note did not come back"

  local queued id
  queued=$(logic -H content-type=application/json mail.send \
    '{"to": ["ops@cluster.example"], "subject": "from the cluster", "body": "hello"}')
  id=$(sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' <<<"$queued")
  if ! eventually sh -c "podman logs ${PROJECT}_smtp-sink_1 2>&1 | grep -q 'Subject: from the cluster'"; then
    logic mail.status "$id" || true
    fail "the mail never reached smtp-sink"
  fi
  echo "mail.send: delivered to smtp-sink"

  local token answer
  token=$(podman exec "${PROJECT}_gateway_1" cut -d' ' -f1 /keys/http-tokens)
  eventually curl -sf -X POST -H "Authorization: Bearer $token" --data ping "http://127.0.0.1:$HTTP_PORT/v1/services/echo" ||
    fail "the gateway never answered on port $HTTP_PORT"
  answer=$(curl -sS -X POST -H "Authorization: Bearer $token" --data 'over http' "http://127.0.0.1:$HTTP_PORT/v1/services/echo")
  echo "HTTP gateway: $answer"
  [[ $answer == "over http" ]] || fail "the gateway answered '$answer'"

  eventually logic store.put '{"collection": "accounts", "key": "acme", "attributes": {"name": "Acme", "secret": "s3cr3t"}}' ||
    fail "the store never answered"
  local stream=$WORK/watch.txt
  curl -sS -N --max-time 20 -H "Authorization: Bearer $token" "http://127.0.0.1:$HTTP_PORT/v1/watch/accounts" >"$stream" &
  local watcher=$!
  eventually grep -q "event: ready" "$stream" || fail "the watch through the gateway never got its snapshot"
  logic store.patch '{"collection": "accounts", "key": "acme", "attributes": {"name": "Acme Ltd"}}' >/dev/null
  eventually grep -q '"name":"Acme Ltd"' "$stream" || fail "the change never reached the watch"
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
  if grep -q "s3cr3t" "$stream"; then fail "a layer-4 watch through the gateway got a hidden attribute"; fi
  echo "store watch through the gateway: snapshot, then the change; 'secret' never sent"
  local page
  page=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/ui/?collection=accounts")
  [[ $page == 200 ]] || fail "the live page answered $page"
  echo "live page: 200 at /ui/"
}

case "${1:-test}" in
  up) up ;;
  down) down ;;
  test) test_cluster ;;
  *) echo "usage: scripts/cluster.sh up|test|down" >&2; exit 64 ;;
esac
