#!/usr/bin/env bash
# The compose cluster on this machine, under podman (../shared notes: no Docker engine and
# no registry here): builds Strata on the host, makes a Debian base image with debootstrap,
# builds the image from deploy/Dockerfile's `prebuilt` stage, then runs docker-compose.yml.
#   scripts/cluster.sh up | test | down
# `test` brings the cluster up, puts load on the pool from the client container, kills
# broker-a with `podman kill`, checks that no request was lost, and brings it down.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

PROJECT=strata-cluster
IMAGE=localhost/strata:cluster
RUNTIME="libzmq5,libsodium23,libpocofoundation80,libpocoutil80,libpocojson80,libpocoxml80,libsqlite3-0,libpq5"
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

compose() { STRATA_IMAGE=$IMAGE podman-compose -f "$STRATA_ROOT/docker-compose.yml" -p "$PROJECT" "$@"; }

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
  strata_log "load on the pool; broker-a killed after 2 s"
  local out=$WORK/load.txt
  client call --config /opt/strata/etc/client.properties --timeout 30000 --repeat 100000 --window 50 echo x >"$out" &
  local load=$!
  sleep 2  # the load runs for several seconds; the kill lands in its middle
  kill -0 "$load" 2>/dev/null || { echo "FAILED: the load ended before the kill"; exit 1; }
  podman kill "${PROJECT}_broker-a_1" >/dev/null
  wait "$load" || true
  cat "$out"
  if ! grep -q "requests=100000 ok=100000 errors=0" "$out"; then
    client call --config /opt/strata/etc/client.properties strata.stats "" || true
    compose logs 2>&1 | grep -v "Information" | tail -40
    echo "FAILED: requests were lost"
    exit 1
  fi
  echo "cluster test passed: 100000 requests, broker-a killed under load, none lost"
}

case "${1:-test}" in
  up) up ;;
  down) down ;;
  test) test_cluster ;;
  *) echo "usage: scripts/cluster.sh up|test|down" >&2; exit 64 ;;
esac
