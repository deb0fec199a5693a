#!/usr/bin/env bash
# Makes sure Debian's prometheus (and its promtool) is available at /usr/bin, for the monitoring
# test (test/deploy/prometheus.test.ts loads deploy/prometheus/alerts.yml into a real Prometheus
# scraping a real gateway, and runs `promtool check rules` on it).
# Idempotent: does nothing when `prometheus --version` and `promtool --version` already work.
# Never starts a system Prometheus.
set -euo pipefail

prometheus=/usr/bin/prometheus
promtool=/usr/bin/promtool

if "$prometheus" --version >/dev/null 2>&1 && "$promtool" --version >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare: the monitoring test needs prometheus and promtool in /usr/bin: install them (Debian/Ubuntu: sudo apt-get install prometheus), then re-run" >&2
  exit 1
fi

# The package's postinst would start Prometheus as a service on port 9090; the test runs its own
# on a loopback port. A policy-rc.d answering 101 ("action forbidden") stops that start, so we add
# one for the install if the machine has none (containers usually do).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "prepare: installing prometheus (for the monitoring test)"
apt-get update -qq
# No recommends: they pull in the node exporter, which the test does not use.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null

if ! "$prometheus" --version >/dev/null 2>&1 || ! "$promtool" --version >/dev/null 2>&1; then
  echo "prepare: installed prometheus but $prometheus --version or $promtool --version still fails" >&2
  exit 1
fi
