#!/usr/bin/env bash
# nginx for the production stack (`make run-production`) and its tests:
# Debian's package, installed only when the binary is missing. The project
# runs it unprivileged in the foreground (bot/proxy.py); the package's own
# service is not used.
set -euo pipefail

NGINX=${BOT_NGINX:-/usr/sbin/nginx}
if [ -x "$NGINX" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-nginx: $NGINX is missing; install Debian's 'nginx' package as root." >&2
    exit 1
  fi
fi

echo "Installing nginx (Debian package 'nginx') for the production stack ..."
$SUDO apt-get update -qq
# Only the binary is wanted: keep the package's service from starting on port 80
# (policy-rc.d, unless one is already there).
cleanup=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  cleanup="/usr/sbin/policy-rc.d"
fi
trap '[ -z "$cleanup" ] || $SUDO rm -f "$cleanup"' EXIT
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
test -x "$NGINX"
