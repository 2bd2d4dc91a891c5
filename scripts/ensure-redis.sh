#!/usr/bin/env bash
# Makes Debian's redis-server package available for the tests that run a
# real Redis (internal/redistest). When a redis-server binary is already
# there ($REDIS_SERVER, /usr/bin/redis-server, or redis-server on PATH) it
# says so and returns at once; otherwise it installs the package with apt-get
# (through sudo when not root and sudo exists), after an apt-get update.
#
#   scripts/ensure-redis.sh
#   JWTAUTH_SKIP_REDIS=1 scripts/ensure-redis.sh   # does nothing
#
# `make test` runs it first (make redis).
#
# The tests never use a system Redis: each starts redis-server of its own on
# a free port of 127.0.0.1 and stops it. Where the package's install starts
# the redis-server service (a machine with systemd, or a container whose
# policy-rc.d allows it), that instance listens on 127.0.0.1:6379 and is
# harmless to the tests; this script neither starts nor stops it.
set -euo pipefail

if [ "${JWTAUTH_SKIP_REDIS:-}" = 1 ]; then
	echo "ensure-redis: JWTAUTH_SKIP_REDIS=1, not checking for redis-server"
	exit 0
fi

found() {
	if [ -n "${REDIS_SERVER:-}" ] && [ -x "$REDIS_SERVER" ]; then
		echo "$REDIS_SERVER"
	elif [ -x /usr/bin/redis-server ]; then
		echo /usr/bin/redis-server
	else
		command -v redis-server 2>/dev/null
	fi
}

if [ -n "${REDIS_SERVER:-}" ] && [ ! -x "$REDIS_SERVER" ]; then
	echo "ensure-redis: REDIS_SERVER=$REDIS_SERVER is not an executable file" >&2
	exit 1
fi

if bin=$(found); then
	echo "ensure-redis: $bin is there"
	exit 0
fi

if ! command -v apt-get >/dev/null; then
	echo "ensure-redis: redis-server is missing and there is no apt-get to install it;" >&2
	echo "ensure-redis: install a redis-server and set REDIS_SERVER to its path, or set JWTAUTH_SKIP_REDIS=1" >&2
	exit 1
fi

as_root=()
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "ensure-redis: redis-server is missing; installing it needs root, and there is no sudo" >&2
		echo "ensure-redis: run as root: apt-get install -y --no-install-recommends redis-server" >&2
		exit 1
	fi
	as_root=(sudo)
fi

start=$(date +%s)
echo "ensure-redis: redis-server is missing; running ${as_root[*]:+${as_root[*]} }apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "ensure-redis: running ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends redis-server"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server

if ! bin=$(found); then
	echo "ensure-redis: apt-get installed redis-server, yet no redis-server binary is found" >&2
	exit 1
fi
echo "ensure-redis: installed $bin ($("$bin" --version 2>/dev/null || echo "version unknown")) in $(($(date +%s) - start)) s"
