#!/usr/bin/env bash
# The README's first command. On a fresh Debian machine as root: installs what is missing
# (system packages, npm dependencies, the build, the busybox image) and starts a one-node
# cluster on embedded storage. `--deps-only` stops after installing (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
deps_only=0
for a in "$@"; do case "$a" in --deps-only) deps_only=1 ;; esac; done
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

packages=(runc crun containernetworking-plugins iptables iproute2 busybox-static etcd-server etcd-client skopeo docker-registry)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing Debian packages: ${missing[*]} — run as root, or: sudo apt-get install ${missing[*]}" >&2; exit 1; fi
  step "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# etcd-server's package starts a system etcd on the default ports; navarch runs its own.
if systemctl is-active --quiet etcd 2>/dev/null; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies (better-sqlite3 builds from source, ~90 s)"
  npm ci --no-audit --no-fund
fi
step "building"
npm run --silent build

[ "$deps_only" = 1 ] && exit 0
exec node dist/src/cli/main.js up "$@"
