#!/usr/bin/env bash
# Installs the Debian packages moocguard needs to build, test and run, only those missing.
# Used by `make demo` and `make test`; safe to run repeatedly.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libmicrohttpd-dev libjansson-dev libsqlite3-dev
      libssl-dev libsodium-dev libcmocka-dev libpq-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
