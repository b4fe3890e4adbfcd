# shellcheck shell=bash disable=SC2034 # variables are used by the sourcing scripts
# Shared bash functions for test/run_all.sh and examples/demo.sh.
# Source it; it only defines variables and functions.

PG_MAJOR=15
PG_LIBDIR=/usr/lib/postgresql/$PG_MAJOR
PG_SHAREDIR=/usr/share/postgresql/$PG_MAJOR

# Everything the build, the tests and the demo need on a minimal Debian 12.
# postgresql-server-dev-15 pulls clang-14 and llvm-14, which PGXS needs for bitcode.
REQUIRED_PACKAGES=(
    postgresql-15 postgresql-server-dev-15
    make g++ libboost-dev libfmt-dev googletest libgtest-dev
    perl libipc-run-perl sudo procps util-linux diffutils
)

log() { printf '\n==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Prints the packages from the arguments that are not installed.
missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' \
            || echo "$pkg"
    done
}

# Installs REQUIRED_PACKAGES that are missing: directly as root, through
# non-interactive sudo otherwise; if neither works, prints the command and fails.
ensure_packages() {
    local missing
    missing=$(missing_packages "${REQUIRED_PACKAGES[@]}" | tr '\n' ' ')
    [ -z "${missing// /}" ] && return 0

    local -a as_root=()
    if ! is_root; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            echo "Missing Debian packages: $missing" >&2
            echo "Install them as root with:" >&2
            echo "  apt-get install -y --no-install-recommends $missing" >&2
            return 1
        fi
    fi
    log "Installing missing packages: $missing"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends $missing
}

# Runs a command as the unprivileged postgres user (initdb refuses root).
# It runs from / so a working directory postgres cannot enter does no harm:
# pass absolute paths.
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        (cd / && "$@")
    elif is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -n -u postgres -- "$@")
    fi
}

# Runs a command as root (make install into the system, chown).
as_root() {
    if is_root; then "$@"; else sudo -- "$@"; fi
}

# Creates the directory if needed and gives it to postgres.
make_postgres_dir() {
    as_root mkdir -p "$1"
    as_root chown postgres:postgres "$1"
    as_root chmod "${2:-0700}" "$1"
}

# Lets postgres traverse every ancestor of DIR (a build tree under /root, say).
# Directories changed are appended to the array TRAVERSE_GRANTED so the caller
# can take the permission back (restore_traverse).
TRAVERSE_GRANTED=()
grant_postgres_traverse() {
    local dir path=""
    local -a parts
    IFS=/ read -ra parts <<<"${1#/}"
    for dir in "${parts[@]}"; do
        [ -n "$dir" ] || continue
        path="$path/$dir"
        if ! as_postgres test -x "$path"; then
            as_root chmod o+x "$path"
            TRAVERSE_GRANTED+=("$path")
        fi
    done
}

restore_traverse() {
    local i
    for ((i = ${#TRAVERSE_GRANTED[@]} - 1; i >= 0; i--)); do
        as_root chmod o-x "${TRAVERSE_GRANTED[$i]}" 2>/dev/null || true
    done
    TRAVERSE_GRANTED=()
}

# True when a postmaster is running on DATADIR (pg_ctl status exits 0).
cluster_running() { # BINDIR DATADIR
    as_postgres "$1/pg_ctl" status -D "$2" >/dev/null 2>&1
}

# Starts the cluster and waits until it accepts connections; prints the
# server log when it does not come up.
start_cluster() { # BINDIR DATADIR LOGFILE
    local bindir=$1 datadir=$2 logfile=$3
    if ! as_postgres "$bindir/pg_ctl" start -D "$datadir" -l "$logfile" -w -t 60 >/dev/null; then
        echo "The server did not start. Server log ($logfile):" >&2
        tail -n 50 "$logfile" >&2 || true
        return 1
    fi
}

# Stops the cluster if it is running; quiet, safe to call twice.
stop_cluster() { # BINDIR DATADIR
    [ -f "$2/postmaster.pid" ] || return 0
    as_postgres "$1/pg_ctl" stop -D "$2" -m fast -w -t 60 >/dev/null 2>&1 \
        || as_postgres "$1/pg_ctl" stop -D "$2" -m immediate -w >/dev/null 2>&1 \
        || true
}

# Waits until the server at HOST/PORT answers a query (pg_ctl -w already
# waited for startup; this also covers a restart done elsewhere).
wait_ready() { # BINDIR HOST PORT
    local i
    for ((i = 0; i < 60; i++)); do
        "$1/pg_isready" -q -h "$2" -p "$3" && return 0
        sleep 1
    done
    return 1
}
