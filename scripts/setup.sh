#!/usr/bin/env bash
# Sets up this machine for debyard: Debian packages, the `debyard` system user, npm dependencies, the
# build and the `debyard` command. Idempotent and quiet when nothing is missing.
#
#   setup.sh start    runtime packages, user, npm ci, build, /usr/local/bin/debyard  (npm start)
#   setup.sh test     the same plus the test-only packages                         (npm test)
#   setup.sh system   runtime packages and user only, no npm                       (docker/Dockerfile)
#
# As root it fixes what is missing; as another user it does the npm part and fails if a root-only
# part is missing. Stamps (both inside node_modules, so `npm ci` resets them):
#   node_modules/.debyard-npm   sha256 of package-lock.json and the Node version of the last `npm ci`
#   node_modules/.debyard-build its mtime is the start of the last successful `npm run build`
set -euo pipefail

mode=${1:-start}
case $mode in
start | test | system) ;;
*)
	echo "usage: $0 [start|test|system]" >&2
	exit 2
	;;
esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PACKAGE_LIST=$REPO/scripts/debian-packages
SERVICE_USER=debyard
DATA_DIR=/var/lib/debyard
COMMAND_PATH=/usr/local/bin/debyard
NODE_MIN=20.19
NPM_STAMP=$REPO/node_modules/.debyard-npm
BUILD_STAMP=$REPO/node_modules/.debyard-build
APT_LOG=/var/log/debyard-setup-apt.log

export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

is_root() { [[ $EUID -eq 0 ]]; }
case $mode in
start | test) as_root_hint="run \`npm $mode\` once as root" ;;
system) as_root_hint="run \`bash scripts/setup.sh system\` as root" ;;
esac

# Two set-ups of one clone at once would race on node_modules; the lock is on the clone directory.
exec 9<"$REPO"
flock 9

# --- Debian packages ---------------------------------------------------------------------------

# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# Fills WANTED with the packages for this mode, as apt-get arguments (`name` or
# `name/bookworm-backports`). Runs in the main shell so that a bad list stops the set-up.
WANTED=()
read_package_list() {
	local name rest tag test_only backports
	while read -r name rest; do
		[[ -z $name || $name == \#* ]] && continue
		test_only=0 backports=0
		for tag in ${rest%%#*}; do
			case $tag in
			test) test_only=1 ;;
			backports) backports=1 ;;
			*) die "$PACKAGE_LIST: unknown tag '$tag' for $name" ;;
			esac
		done
		[[ $test_only == 1 && $mode != test ]] && continue
		if [[ $backports == 1 && $codename == bookworm ]]; then
			WANTED+=("$name/bookworm-backports")
		else
			WANTED+=("$name")
		fi
	done <"$PACKAGE_LIST"
}

# Prints the wanted packages that are not installed, or installed from the wrong release.
missing_packages() {
	local -A installed=()
	local spec name pkg status version
	local -a names=()
	for spec in "${WANTED[@]}"; do names+=("${spec%%/*}"); done
	while IFS=$'\t' read -r pkg status version; do
		[[ $status == "install ok installed" ]] && installed[$pkg]=$version
	done < <(dpkg-query -W -f='${Package}\t${Status}\t${Version}\n' "${names[@]}" 2>/dev/null || true)
	for spec in "${WANTED[@]}"; do
		name=${spec%%/*}
		if [[ -z ${installed[$name]:-} ]]; then
			echo "$spec"
		elif [[ $spec == */bookworm-backports && ${installed[$name]} != *bpo12* ]]; then
			echo "$spec"
		fi
	done
}

ensure_backports_source() {
	if grep -rqs --include='*.list' --include='*.sources' 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		return
	fi
	local mirror=${DEBYARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	cat >/etc/apt/sources.list.d/debyard-backports.sources <<-EOF
		# Added by debyard's scripts/setup.sh: sbuild and friends as measured in reference/debian-toolchain.md.
		Types: deb
		URIs: $mirror
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	say "added the bookworm-backports apt source (/etc/apt/sources.list.d/debyard-backports.sources)"
}

ensure_packages() {
	command -v dpkg-query >/dev/null || die "this is not a Debian system (no dpkg-query)"
	read_package_list
	local -a missing
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} == 0)) && return
	if ! is_root; then
		die "Debian packages missing: ${missing[*]}: $as_root_hint"
	fi
	[[ " ${missing[*]}" == *"/bookworm-backports"* ]] && ensure_backports_source
	say "installing Debian packages: ${missing[*]} (log: $APT_LOG)"
	local -a apt_opts=(-q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	{
		# A third-party source that fails to update must not stop us: install reports what is really missing.
		apt-get "${apt_opts[@]}" update || echo "setup: apt-get update reported errors, trying the install anyway"
		apt-get "${apt_opts[@]}" install -y "${missing[@]}"
	} </dev/null >>"$APT_LOG" 2>&1 || {
		tail -n 25 "$APT_LOG" >&2
		die "apt-get install failed (full log: $APT_LOG)"
	}
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} == 0)) || die "still missing after apt-get install: ${missing[*]} (see $APT_LOG)"
}

# --- the system user ---------------------------------------------------------------------------

# Prints the first id after every subordinate range in use (at least 100000, where useradd starts).
next_free_subid() {
	awk -F: 'NF >= 3 && $2 ~ /^[0-9]+$/ { end = $2 + $3; if (end > max) max = end }
		END { print (max > 100000 ? max : 100000) }' /etc/subuid /etc/subgid
}

ensure_user() {
	local problems=()
	id -u "$SERVICE_USER" >/dev/null 2>&1 || problems+=("system user $SERVICE_USER")
	if ((${#problems[@]} == 0)); then
		id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx sbuild || problems+=("$SERVICE_USER in group sbuild")
		grep -qs "^$SERVICE_USER:" /etc/subuid || problems+=("subuid range")
		grep -qs "^$SERVICE_USER:" /etc/subgid || problems+=("subgid range")
		[[ -d $DATA_DIR && $(stat -c %U "$DATA_DIR") == "$SERVICE_USER" ]] || problems+=("$DATA_DIR owned by $SERVICE_USER")
	fi
	((${#problems[@]} == 0)) && return
	is_root || die "missing: ${problems[*]}: $as_root_hint"

	if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
		useradd --system --user-group --groups sbuild --home-dir "$DATA_DIR" --no-create-home \
			--shell /usr/sbin/nologin --comment "debyard build daemon" "$SERVICE_USER"
		say "created system user $SERVICE_USER (home $DATA_DIR, group sbuild)"
	elif ! id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx sbuild; then
		usermod --append --groups sbuild "$SERVICE_USER"
		say "added $SERVICE_USER to group sbuild"
	fi

	local file start
	for file in /etc/subuid /etc/subgid; do
		[[ -e $file ]] || install -m 0644 /dev/null "$file"
	done
	# One start for both files (computed before either changes), so uids and gids map alike.
	start=$(next_free_subid)
	for file in subuid subgid; do
		grep -qs "^$SERVICE_USER:" "/etc/$file" && continue
		usermod "--add-${file}s" "$start-$((start + 65535))" "$SERVICE_USER"
		say "gave $SERVICE_USER the $file range $start-$((start + 65535)) (rootless sbuild/mmdebstrap)"
	done

	if [[ ! -d $DATA_DIR ]]; then
		install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$DATA_DIR"
		say "created data directory $DATA_DIR"
	elif [[ $(stat -c %U "$DATA_DIR") != "$SERVICE_USER" ]]; then
		chown "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
		say "gave $DATA_DIR to $SERVICE_USER"
	fi
}

# --- the root helper for schroot chroots ----------------------------------------------------------

HELPER_SOURCE=$REPO/scripts/debyard-chroot-helper
HELPER_PATH=/usr/local/libexec/debyard/chroot-helper
SUDOERS_PATH=/etc/sudoers.d/debyard
PROFILE_DIR=/etc/schroot/debyard

# The daemon user creates, updates and removes schroot chroots through one root-owned helper that it may
# run with sudo; sessions use a schroot profile without the /build bind mount, so parallel builds each
# build inside their own overlay (reference/debian-toolchain.md §2.6).
ensure_chroot_helper() {
	local sudoers_line="$SERVICE_USER ALL=(root) NOPASSWD: $HELPER_PATH *"
	local want_sudoers
	want_sudoers=$(printf '# Written by debyard'"'"'s scripts/setup.sh: the daemon manages its schroot chroots.\n%s' "$sudoers_line")
	local -a problems=()
	[[ -f $HELPER_PATH && ! -L $HELPER_PATH && $(stat -c '%u %a' "$HELPER_PATH") == "0 755" ]] &&
		cmp -s "$HELPER_SOURCE" "$HELPER_PATH" || problems+=("$HELPER_PATH")
	[[ -f $SUDOERS_PATH && $(stat -c '%u %a' "$SUDOERS_PATH") == "0 440" && $(<"$SUDOERS_PATH") == "$want_sudoers" ]] ||
		problems+=("$SUDOERS_PATH")
	[[ -f $PROFILE_DIR/fstab ]] && ! grep -q '/build' "$PROFILE_DIR/fstab" || problems+=("$PROFILE_DIR")
	((${#problems[@]} == 0)) && return
	if ! is_root; then
		echo "setup: note: missing or outdated: ${problems[*]} (schroot chroots need them): $as_root_hint" >&2
		return
	fi

	install -d -o root -g root -m 0755 "${HELPER_PATH%/*}"
	if ! cmp -s "$HELPER_SOURCE" "$HELPER_PATH" 2>/dev/null || [[ -L $HELPER_PATH ]]; then
		install -o root -g root -m 0755 "$HELPER_SOURCE" "$HELPER_PATH.new"
		mv -f "$HELPER_PATH.new" "$HELPER_PATH"
		say "installed the chroot helper $HELPER_PATH"
	fi
	chown root:root "$HELPER_PATH"
	chmod 0755 "$HELPER_PATH"

	if [[ ! -f $SUDOERS_PATH || $(<"$SUDOERS_PATH") != "$want_sudoers" || $(stat -c '%u %a' "$SUDOERS_PATH") != "0 440" ]]; then
		local tmp
		tmp=$(mktemp /etc/sudoers.d/.debyard.XXXXXX)
		printf '%s\n' "$want_sudoers" >"$tmp"
		chmod 0440 "$tmp"
		visudo -cqf "$tmp" >/dev/null || {
			rm -f "$tmp"
			die "the sudo rule for the chroot helper does not validate (visudo -cf)"
		}
		mv -f "$tmp" "$SUDOERS_PATH"
		say "allowed $SERVICE_USER to run the chroot helper through sudo ($SUDOERS_PATH)"
	fi

	if [[ ! -f $PROFILE_DIR/fstab ]] || grep -q '/build' "$PROFILE_DIR/fstab"; then
		[[ -d /etc/schroot/sbuild ]] || die "/etc/schroot/sbuild is missing (is schroot installed?)"
		rm -rf "$PROFILE_DIR.new"
		cp -a /etc/schroot/sbuild "$PROFILE_DIR.new"
		sed -i '\|/build|d' "$PROFILE_DIR.new/fstab"
		rm -rf "$PROFILE_DIR"
		mv "$PROFILE_DIR.new" "$PROFILE_DIR"
		say "created the schroot profile $PROFILE_DIR (sbuild's, without the /build bind mount)"
	fi
}

# --- Node.js and npm ---------------------------------------------------------------------------

check_node() {
	command -v node >/dev/null || die "node not found: debyard needs Node.js >= $NODE_MIN"
	node_version=$(node --version)
	local major minor
	IFS=. read -r major minor _ <<<"${node_version#v}"
	if ((major < ${NODE_MIN%.*} || (major == ${NODE_MIN%.*} && minor < ${NODE_MIN#*.}))); then
		die "Node.js $node_version is too old: debyard needs >= $NODE_MIN"
	fi
}

ensure_npm_dependencies() {
	cd "$REPO"
	local want
	want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$node_version"
	[[ -f $NPM_STAMP && $(<"$NPM_STAMP") == "$want" ]] && return
	if [[ ! -f $NPM_STAMP && node_modules/.package-lock.json -nt package-lock.json ]]; then
		# Installed by npm after the lock last changed, just not through us: take it as it is.
		echo "$want" >"$NPM_STAMP"
		return
	fi
	[[ -w $REPO && (! -e node_modules || -w node_modules) ]] ||
		die "npm ci needed, but $(id -un) cannot write $REPO: run it as the clone's owner or as root"
	say "installing npm dependencies (npm ci)"
	npm ci --no-audit --no-fund </dev/null
	echo "$want" >"$NPM_STAMP"
}

# Prints the first build input newer than the build stamp, if any.
newer_build_input() {
	local -a inputs=()
	local path
	for path in package.json package-lock.json tsconfig.base.json tsconfig.json \
		server/src server/package.json server/tsconfig.json server/tsconfig.build.json \
		client/src client/public client/index.html client/package.json \
		client/vite.config.ts client/vite.config.js client/tsconfig.json client/tsconfig.app.json client/tsconfig.node.json \
		tests migrations; do
		[[ -e $path ]] && inputs+=("$path")
	done
	find "${inputs[@]}" \( -name node_modules -o -name dist -o -path tests/.artifacts \) -prune \
		-o -type f -newer "$BUILD_STAMP" -print -quit
}

ensure_build() {
	cd "$REPO"
	local reason=""
	if [[ ! -f $BUILD_STAMP ]]; then
		reason="no previous build"
	elif [[ ! -f server/dist/main.js ]]; then
		reason="server/dist/main.js missing"
	elif [[ ! -f client/dist/index.html ]]; then
		reason="client/dist/index.html missing"
	else
		local newer
		newer=$(newer_build_input)
		[[ -n $newer ]] && reason="$newer changed"
	fi
	[[ -z $reason ]] && return
	[[ -w node_modules ]] || die "build needed ($reason), but $(id -un) cannot write $REPO: run it as the clone's owner or as root"
	say "building ($reason)"
	# The stamp takes the time the build started, so an edit made during the build triggers the next one.
	touch "$BUILD_STAMP.new"
	npm run build </dev/null || {
		rm -f "$BUILD_STAMP.new"
		die "npm run build failed"
	}
	mv "$BUILD_STAMP.new" "$BUILD_STAMP"
}

# --- the clone, readable by the service user ---------------------------------------------------

# The daemon drops to $SERVICE_USER and then loads node_modules, server/dist and client/dist.
ensure_clone_readable() {
	local -a probe=(-r "$REPO/package.json" -a -r "$REPO/node_modules/.package-lock.json")
	[[ -f $REPO/server/dist/main.js ]] && probe+=(-a -r "$REPO/server/dist/main.js")
	[[ -f $REPO/client/dist/index.html ]] && probe+=(-a -r "$REPO/client/dist/index.html")
	runuser -u "$SERVICE_USER" -- test "${probe[@]}" && return

	local dir="" part
	local -a granted=()
	local -a parts
	IFS=/ read -r -a parts <<<"${REPO#/}"
	for part in "${parts[@]}"; do
		dir+=/$part
		if ! runuser -u "$SERVICE_USER" -- test -x "$dir"; then
			setfacl -m "u:$SERVICE_USER:x" "$dir"
			granted+=("$dir")
		fi
	done
	local what="traverse on ${granted[*]:-no directory}"
	if ! runuser -u "$SERVICE_USER" -- test "${probe[@]}"; then
		# Default ACLs as well, so later builds and installs stay readable.
		setfacl -R -m "u:$SERVICE_USER:rX" "$REPO"
		find "$REPO" -type d -exec setfacl -d -m "u:$SERVICE_USER:rX" {} +
		what+=", read on the whole clone"
	fi
	runuser -u "$SERVICE_USER" -- test "${probe[@]}" ||
		die "$SERVICE_USER still cannot read $REPO: move the clone somewhere readable (e.g. /srv)"
	say "made $REPO readable for $SERVICE_USER (ACL: $what)"
}

# --- the debyard command -----------------------------------------------------------------------

ensure_command() {
	local want
	want=$(printf '#!/bin/sh\n# Written by %s/scripts/setup.sh\nexec node %q "$@"\n' "$REPO" "$REPO/server/dist/main.js")
	[[ -f $COMMAND_PATH && ! -L $COMMAND_PATH && $(<"$COMMAND_PATH") == "$want" && -x $COMMAND_PATH ]] && return
	if ! is_root; then
		echo "setup: note: $COMMAND_PATH is missing or points at another clone: $as_root_hint" >&2
		return
	fi
	local before=""
	[[ -e $COMMAND_PATH || -L $COMMAND_PATH ]] &&
		before=$(grep -o '/[^ ]*/server/dist/main.js' "$COMMAND_PATH" 2>/dev/null | head -n1 || true)
	rm -f "$COMMAND_PATH"
	printf '%s\n' "$want" >"$COMMAND_PATH"
	chmod 0755 "$COMMAND_PATH"
	if [[ -n $before && $before != "$REPO/server/dist/main.js" ]]; then
		say "repointed $COMMAND_PATH from $before to this clone"
	else
		say "installed $COMMAND_PATH"
	fi
}

# --- main --------------------------------------------------------------------------------------

ensure_packages
ensure_user
ensure_chroot_helper
[[ $mode == system ]] && exit 0

check_node
ensure_npm_dependencies
ensure_build
if is_root; then
	ensure_clone_readable
fi
ensure_command
