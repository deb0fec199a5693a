#!/usr/bin/env bash
# Makes sure a Python with FastAPI, uvicorn and httpx is available, for the example backend
# (examples/fastapi-backend) and its test (test/examples/fastapi-backend.test.ts). Idempotent:
# does nothing when the modules already import.
#
# Debian's packages install into the system interpreter (/usr/bin/python3), which may not be the
# `python3` first on PATH (pyenv, a venv): either one importing the modules is enough, and the test
# picks the same way (PYTHON, then python3 on PATH, then /usr/bin/python3).
set -euo pipefail

has_modules() {
  command -v "$1" >/dev/null 2>&1 && "$1" -c 'import fastapi, uvicorn, httpx' >/dev/null 2>&1
}

for py in "${PYTHON:-}" python3 /usr/bin/python3; do
  if [ -n "$py" ] && has_modules "$py"; then
    exit 0
  fi
done

packages="python3-fastapi python3-uvicorn python3-httpx"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prepare: the FastAPI example test needs fastapi, uvicorn and httpx: install them (Debian/Ubuntu: sudo apt-get install $packages; elsewhere: pip install fastapi uvicorn httpx), then re-run" >&2
  exit 1
fi

echo "prepare: installing $packages (for the FastAPI example test)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null

if ! has_modules /usr/bin/python3; then
  echo "prepare: installed $packages but /usr/bin/python3 still cannot import fastapi, uvicorn and httpx" >&2
  exit 1
fi
