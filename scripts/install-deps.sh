#!/usr/bin/env bash
# Installs every Debian 12 package poolwatch needs to build, test and run its demo.
# Idempotent: when everything is already there it prints nothing and touches nothing.
set -euo pipefail

# chromium: the status page's headless-browser test (about 290 MB, ~55 s to install);
# systemd: systemd-analyze verify in the package test; file: CPack's DEB generator (cpack -G DEB)
# reads the binaries' types with it.
# libssl-dev: the TLS shims for civetweb (web/tls_shim); openssl: test certificates;
# clang, libclang-rt-14-dev: libFuzzer (scripts/fuzz.sh); wrk: the load test;
# clang-format: the formatting check (scripts/check.sh).
# zlib1g-dev: gzip on /metrics and replay of .gz logs; prometheus-cpp-dev pulls it in today,
# but poolwatch links zlib itself (find_package(ZLIB)), so it is named here.
# help2man: poolwatch(1), generated from --help at build time (cmake/Packaging.cmake);
# lintian, man-db: the package test checks the .deb with lintian and renders the page with man.
# libprotobuf-dev, protobuf-compiler, libsnappy-dev: remote write (protobuf + snappy).
packages=(
  build-essential cmake ninja-build pkg-config
  prometheus-cpp-dev libcivetweb-dev libcurl4-openssl-dev libyaml-cpp-dev zlib1g-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libbenchmark-dev
  nginx-light gettext-base curl python3 procps
  prometheus prometheus-alertmanager docker-compose
  chromium systemd file
  libssl-dev openssl clang libclang-rt-14-dev wrk clang-format
  help2man lintian man-db
  libprotobuf-dev protobuf-compiler libsnappy-dev
)
if [ "${POOLWATCH_EXTRA_PACKAGES:-}" != "" ]; then
  # shellcheck disable=SC2206
  packages+=(${POOLWATCH_EXTRA_PACKAGES})
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The nginx package starts a system-wide server on port 80; poolwatch runs its own instances.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $sudo systemctl stop nginx || true
fi
