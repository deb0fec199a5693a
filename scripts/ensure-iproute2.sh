#!/usr/bin/env bash
# Makes sure `ss` (Debian's iproute2) is available, for the listen backlog test
# (test/gateway/listen-backlog.test.ts reads a listening socket's backlog with `ss -ltn`).
# Idempotent: does nothing when `ss -V` already works.
set -euo pipefail

if ss -V >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare: the listen backlog test needs ss: install it (Debian/Ubuntu: sudo apt-get install iproute2), then re-run" >&2
  exit 1
fi

echo "prepare: installing iproute2 (for the listen backlog test)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 >/dev/null

if ! ss -V >/dev/null 2>&1; then
  echo "prepare: installed iproute2 but ss -V still fails" >&2
  exit 1
fi
