# Sourced by scripts/ensure-*.sh (it is not run by itself): ensure_binary
# makes one of Debian's packages available for the tests that run its
# binary. Bash only; the caller sets -euo pipefail. Messages start with the
# calling script's name ("ensure-redis: ...").
#
#   ensure_binary NAME ENVVAR DEFAULT_PATH DEBIAN_PACKAGE SKIP_ENV [strict]
#
# With $SKIP_ENV=1 it says so and returns at once. When a NAME binary is
# already there ($ENVVAR when it is an executable file, else DEFAULT_PATH,
# else NAME on PATH) it says so and returns; otherwise it installs
# DEBIAN_PACKAGE with apt-get (through sudo when not root and sudo exists),
# after an apt-get update, and checks that the binary is there now. With
# "strict" as the sixth argument, an $ENVVAR that is set but not an
# executable file is an error rather than passed over. It returns non-zero,
# with a message on standard error, when it cannot make the binary
# available.

ensure_binary() {
	local name=$1 envvar=$2 default_path=$3 package=$4 skip_env=$5 strict=${6:-}
	local me
	me=$(basename "$0" .sh)

	if [ "${!skip_env:-}" = 1 ]; then
		echo "$me: $skip_env=1, not checking for $name"
		return 0
	fi

	if [ "$strict" = strict ] && [ -n "${!envvar:-}" ] && [ ! -x "${!envvar}" ]; then
		echo "$me: $envvar=${!envvar} is not an executable file" >&2
		return 1
	fi

	local bin
	if bin=$(_ensure_binary_found "$name" "$envvar" "$default_path"); then
		echo "$me: $bin is there"
		return 0
	fi

	if ! command -v apt-get >/dev/null; then
		echo "$me: $name is missing and there is no apt-get to install it;" >&2
		echo "$me: install a $name and set $envvar to its path, or set $skip_env=1" >&2
		return 1
	fi

	local as_root=()
	if [ "$(id -u)" != 0 ]; then
		if ! command -v sudo >/dev/null; then
			echo "$me: $name is missing; installing it needs root, and there is no sudo" >&2
			echo "$me: run as root: apt-get install -y --no-install-recommends $package" >&2
			return 1
		fi
		as_root=(sudo)
	fi

	local start
	start=$(date +%s)
	echo "$me: $name is missing; running ${as_root[*]:+${as_root[*]} }apt-get update"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	echo "$me: running ${as_root[*]:+${as_root[*]} }apt-get install -y --no-install-recommends $package"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"

	if ! bin=$(_ensure_binary_found "$name" "$envvar" "$default_path"); then
		echo "$me: apt-get installed $package, yet no $name binary is found" >&2
		return 1
	fi
	echo "$me: installed $bin ($("$bin" --version 2>/dev/null || echo "version unknown")) in $(($(date +%s) - start)) s"
}

# _ensure_binary_found NAME ENVVAR DEFAULT_PATH prints the binary
# ensure_binary would use, or fails when there is none.
_ensure_binary_found() {
	local name=$1 envvar=$2 default_path=$3
	if [ -n "${!envvar:-}" ] && [ -x "${!envvar}" ]; then
		echo "${!envvar}"
	elif [ -x "$default_path" ]; then
		echo "$default_path"
	else
		command -v "$name" 2>/dev/null
	fi
}
