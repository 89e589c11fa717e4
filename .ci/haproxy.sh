#!/usr/bin/env bash
# CI: install Debian's HAProxy for the cluster tests (test/support/cluster.ts), which run several nodes over one
# PostgreSQL database behind the load balancer configuration operators use, deploy/haproxy/xmtp-node.cfg.
# Idempotent: when `haproxy` is already on PATH it installs nothing. Runs as root on Debian (or through sudo when
# available). Prints the version to stderr, so a CI log shows which HAProxy the tests ran against.
set -euo pipefail

if ! command -v haproxy >/dev/null 2>&1; then
  # The package's own service (the "haproxy" systemd unit) is not used: the tests start haproxy themselves.
  bash "$(dirname "$0")/apt-install.sh" .ci/haproxy.sh haproxy
fi

if ! version="$(haproxy -v 2>&1 | head -n 1)"; then
  echo ".ci/haproxy.sh: haproxy is installed but does not run" >&2
  exit 1
fi
echo ".ci/haproxy.sh: $version ($(command -v haproxy))" >&2
