#!/usr/bin/env bash
# CI: install Debian's HAProxy for the cluster tests (test/support/cluster.ts), which run several nodes over one
# PostgreSQL database behind the load balancer configuration operators use, deploy/haproxy/xmtp-node.cfg.
# Idempotent: when `haproxy` is already on PATH it installs nothing. Runs as root on Debian (or through sudo when
# available). Prints the version to stderr, so a CI log shows which HAProxy the tests ran against.
set -euo pipefail

if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo ".ci/haproxy.sh: installing haproxy needs root (or sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update >&2
  # The package's own service (the "haproxy" systemd unit) is not used: the tests start haproxy themselves.
  "${as_root[@]}" apt-get install -y --no-install-recommends haproxy >&2
fi

if ! version="$(haproxy -v 2>&1 | head -n 1)"; then
  echo ".ci/haproxy.sh: haproxy is installed but does not run" >&2
  exit 1
fi
echo ".ci/haproxy.sh: $version ($(command -v haproxy))" >&2
