#!/usr/bin/env bash
# What `npm start`, `npm test` and `npm run bench` do first: install dependencies if they are
# missing or stale, make sure Redis is reachable, and (with --build) compile TypeScript. Without
# --build (the test path) it also makes sure what the tests run is installed: the Python socket.io
# client and FastAPI, the headless Chromium, nginx, `ss` and Prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.switchboard-lock
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # npm ci: exactly the locked tree, as the Docker image builds it. It needs a lock that lists
  # every platform's optional binaries (SWC, msgpackr-extract, unrs-resolver): update the lock
  # where the whole npm registry is reachable, since a mirror that does not serve the other
  # platforms' packages leaves them out, and npm ci then refuses the lock as out of sync.
  echo "prepare: installing dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

bash scripts/ensure-redis.sh

if [ "${1:-}" = "--build" ]; then
  echo "prepare: building"
  rm -rf dist
  npm run --silent build
else
  bash scripts/ensure-python-socketio.sh
  bash scripts/ensure-python-fastapi.sh
  bash scripts/ensure-chromium.sh
  bash scripts/ensure-nginx.sh
  bash scripts/ensure-iproute2.sh
  bash scripts/ensure-prometheus.sh
fi
