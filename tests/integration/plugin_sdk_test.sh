#!/usr/bin/env bash
# As a new user would: install Strata into a prefix, build the greeter example out of
# tree with find_package(strata), load it into the installed strata-node (direct mode, on
# loopback) and call its service with the installed strata tool.
# Usage: plugin_sdk_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
node_pid=""
cleanup() {
  [[ -n $node_pid ]] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [[ -f $work/node.log ]] && cat "$work/node.log" >&2; exit 1; }
wait_for_log() {  # until the node log shows $1, at most 20 s
  for _ in $(seq 200); do grep -q -- "$1" "$work/node.log" 2>/dev/null && return 0; sleep 0.1; done
  fail "node log never showed '$1'"
}

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/strata/plugin_abi.h" || fail "plugin_abi.h not installed"
test -f "$work/prefix/include/strata/plugin.h" || fail "plugin.h not installed"
ls "$work"/prefix/lib*/cmake/strata/strataConfig.cmake >/dev/null || fail "strataConfig.cmake not installed"

cmake -S "$source/examples/greeter" -B "$work/greeter" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ||
  fail "configuring the example against the installed tree"
cmake --build "$work/greeter" >/dev/null || fail "building the example"
plugin=$work/greeter/libstrata_greeter.so
test -f "$plugin" || fail "no $plugin"
echo "built $plugin out of tree"

cd "$work"
bin=$work/prefix/bin
"$bin/strata" keygen node >/dev/null
"$bin/strata" keygen user >/dev/null
echo "$(cat user.pub) user 4" >authorized_keys
cat >node.properties <<CONF
strata.key=node.key
strata.node.bind=tcp://127.0.0.1:*
strata.authorized_keys=authorized_keys
strata.plugins=greeter
strata.plugin.greeter.path=$plugin
strata.plugin.greeter.greeting=good evening
CONF
"$bin/strata-node" --config node.properties >node.log 2>&1 &
node_pid=$!
wait_for_log "direct mode: listening on"
grep -q "plug-in greeter 1.0.0 loaded from $plugin: greet" node.log || fail "the node did not log the plug-in"
endpoint=$(grep -o 'tcp://127.0.0.1:[0-9]*' node.log | head -1)
cat >client.properties <<CONF
strata.workers=$endpoint
strata.worker_key=node.pub
strata.key=user.key
CONF
answer=$("$bin/strata" call -c client.properties greet "new user")
[[ $answer == "good evening, new user" ]] || fail "greet answered '$answer'"
echo "greet answered: $answer"
