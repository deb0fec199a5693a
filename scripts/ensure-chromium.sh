#!/usr/bin/env bash
# Makes sure a headless Chromium is available at /usr/bin/chromium, for the browser test of the
# live console (test/console/console.test.ts, driven with playwright-core, which ships no browser).
# Idempotent: does nothing when `/usr/bin/chromium --version` already works.
set -euo pipefail

browser=/usr/bin/chromium

if "$browser" --version >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare: the console browser test needs Chromium at $browser: install it (Debian/Ubuntu: sudo apt-get install chromium), then re-run" >&2
  exit 1
fi

echo "prepare: installing chromium (for the console browser test)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

if ! "$browser" --version >/dev/null 2>&1; then
  echo "prepare: installed chromium but $browser --version still fails" >&2
  exit 1
fi
