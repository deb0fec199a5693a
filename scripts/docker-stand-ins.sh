#!/usr/bin/env bash
# STAND-IN base images for a machine where no image registry is reachable (this one: the compose
# test, test/deploy/compose.test.ts, builds and runs docker-compose.yml here). For each image the
# project's Dockerfile and docker-compose.yml name, node:20-slim, redis:7-alpine and
# nginx:1.27-alpine:
#   - present locally (the real one, or a current stand-in): nothing to do;
#   - else `docker pull` (anywhere with a registry this is all that happens);
#   - else a local stand-in under exactly that name, built from scripts/docker-stand-ins/<name>/ on a
#     Debian bookworm base: `debootstrap --variant=minbase bookworm` + `docker import`.
# The project's Dockerfile and compose file are never changed for this: they stay as users run
# them, and the stand-ins only make their FROM/image lines resolvable offline.
#
# Cached between runs: the rootfs tarball ($SB_DOCKER_CACHE, default /var/cache/switchboard-docker),
# the imported base image, and the stand-ins themselves (rebuilt only when their Dockerfile, this
# machine's node/npm or its CA bundle change: a hash of those is a label of each stand-in).
#
# Needs a Docker engine (scripts/ensure-docker.sh; DOCKER names the client, default `docker`) and,
# to build the base, root with debootstrap. Prints one line per image. Exit 0 when all three exist.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
cache=${SB_DOCKER_CACHE:-/var/cache/switchboard-docker}
base=switchboard-stand-in/debian:bookworm
dir=scripts/docker-stand-ins
pull_failed=""

say() { echo "stand-ins: $*"; }

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
label_of() { "$DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# The Debian mirror this machine's apt uses (a local mirror keeps working offline), else deb.debian.org.
mirror() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n 1 | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=$(grep -hE '^deb .*bookworm main' /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $2}' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base() {
  have_image "$base" && return 0
  local tarball="$cache/bookworm-minbase.tar.gz"
  if [ ! -s "$tarball" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null 2>&1; then
      echo "stand-ins: no $base image and no cached rootfs; building one needs root and debootstrap (apt-get install debootstrap)" >&2
      return 1
    fi
    local m root started=$SECONDS
    m=$(mirror)
    root=$(mktemp -d /var/tmp/sb-bookworm-XXXXXX)
    say "debootstrap --variant=minbase bookworm from $m (once; cached in $tarball)"
    if ! debootstrap --variant=minbase bookworm "$root" "$m" >"$root.log" 2>&1; then
      echo "stand-ins: debootstrap failed; last lines of $root.log:" >&2
      tail -n 5 "$root.log" >&2
      rm -rf "$root"
      return 1
    fi
    # As Docker's own Debian images are: no services started by package scripts, no recommends,
    # no documentation, updates and security updates in the sources, apt's lists emptied.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90stand-in"
    printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n' >"$root/etc/dpkg/dpkg.cfg.d/90stand-in"
    local security=${m%/debian}/debian-security
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' "$m" "$m" "$security" >"$root/etc/apt/sources.list"
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
    mkdir -p "$cache"
    tar -C "$root" --numeric-owner -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root" "$root.log"
    say "rootfs ready in $((SECONDS - started)) s ($(du -h "$tarball" | cut -f1))"
  fi
  "$DOCKER" import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$base" >/dev/null
  say "imported $base from $tarball"
}

# A hash of everything a stand-in is made of: its directory, and for node the machine's node, npm and CA bundle.
hash_of() {
  local name=$1
  {
    cat "$dir/$name"/*
    if [ "$name" = node ]; then
      node --version
      npm --version
      sha256sum /etc/ssl/certs/ca-certificates.crt
    fi
  } | sha256sum | cut -c1-16
}

build_stand_in() { # <image> <stand-in dir name>
  local image=$1 name=$2 hash context old started=$SECONDS
  hash=$(hash_of "$name")
  old=$("$DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  ensure_base
  context=$(mktemp -d /var/tmp/sb-stand-in-XXXXXX)
  cp -r "$dir/$name/." "$context/"
  local args=(--build-arg "STAND_IN_HASH=$hash" -t "$image")
  if [ "$name" = node ]; then
    local nodebin npmdir
    nodebin=$(readlink -f "$(command -v node)")
    npmdir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    cp "$nodebin" "$context/node"
    cp -r "$npmdir" "$context/npm"
    cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
    args+=(--build-arg "NODE_VERSION=$(node --version | sed 's/^v//')")
  fi
  if ! "$DOCKER" build -q "${args[@]}" "$context" >"$context.log" 2>&1; then
    echo "stand-ins: building $image failed:" >&2
    tail -n 15 "$context.log" >&2
    rm -rf "$context" "$context.log"
    return 1
  fi
  rm -rf "$context" "$context.log"
  # The stand-in it replaces, now untagged (kept if a container still uses it).
  if [ -n "$old" ] && [ "$old" != "$("$DOCKER" image inspect --format '{{.Id}}' "$image")" ]; then "$DOCKER" rmi "$old" >/dev/null 2>&1 || true; fi
  say "$image: built a local stand-in in $((SECONDS - started)) s (scripts/docker-stand-ins/$name)"
}

ensure_image() { # <image> <stand-in dir name>
  local image=$1 name=$2
  if have_image "$image"; then
    local built
    built=$(label_of "$image" org.switchboard.stand-in-hash)
    if [ -z "$built" ]; then
      say "$image: present"
      return 0
    fi
    if [ "$built" = "$(hash_of "$name")" ]; then
      say "$image: local stand-in, current"
      return 0
    fi
    say "$image: local stand-in out of date, rebuilding"
    build_stand_in "$image" "$name"
    return
  fi
  # One registry attempt per run: if the first image cannot be pulled, neither can the others.
  if [ -z "$pull_failed" ]; then
    if timeout 60 "$DOCKER" pull -q "$image" >/dev/null 2>&1; then
      say "$image: pulled"
      return 0
    fi
    pull_failed=1
    say "no registry answers (docker pull $image failed): building local stand-ins"
  fi
  build_stand_in "$image" "$name"
}

ensure_image node:20-slim node
ensure_image redis:7-alpine redis
ensure_image nginx:1.27-alpine nginx
