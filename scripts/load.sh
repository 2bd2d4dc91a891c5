#!/usr/bin/env bash
# Load test of the example server on loopback: builds and starts it on a free
# port of 127.0.0.1, gets alice's token from POST /login, drives GET /public
# (no authentication) and GET /auth (the token verified on every request)
# for DURATION each from a second process, and prints both throughputs and
# their ratio. The load comes from wrk (installed with apt-get when missing
# and apt is there), else from the Go generator internal/bench/cmd/load.
#
#   scripts/load.sh                      # DURATION=10s CONNS=32 THREADS=2
#   DURATION=30s CONNS=64 scripts/load.sh
#   LOADGEN=go scripts/load.sh           # the Go generator even with wrk
set -euo pipefail

DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
LOADGEN=${LOADGEN:-auto}
GO=${GO:-go}

cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The load generator.
if [ "$LOADGEN" = auto ]; then
	if ! command -v wrk >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
		echo "load: installing wrk with apt-get" >&2
		timeout 300 apt-get install -y -qq wrk >/dev/null 2>&1 ||
			{ timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 300 apt-get install -y -qq wrk >/dev/null 2>&1; } || true
	fi
	if command -v wrk >/dev/null; then LOADGEN=wrk; else LOADGEN=go; fi
fi
if [ "$LOADGEN" = go ]; then
	(cd internal/bench && "$GO" build -o "$tmp/load" ./cmd/load)
fi

# The server, on a port the kernel picks; its first line names the address.
"$GO" build -o "$tmp/server" ./examples/server
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

# drive PATH [HEADER]: prints the requests/sec of one run.
drive() {
	local out
	if [ "$LOADGEN" = wrk ]; then
		# wrk counts non-2xx responses apart; the run must have none.
		out=$(timeout 120 wrk -t "$THREADS" -c "$CONNS" -d "$DURATION" ${2:+-H "$2"} "$base$1")
		if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; echo "load: $1 answered non-2xx" >&2; return 1; fi
	else
		out=$(timeout 120 "$tmp/load" -url "$base$1" ${2:+-H "$2"} -d "$DURATION" -c "$CONNS")
	fi
	echo "$out" >&2
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

echo "load: $LOADGEN, $CONNS connections, $DURATION per route, server at $base" >&2
echo "== GET /public (no authentication)" >&2
public=$(drive /public)
echo "== GET /auth (token verified on every request)" >&2
authed=$(drive /auth "$auth")

echo
printf '%-32s %12s\n' "route" "requests/sec"
printf '%-32s %12.0f\n' "GET /public (no auth)" "$public"
printf '%-32s %12.0f\n' "GET /auth (JWT, HS256)" "$authed"
awk -v a="$authed" -v p="$public" 'BEGIN { printf "%-32s %12.2f\n", "ratio /auth : /public", a / p }'
