# Shared by scripts/test.sh, scripts/demo.sh and scripts/bench.sh: installs what the build
# needs from Debian's packages (only what is missing), then configures and builds into
# build/. Source it; it defines strata_setup, and strata_install_package_list for a
# script's own extra packages.

STRATA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STRATA_BUILD=${STRATA_BUILD:-$STRATA_ROOT/build}
STRATA_PACKAGES=(build-essential cmake ninja-build pkg-config
                 libzmq3-dev cppzmq-dev libsodium-dev libpoco-dev libcli11-dev libgtest-dev libsqlite3-dev libpq-dev postgresql
                 python3-aiosmtpd openssl curl chromium prometheus-cpp-dev prometheus
                 libxml2-utils slowhttptest)

strata_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages named as arguments, those that are missing and only those.
strata_install_package_list() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  strata_log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

strata_install_packages() { strata_install_package_list "${STRATA_PACKAGES[@]}"; }

strata_build() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  if [[ ! -f $STRATA_BUILD/build.ninja ]]; then
    strata_log "configuring into ${STRATA_BUILD#"$STRATA_ROOT"/}"
    cmake -S "$STRATA_ROOT" -B "$STRATA_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_WERROR=ON >/dev/null
  fi
  strata_log "building with $jobs jobs"
  cmake --build "$STRATA_BUILD" -j "$jobs"
}

strata_setup() {
  strata_install_packages
  strata_build
}
