#!/usr/bin/env bash
# CI: install Debian's Chromium for the browser test (test/browser/), which drives /usr/bin/chromium through
# playwright-core. Never downloads a browser build from elsewhere. Idempotent: when everything is already installed
# it changes nothing. Runs as root on Debian (or through sudo when available).
set -euo pipefail

# Fonts: readable text and emoji in the test's screenshots on minimal images.
packages=(chromium fonts-liberation fonts-dejavu-core fonts-noto-color-emoji)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  bash "$(dirname "$0")/apt-install.sh" .ci/chromium.sh "${missing[@]}"
fi

if ! /usr/bin/chromium --version 2>/dev/null; then
  echo ".ci/chromium.sh: /usr/bin/chromium is installed but does not run" >&2
  exit 1
fi
