#!/usr/bin/env bash
# nginx for the production stack (`make run-production`) and its tests:
# Debian's package, installed only when the binary is missing. The project
# runs it unprivileged in the foreground (bot/proxy.py); the package's own
# service is kept from starting (it would take port 80).
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-package.sh" "${BOT_NGINX:-/usr/sbin/nginx}" nginx \
  "the production stack" --no-service
