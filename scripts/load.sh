#!/usr/bin/env bash
# Load test of the example server on loopback: builds and starts it on a free
# port of 127.0.0.1, gets alice's token from POST /login, then, at each
# connection count of CONNS, drives GET /public (no authentication) and
# GET /auth (the token verified on every request) from a second process,
# ROUNDS times each in turn, DURATION a run, and prints each route's median
# requests/s and the authenticated route's as a ratio of the public one's
# (target: at least 0.90). The load comes from the Go generator
# internal/bench/cmd/load (built here, nothing to install); LOADGEN=wrk uses
# wrk instead (installed with apt-get when missing and apt is there).
#
#   scripts/load.sh                      # CONNS="16 64" DURATION=5s ROUNDS=3
#   DURATION=10s CONNS=32 scripts/load.sh
#   LOADGEN=wrk THREADS=2 scripts/load.sh
set -euo pipefail

DURATION=${DURATION:-5s}
CONNS=${CONNS:-16 64}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
LOADGEN=${LOADGEN:-go}
GO=${GO:-go}
TARGET=0.90

cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
server_pid=""
# cleanup stops the server: SIGTERM, up to 10 s for its graceful shutdown
# (5 s), then SIGKILL. A bare wait would hang for good if the signal came
# before the server's handler was set (the script failing as it starts).
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load generator.
case "$LOADGEN" in
go)
	(cd internal/bench && "$GO" build -o "$tmp/load" ./cmd/load)
	;;
wrk)
	if ! command -v wrk >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
		echo "load: installing wrk with apt-get" >&2
		timeout 300 apt-get install -y -qq wrk >/dev/null 2>&1 ||
			{ timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 300 apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	fi
	command -v wrk >/dev/null || { echo "load: LOADGEN=wrk, and wrk is missing (and could not be installed)" >&2; exit 1; }
	;;
*)
	echo "load: LOADGEN must be go or wrk, not $LOADGEN" >&2
	exit 2
	;;
esac

# The server, on a port the kernel picks; its first line names the address.
"$GO" build -o "$tmp/server" ./examples/server
# The files exist before the server starts: its shell opens them only once
# it runs, which on a loaded machine may be after the first look.
: >"$tmp/server.out"
: >"$tmp/server.log"
"$tmp/server" -addr 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!
base=""
for _ in $(seq 100); do
	base=$(sed -n 's/^jwtauth example listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/server.out")
	[ -n "$base" ] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; echo "load: the server did not start" >&2; exit 1; }
	sleep 0.1
done
[ -n "$base" ] || { echo "load: the server did not say where it listens" >&2; exit 1; }

token=$(curl -sS --max-time 5 -X POST "$base/login" -d '{"username":"alice","password":"alice"}' |
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "load: no token from POST /login" >&2; exit 1; }
auth="Authorization: JWT token=$token"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "$auth" "$base/auth")
[ "$code" = 200 ] || { echo "load: GET /auth with the token answered $code" >&2; exit 1; }

# drive CONNS PATH [HEADER]: prints the requests/sec of one run.
drive() {
	local out
	if [ "$LOADGEN" = wrk ]; then
		# wrk counts non-2xx responses apart; the run must have none.
		out=$(timeout 120 wrk -t "$THREADS" -c "$1" -d "$DURATION" ${3:+-H "$3"} "$base$2")
		if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; echo "load: $2 answered non-2xx" >&2; return 1; fi
	else
		out=$(timeout 120 "$tmp/load" -url "$base$2" ${3:+-H "$3"} -d "$DURATION" -c "$1")
	fi
	echo "$out" >&2
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

# median: the median of the numbers on standard input, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "load: $LOADGEN, connections $CONNS, $ROUNDS rounds of $DURATION per route, server at $base" >&2
declare -A public_rps auth_rps
for c in $CONNS; do
	pub="" aut=""
	for round in $(seq "$ROUNDS"); do
		echo "== $c connections, round $round: GET /public (no authentication)" >&2
		pub+="$(drive "$c" /public)"$'\n'
		echo "== $c connections, round $round: GET /auth (token verified on every request)" >&2
		aut+="$(drive "$c" /auth "$auth")"$'\n'
	done
	public_rps[$c]=$(grep . <<<"$pub" | median)
	auth_rps[$c]=$(grep . <<<"$aut" | median)
done

echo
echo "load: $LOADGEN, $(nproc) CPUs shared by server and load, medians of $ROUNDS runs of $DURATION"
echo
echo "| connections | GET /public (no auth), req/s | GET /auth (JWT, HS256), req/s | /auth : /public (target ≥ $TARGET) |"
echo "|--:|--:|--:|--:|"
for c in $CONNS; do
	awk -v c="$c" -v a="${auth_rps[$c]}" -v p="${public_rps[$c]}" -v t="$TARGET" 'BEGIN {
		r = a / p
		printf "| %d | %.0f | %.0f | %.3f (%s) |\n", c, p, a, r, (r >= t ? "met" : "not met")
	}'
done
