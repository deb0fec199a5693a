#!/usr/bin/env bash
# Makes sure a Redis server is reachable, in this order:
#   1. REDIS_URL is set: it must answer PING (nothing is started for a URL you chose). With
#      REDIS_MODE=cluster it is a comma-separated seed list: at least one seed must answer.
#   2. Something already answers on 127.0.0.1:6379: use it.
#   3. redis-server is installed: start one on 127.0.0.1:6379, data in .redis/.
#   4. A system package manager is available as root: install redis-server, then 3.
#   5. Otherwise: one line saying how to get Redis, exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."

ping_url() { # prints PONG if the URL answers (passed in the environment: argv, with its password, shows in ps)
  PING_URL="$1" node -e '
    const net = require("net"); const u = new URL(process.env.PING_URL);
    const s = net.connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    const auth = u.password ? `AUTH ${u.username ? decodeURIComponent(u.username) + " " : ""}${decodeURIComponent(u.password)}\r\n` : "";
    let buf = ""; s.setTimeout(1500, () => process.exit(1));
    s.on("connect", () => s.write(auth + "PING\r\n"));
    s.on("data", (d) => { buf += d; if (buf.includes("PONG")) { console.log("PONG"); process.exit(0); } if (buf.startsWith("-")) process.exit(1); });
    s.on("error", () => process.exit(1));' 2>/dev/null || true
}

address_of() { # host:port of a redis:// URL, without user:password, for messages
  local rest="${1#*://}"
  rest="${rest##*@}"
  echo "${rest%%/*}"
}

if [ "${REDIS_MODE:-}" = "cluster" ]; then
  # The client learns the other nodes from any seed that answers, so one is enough.
  if [ -z "${REDIS_URL:-}" ]; then
    echo "redis: REDIS_MODE=cluster needs REDIS_URL, the cluster's seed nodes (redis://host:port,redis://host:port,...); nothing is started for a cluster" >&2
    exit 1
  fi
  IFS=',' read -ra seeds <<<"$REDIS_URL"
  total=0 answering=0 silent=()
  for seed in "${seeds[@]}"; do
    seed="${seed//[[:space:]]/}"
    [ -n "$seed" ] || continue
    total=$((total + 1))
    if [ "$(ping_url "$seed")" = "PONG" ]; then answering=$((answering + 1)); else silent+=("$(address_of "$seed")"); fi
  done
  if [ "$answering" -gt 0 ]; then echo "redis: using REDIS_URL (cluster, $answering of $total seeds answer)"; exit 0; fi
  echo "redis: REDIS_MODE=cluster but no seed of REDIS_URL answers PING (${silent[*]:-none given}); start the cluster or fix REDIS_URL" >&2
  exit 1
fi

if [ -n "${REDIS_URL:-}" ]; then
  if [ "$(ping_url "$REDIS_URL")" = "PONG" ]; then echo "redis: using REDIS_URL"; exit 0; fi
  echo "redis: REDIS_URL is set but does not answer PING; start that server or unset REDIS_URL to use a local one" >&2
  exit 1
fi

LOCAL=redis://127.0.0.1:6379
if [ "$(ping_url "$LOCAL")" = "PONG" ]; then echo "redis: using $LOCAL"; exit 0; fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis: installing redis-server with apt-get"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
  elif [ "$(id -u)" = "0" ] && command -v apk >/dev/null 2>&1; then
    apk add --no-cache redis >/dev/null
  elif [ "$(id -u)" = "0" ] && command -v dnf >/dev/null 2>&1; then
    dnf install -y -q redis >/dev/null
  elif command -v brew >/dev/null 2>&1; then
    brew install redis >/dev/null
  else
    echo "redis: not found; install it (e.g. 'sudo apt-get install redis-server' or 'brew install redis'), run 'docker compose up -d redis', or set REDIS_URL" >&2
    exit 1
  fi
fi

mkdir -p .redis
# appendonly keeps accepted-but-undelivered events across a restart of this local server.
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$PWD/.redis" \
  --appendonly yes --save '' --logfile "$PWD/.redis/redis.log" --pidfile "$PWD/.redis/redis.pid"
for _ in $(seq 1 50); do
  if [ "$(ping_url "$LOCAL")" = "PONG" ]; then echo "redis: started redis-server on $LOCAL (pid $(cat .redis/redis.pid 2>/dev/null))"; exit 0; fi
  sleep 0.1
done
echo "redis: started redis-server but it does not answer on $LOCAL; see .redis/redis.log" >&2
exit 1
