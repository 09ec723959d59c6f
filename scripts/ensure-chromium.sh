#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/browser): Debian's package,
# installed only when the binary is missing. Playwright drives it; no browser
# is downloaded by Playwright.
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-package.sh" "${BOT_CHROMIUM:-/usr/bin/chromium}" chromium \
  "the browser tests"
