#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/browser): Debian's package,
# installed only when /usr/bin/chromium is missing. Playwright drives it; no
# browser is downloaded by Playwright.
set -euo pipefail

CHROMIUM=${BOT_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-chromium: $CHROMIUM is missing; install Debian's 'chromium' package as root." >&2
    exit 1
  fi
fi

echo "Installing Chromium (Debian package 'chromium') for the browser tests ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM"
