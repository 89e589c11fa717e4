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

# The whole output first, then its first line: `haproxy -v | head -n 1` would fail under pipefail whenever head
# closes the pipe before haproxy has written its last line (SIGPIPE, exit 141).
if ! output="$(haproxy -v 2>&1)"; then
  echo ".ci/haproxy.sh: haproxy is installed but does not run: $output" >&2
  exit 1
fi
version="${output%%$'\n'*}"
echo ".ci/haproxy.sh: $version ($(command -v haproxy))" >&2
