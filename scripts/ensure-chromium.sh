#!/usr/bin/env bash
# Makes Debian's chromium package available for the browser tests
# (internal/browser). When a chromium binary is already there ($CHROMIUM,
# /usr/bin/chromium, or chromium on PATH) it says so and returns at once;
# otherwise it installs the package with apt-get (through sudo when not root
# and sudo exists), after an apt-get update.
#
#   scripts/ensure-chromium.sh
#   JWTAUTH_SKIP_BROWSER=1 scripts/ensure-chromium.sh   # does nothing
#
# `make test` runs it first (make browser).
set -euo pipefail

if [ "${JWTAUTH_SKIP_BROWSER:-}" = 1 ]; then
	echo "ensure-chromium: JWTAUTH_SKIP_BROWSER=1, not checking for chromium"
	exit 0
fi

found() {
	if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
		echo "$CHROMIUM"
	elif [ -x /usr/bin/chromium ]; then
		echo /usr/bin/chromium
	else
		command -v chromium 2>/dev/null
	fi
}

if bin=$(found); then
	echo "ensure-chromium: $bin is there"
	exit 0
fi

if ! command -v apt-get >/dev/null; then
	echo "ensure-chromium: chromium is missing and there is no apt-get to install it;" >&2
	echo "ensure-chromium: install a chromium and set CHROMIUM to its path, or set JWTAUTH_SKIP_BROWSER=1" >&2
	exit 1
fi

as_root=()
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "ensure-chromium: chromium is missing; installing it needs root, and there is no sudo" >&2
		echo "ensure-chromium: run as root: apt-get install -y --no-install-recommends chromium" >&2
		exit 1
	fi
	as_root=(sudo)
fi

start=$(date +%s)
echo "ensure-chromium: chromium is missing; running ${as_root[*]:+${as_root[*]} }apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "ensure-chromium: running ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends chromium"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

if ! bin=$(found); then
	echo "ensure-chromium: apt-get installed chromium, yet no chromium binary is found" >&2
	exit 1
fi
echo "ensure-chromium: installed $bin ($("$bin" --version 2>/dev/null || echo "version unknown")) in $(($(date +%s) - start)) s"
