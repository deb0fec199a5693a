#!/usr/bin/env bash
# Makes sure a Docker engine and docker-compose are available, for the compose test
# (test/deploy/compose.test.ts builds the image and runs docker-compose.yml). In this order:
#   1. A `docker` client on PATH (or /usr/bin/docker) already talks to an engine: use it.
#   2. dockerd is installed (or installable: root with apt-get installs Debian's docker.io,
#      docker-compose and debootstrap): start it in the background, its pid in
#      .docker-engine/dockerd.pid and its log in .docker-engine/dockerd.log, and wait for it to answer.
#   3. Otherwise: one line saying why, exit 3 ("unavailable": the test skips with one line).
# docker-compose (the 1.29 Python one, or the `docker compose` plugin) must be there too, else 3.
#
# On success the last lines of stdout are machine-readable, for the test:
#   docker-client: <path of the docker client that answered>
#   docker-compose: <command: docker-compose, or "<client> compose">
#   dockerd-started: <pid>        (only when this run started dockerd; stop it by that pid)
# Exit codes: 0 ready, 3 unavailable here (no engine can run), 1 anything else.
#
# A client may be newer than the engine (/usr/local/bin/docker 28 against Debian's dockerd 20.10):
# it negotiates the engine's API version down, so any client that answers `docker version` will do.
set -euo pipefail
cd "$(dirname "$0")/.."

UNAVAILABLE=3
state=.docker-engine
unavailable() {
  echo "docker: unavailable: $*" >&2
  exit "$UNAVAILABLE"
}

# The client that answers, if any: the one on PATH first, then Debian's.
answering_client() {
  local c
  for c in "$(command -v docker 2>/dev/null || true)" /usr/bin/docker /usr/local/bin/docker; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if timeout 10 "$c" version --format '{{.Server.Version}}' >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

compose_command() { # docker-compose 1.x, else the compose plugin of the client
  if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
    echo docker-compose
  elif [ -n "${1:-}" ] && "$1" compose version >/dev/null 2>&1; then
    echo "$1 compose"
  else
    return 1
  fi
}

is_root() { [ "$(id -u)" -eq 0 ]; }

install_packages() { # Debian's engine, compose and debootstrap (for the stand-in images)
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [ "${#missing[@]}" -gt 0 ] || return 0
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  # docker.io's postinst would start the service: a policy-rc.d answering 101 stops that (the
  # engine is started below, by pid, only when the test needs it).
  local policy=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added=1
  fi
  echo "docker: installing ${missing[*]} with apt-get"
  local ok=0
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null 2>&1 || ok=1
  [ -z "$added" ] || rm -f "$policy"
  return "$ok"
}

client=$(answering_client || true)
started=""

if [ -z "$client" ]; then
  if ! install_packages && ! command -v dockerd >/dev/null 2>&1; then
    unavailable "no Docker engine answers and none can be installed here (needs root and apt-get: apt-get install docker.io docker-compose)"
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    unavailable "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
  fi
  if ! is_root; then
    unavailable "no Docker engine answers and starting dockerd needs root"
  fi
  mkdir -p "$state"
  # A socket left by an engine that died would make the new one refuse to start.
  if [ -S /var/run/docker.sock ] && ! timeout 5 /usr/bin/docker version >/dev/null 2>&1; then rm -f /var/run/docker.sock; fi
  # setsid: its own session, so it outlives this script and a Ctrl-C of the test run; stopped by pid.
  setsid dockerd >"$state/dockerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$state/dockerd.pid"
  for _ in $(seq 1 60); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$state/dockerd.pid"
      unavailable "dockerd could not start here (it exited; last line of $state/dockerd.log: $(tail -n 1 "$state/dockerd.log" | cut -c1-200))"
    fi
    client=$(answering_client || true)
    [ -z "$client" ] || break
    sleep 0.5
  done
  if [ -z "$client" ]; then
    kill "$pid" 2>/dev/null || true
    rm -f "$state/dockerd.pid"
    unavailable "dockerd did not answer within 30 s (see $state/dockerd.log)"
  fi
  started=$pid
  echo "docker: started dockerd (pid $pid, log $state/dockerd.log)"
else
  # An engine answers, but the stand-ins need debootstrap and the test docker-compose.
  install_packages || true
fi

compose=$(compose_command "$client" || true)
if [ -z "$compose" ]; then
  if [ -n "$started" ]; then kill "$started" 2>/dev/null || true; rm -f "$state/dockerd.pid"; fi
  unavailable "the Docker engine answers but there is no docker-compose (apt-get install docker-compose)"
fi

echo "docker: engine $("$client" version --format '{{.Server.Version}}' 2>/dev/null) ($("$client" info --format '{{.Driver}}' 2>/dev/null)), client $client, $($compose version --short 2>/dev/null || echo compose)"
echo "docker-client: $client"
echo "docker-compose: $compose"
[ -z "$started" ] || echo "dockerd-started: $started"
