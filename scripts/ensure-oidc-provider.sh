#!/usr/bin/env bash
# Makes the OpenID provider of the tests available (internal/oidctest): Node's
# oidc-provider, at the exact versions of internal/oidctest/provider's
# package-lock.json, installed by `npm ci` into that directory's node_modules
# (never committed). When node_modules was installed from the package.json and
# lockfile as they are now (a stamp written after the install holds their
# SHA-256) it says so and returns at once; otherwise it runs
# `npm ci --no-audit --no-fund --ignore-scripts` there, which needs the npm
# registry.
#
#   scripts/ensure-oidc-provider.sh
#   JWTAUTHTEST_SKIP_OIDC=1 scripts/ensure-oidc-provider.sh   # does nothing
#
# `make test` runs it first (make oidc).
#
# Node.js 20.18 or later must be there, and npm for an install ($NODE and
# $NPM, else /usr/bin/node and /usr/bin/npm, else node and npm on PATH); when
# one is missing it installs Debian's nodejs or npm package with
# ensure_binary, of scripts/lib/ensure-package.sh. Debian 12's nodejs is 18,
# too old for oidc-provider 9: the script then fails, saying so; install a
# later Node.js (NodeSource's, or Debian 13's) and run it again. The script
# runs from any directory.
set -euo pipefail

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/ensure-package.sh"

me=ensure-oidc-provider
skip_env=JWTAUTHTEST_SKIP_OIDC
if [ "${!skip_env:-}" = 1 ]; then
	echo "$me: $skip_env=1, not checking for oidc-provider"
	exit 0
fi

# The tests need node as well as node_modules, so node is checked first.
ensure_binary node NODE /usr/bin/node nodejs "$skip_env" strict
node=$(_ensure_binary_found node NODE /usr/bin/node)

# URL.parse, which oidc-provider 9 calls, came in Node.js 20.18.
# (node --version answers without starting V8: "v20.20.2".)
version=$("$node" --version)
version=${version#v}
IFS=. read -r major minor _ <<<"$version"
if [ "$major" -lt 20 ] || { [ "$major" = 20 ] && [ "$minor" -lt 18 ]; }; then
	echo "$me: $node is Node.js $version; oidc-provider 9 needs 20.18 or later" >&2
	echo "$me: install a later Node.js (NodeSource's, or Debian 13's nodejs) and set NODE to it, or set $skip_env=1" >&2
	exit 1
fi

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../internal/oidctest/provider" && pwd)
# The stamp is what internal/oidctest checks too: the SHA-256 of package.json
# followed by package-lock.json, in hex.
stamp_file=$dir/node_modules/.jwtauth-stamp
want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ] && [ -f "$dir/node_modules/oidc-provider/package.json" ]; then
	echo "$me: $dir/node_modules is up to date with package-lock.json (Node.js $version)"
	exit 0
fi

ensure_binary npm NPM /usr/bin/npm npm "$skip_env" strict
npm=$(_ensure_binary_found npm NPM /usr/bin/npm)

start=$(date +%s%N)
echo "$me: running npm ci in $dir (Node.js $version, npm $("$npm" --version))"
rm -f "$stamp_file"
(cd "$dir" && "$npm" ci --no-audit --no-fund --ignore-scripts --loglevel=warn)
echo "$want" >"$stamp_file"
installed=$("$node" -p 'require(process.argv[1]).version' "$dir/node_modules/oidc-provider/package.json")
echo "$me: installed oidc-provider $installed in $((($(date +%s%N) - start) / 1000000)) ms"
