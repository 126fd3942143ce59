#!/usr/bin/env bash
# Deeper checks than scripts/test.sh, each in its own build tree beside build/:
#
#   scripts/check.sh asan          the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#                                  (LeakSanitizer on), in build-asan/
#   scripts/check.sh tsan          the suite under ThreadSanitizer, in build-tsan/
#   scripts/check.sh fuzz [SECS]   every libFuzzer target for SECS seconds each (default 300),
#                                  built with clang in build-fuzz/; inputs that reach new
#                                  coverage join the checked-in corpus
#
# Extra arguments after asan or tsan go to ctest (e.g. -R Broker). Suppressions, each with
# its reason, are in tests/sanitizers/. The cluster test (docker compose) is left out: its
# images hold the ordinary build. Exit status: 0 when the run found nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

mode=${1:-}
[[ -n $mode ]] || usage
shift
jobs=$(nproc 2>/dev/null || echo 2)
suppressions=$STRATA_ROOT/tests/sanitizers

configure() {  # DIR, then cmake arguments
  local dir=$1
  shift
  if [[ ! -f $dir/build.ninja ]]; then
    strata_log "configuring into ${dir#"$STRATA_ROOT"/}"
    # -O1: a third of -O2's compile time under the sanitizers, and still quick to run;
    # -g1: line tables are all a report's stack needs, and they build faster than -g.
    cmake -S "$STRATA_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1" \
      -DCMAKE_C_FLAGS_DEBUG="-g1 -O1" -DSTRATA_BUILD_BENCH=OFF "$@" >/dev/null
  fi
  strata_log "building ${dir#"$STRATA_ROOT"/} with $jobs jobs"
  cmake --build "$dir" -j "$jobs"
}

# Runs the suite in DIR; sanitizer reports go to DIR/sanitizer/<tool>.<pid> and are counted.
run_suite() {
  local dir=$1 tool=$2
  shift 2
  local reports=$dir/sanitizer
  rm -rf "$reports" && mkdir -p "$reports"
  strata_log "running the suite under $tool"
  local status=0
  (cd "$dir" && ctest -j "$jobs" --timeout 600 -LE cluster --output-on-failure "$@") || status=$?
  local count
  count=$(find "$reports" -type f | wc -l)
  if ((count > 0)); then
    strata_log "$tool: $count report(s) in ${reports#"$STRATA_ROOT"/}; the first:"
    head -60 "$(find "$reports" -type f | sort | head -1)" >&2
    status=1
  else
    strata_log "$tool: no reports"
  fi
  return "$status"
}

case $mode in
  asan)
    strata_install_packages
    configure "$STRATA_ROOT/build-asan" -DSTRATA_ENABLE_ASAN=ON -DSTRATA_ENABLE_UBSAN=ON
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:log_path=$STRATA_ROOT/build-asan/sanitizer/asan"
    export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$suppressions/ubsan.supp:log_path=$STRATA_ROOT/build-asan/sanitizer/ubsan"
    run_suite "$STRATA_ROOT/build-asan" "ASan+UBSan" "$@"
    ;;
  tsan)
    strata_install_packages
    configure "$STRATA_ROOT/build-tsan" -DSTRATA_ENABLE_TSAN=ON
    # libzmq, Poco, libsodium and libpq are Debian's builds, without TSan: the atomics they
    # order their own threads with (libzmq's message pipes to its I/O threads, Poco's
    # reference counts) are invisible, so the memory accesses they make through
    # intercepted calls (memcpy, malloc, close) would be reported as races with nothing
    # wrong. ignore_noninstrumented_modules leaves those calls out; every access our own
    # code makes is still checked.
    export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$suppressions/tsan.supp:log_path=$STRATA_ROOT/build-tsan/sanitizer/tsan"
    run_suite "$STRATA_ROOT/build-tsan" "TSan" "$@"
    ;;
  fuzz)
    seconds=${1:-300}
    [[ $seconds =~ ^[0-9]+$ ]] || usage
    strata_install_packages
    strata_install_package_list clang libclang-rt-14-dev  # libFuzzer's runtime
    dir=$STRATA_ROOT/build-fuzz
    if [[ ! -f $dir/build.ninja ]]; then
      strata_log "configuring into build-fuzz (clang)"
      CC=clang CXX=clang++ cmake -S "$STRATA_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSTRATA_BUILD_FUZZ=ON -DSTRATA_BUILD_BENCH=OFF >/dev/null
    fi
    targets=(wire_decoder_fuzz payload_decoder_fuzz xmlrpc_fuzz)
    cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
    declare -A corpus=([wire_decoder_fuzz]=corpus [payload_decoder_fuzz]=payload_corpus [xmlrpc_fuzz]=xmlrpc_corpus)
    status=0
    summary=()
    for target in "${targets[@]}"; do
      seeds=$STRATA_ROOT/tests/fuzz/${corpus[$target]}
      found=$dir/found/$target
      rm -rf "$found" && mkdir -p "$found"
      strata_log "fuzzing $target for $seconds s (seeds: tests/fuzz/${corpus[$target]})"
      log=$dir/$target.log
      if ! ASAN_OPTIONS=detect_leaks=1 "$dir/bin/$target" -max_total_time="$seconds" -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$dir/$target-" "$found" "$seeds" >"$log" 2>&1; then
        strata_log "$target FAILED: see ${log#"$STRATA_ROOT"/}"
        grep -A30 -m1 "ERROR:\|runtime error" "$log" >&2 || tail -30 "$log" >&2
        status=1
      fi
      execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
      # Of the inputs found, keep those that reach coverage the checked-in seeds do not.
      before=$(find "$seeds" -type f | wc -l)
      "$dir/bin/$target" -merge=1 -max_len=4096 "$seeds" "$found" >>"$log" 2>&1 || true
      added=$(($(find "$seeds" -type f | wc -l) - before))
      summary+=("$target: ${execs:-0} executions in $seconds s, $added new corpus file(s)")
    done
    strata_log "fuzzing done"
    printf '  %s\n' "${summary[@]}" >&2
    exit "$status"
    ;;
  -h | --help | help) usage 0 ;;
  *) usage ;;
esac
