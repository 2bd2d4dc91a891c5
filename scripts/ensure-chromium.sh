#!/usr/bin/env bash
# Makes Debian's chromium package available for the browser tests
# (internal/browser). When a chromium binary is already there ($CHROMIUM,
# /usr/bin/chromium, or chromium on PATH) it says so and returns at once;
# otherwise it installs the package with apt-get (through sudo when not root
# and sudo exists), after an apt-get update.
#
#   scripts/ensure-chromium.sh
#   JWTAUTHTEST_SKIP_BROWSER=1 scripts/ensure-chromium.sh   # does nothing
#
# `make test` runs it first (make browser).
#
# The steps are ensure_binary's, of scripts/lib/ensure-package.sh (shared
# by the scripts/ensure-*.sh); the script runs from any directory.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/ensure-package.sh"

ensure_binary chromium CHROMIUM /usr/bin/chromium chromium JWTAUTHTEST_SKIP_BROWSER
