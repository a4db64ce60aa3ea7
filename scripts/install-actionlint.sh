#!/usr/bin/env bash
# Builds actionlint (the GitHub Actions workflow checker the suite runs on docs/ci/, see
# tests/unit/test_loop_docs.py) from its Go module, as scripts/install-pulumi.sh builds the engine:
# its PyPI wrapper downloads the binary from a release site at install time, which is unreachable
# here. Does nothing when that version is already built. Prints the binary's path on its last line.
set -euo pipefail
version="${ACTIONLINT_VERSION:-1.7.12}"
root="${ACTIONLINT_INSTALL_ROOT:-$HOME/.cache/email-partners/actionlint-v$version}"
binary="$root/actionlint"
if [ -x "$binary" ] && "$binary" -version 2>/dev/null | head -1 | grep -qx "v$version"; then
  echo "$binary"; exit 0
fi
command -v go >/dev/null || { echo "install-actionlint: Go is required to build actionlint (as for the engine)" >&2; exit 1; }
echo "install-actionlint: building actionlint v$version from its Go module (about a minute the first time)" >&2
mkdir -p "$root"
GOBIN="$root" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@v$version" >&2
"$binary" -version >/dev/null
echo "$binary"
