#!/usr/bin/env bash
# CI: install Debian's tmux for the CLI's interactive test (packages/cli/test/chat.test.ts), which runs `xmtp chat`
# in a real terminal: a detached tmux session it types into (send-keys) and reads (capture-pane).
# Idempotent: when `tmux` is already on PATH it installs nothing. Runs as root on Debian (or through sudo when
# available). Prints the version to stderr, so a CI log shows which tmux the test ran with.
set -euo pipefail

if ! command -v tmux >/dev/null 2>&1; then
  bash "$(dirname "$0")/apt-install.sh" .ci/tmux.sh tmux
fi

if ! version="$(tmux -V 2>&1)"; then
  echo ".ci/tmux.sh: tmux is installed but does not run: $version" >&2
  exit 1
fi
echo ".ci/tmux.sh: $version ($(command -v tmux))" >&2
