#!/usr/bin/env bash
# Debian's Chromium and its driver, for the status page's browser tests and benchmark.
#
#   scripts/chromium.sh   prints the path of the chromium executable, installing the Debian
#                         packages chromium and chromium-driver with apt-get when missing (as root)
#
# $EMAIL_PARTNERS_CHROMIUM names another executable. The tests drive it with Playwright
# (`executable_path`), which never downloads a browser of its own.
# Exit status 3: Chromium is missing and cannot be installed here (no root, no apt-get).
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }

find_chromium() {
  local candidate
  for candidate in "${EMAIL_PARTNERS_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if find_chromium; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "Chromium is not installed (no /usr/bin/chromium) and this user cannot install it:" \
      "run 'apt-get install chromium chromium-driver' as root"
  exit 3
fi
say "installing chromium and chromium-driver with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || { say "apt-get update failed"; exit 3; }
apt-get install -y -qq chromium chromium-driver >&2 || { say "apt-get install chromium chromium-driver failed"; exit 3; }
find_chromium || { say "installed, but no chromium executable found"; exit 3; }
