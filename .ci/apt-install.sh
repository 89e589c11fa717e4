#!/usr/bin/env bash
# Installs Debian packages for the CI scripts: `bash .ci/apt-install.sh CALLER PACKAGE…`, as root, or through sudo
# when available. apt's output goes to stderr, so a caller's stdout stays its own.
set -euo pipefail
caller="$1"
shift
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "$caller: installing $* needs root (or sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update >&2
"${as_root[@]}" apt-get install -y --no-install-recommends "$@" >&2
