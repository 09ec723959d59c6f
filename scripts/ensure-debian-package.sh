#!/usr/bin/env bash
# Installs a Debian package when its binary is missing (scripts/ensure-chromium.sh,
# scripts/ensure-nginx.sh). Nothing happens when the binary is there.
#
#   ensure-debian-package.sh BINARY PACKAGE PURPOSE [--no-service]
#
# --no-service keeps the package's own service from starting while it is
# installed (policy-rc.d, unless one is already there): the project runs such
# programs itself, unprivileged and in the foreground.
set -euo pipefail

BINARY=$1 PACKAGE=$2 PURPOSE=$3 NO_SERVICE=${4:-}
if [ -x "$BINARY" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "$BINARY is missing; install Debian's '$PACKAGE' package as root ($PURPOSE)." >&2
    exit 1
  fi
fi

echo "Installing Debian's '$PACKAGE' package for $PURPOSE ..."
$SUDO apt-get update -qq
cleanup=""
if [ "$NO_SERVICE" = "--no-service" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  cleanup="/usr/sbin/policy-rc.d"
fi
trap '[ -z "$cleanup" ] || $SUDO rm -f "$cleanup"' EXIT
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$PACKAGE" >/dev/null
test -x "$BINARY"
