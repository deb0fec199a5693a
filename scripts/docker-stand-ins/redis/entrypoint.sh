#!/bin/sh
# Entry point of the redis:7-alpine STAND-IN (see Dockerfile): what the official image's does for
# `redis-server ...`: the data directory owned by redis, the server run as redis, and protected
# mode off unless the command says otherwise (the official image builds it with that default).
set -e
if [ "$1" = "redis-server" ]; then
  shift
  case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
  set -- redis-server "$@"
  if [ "$(id -u)" = "0" ]; then
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
