#!/usr/bin/env bash
# The whole test suite: fast tests of the HTTP core, clients and emulator, then end-to-end
# tests through the real pulumi CLI. Extra arguments go to pytest (e.g. -k cakemail).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=$(bash "$repo/scripts/bootstrap.sh" | tail -n 1)
cd "$repo"
export PULUMI_BIN_DIR="$bin_dir"
exec "$repo/.venv/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
