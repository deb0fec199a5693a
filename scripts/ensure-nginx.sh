#!/usr/bin/env bash
# Makes sure Debian's nginx is available at /usr/sbin/nginx, for the load balancer test
# (test/scale/nginx.test.ts runs deploy/nginx.conf in front of two gateways).
# Idempotent: does nothing when `/usr/sbin/nginx -v` already works. Never starts a system nginx.
set -euo pipefail

nginx=/usr/sbin/nginx

if "$nginx" -v >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare: the load balancer test needs nginx at $nginx: install it (Debian/Ubuntu: sudo apt-get install nginx), then re-run" >&2
  exit 1
fi

# The package's postinst would start nginx as a service on port 80; the test runs its own on a
# loopback port. A policy-rc.d answering 101 ("action forbidden") stops that start, so we add one
# for the install if the machine has none (containers usually do).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "prepare: installing nginx (for the load balancer test)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null

if ! "$nginx" -v >/dev/null 2>&1; then
  echo "prepare: installed nginx but $nginx -v still fails" >&2
  exit 1
fi
