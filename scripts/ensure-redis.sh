#!/usr/bin/env bash
# Makes Debian's redis-server package available for the tests that run a
# real Redis (internal/redistest). When a redis-server binary is already
# there ($REDIS_SERVER, /usr/bin/redis-server, or redis-server on PATH) it
# says so and returns at once; otherwise it installs the package with apt-get
# (through sudo when not root and sudo exists), after an apt-get update.
#
#   scripts/ensure-redis.sh
#   JWTAUTHTEST_SKIP_REDIS=1 scripts/ensure-redis.sh   # does nothing
#
# `make test` runs it first (make redis).
#
# The tests never use a system Redis: each starts redis-server of its own on
# a free port of 127.0.0.1 and stops it. Where the package's install starts
# the redis-server service (a machine with systemd, or a container whose
# policy-rc.d allows it), that instance listens on 127.0.0.1:6379 and is
# harmless to the tests; this script neither starts nor stops it.
#
# The steps are ensure_binary's, of scripts/lib/ensure-package.sh (shared
# by the scripts/ensure-*.sh); the script runs from any directory.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/ensure-package.sh"

# strict: a REDIS_SERVER that is not an executable file is an error.
ensure_binary redis-server REDIS_SERVER /usr/bin/redis-server redis-server JWTAUTHTEST_SKIP_REDIS strict
