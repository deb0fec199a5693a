#!/usr/bin/env bash
# What `npm start`, `npm test` and `npm run bench` do first: install dependencies if they are
# missing or stale, make sure Redis is reachable, and (with --build) compile TypeScript. Without
# --build (the test path) it also makes sure the Python socket.io client of the tests is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.switchboard-lock
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # npm install rather than npm ci: with some npm settings the lock omits other platforms'
  # optional binaries (SWC, esbuild), which npm ci treats as out of sync; install keeps the
  # locked versions of everything present.
  echo "prepare: installing dependencies"
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

bash scripts/ensure-redis.sh

if [ "${1:-}" = "--build" ]; then
  echo "prepare: building"
  rm -rf dist
  npm run --silent build
else
  bash scripts/ensure-python-socketio.sh
fi
