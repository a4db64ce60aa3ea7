#!/usr/bin/env bash
# The demo: installs what is missing, starts the embedded partner-API emulator, and runs
# `pulumi up` of the example customer stack against it with a local file state backend.
# Everything lives in .demo/ (emulator database, Pulumi state); run it again and nothing changes.
# Usage: scripts/demo.sh [stack]   (default: demo-cakemail; see stacks/Pulumi.*.yaml)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stack=${1:-demo-cakemail}
port=${DEMO_EMULATOR_PORT:-8710}
bin_dir=$(bash "$repo/scripts/bootstrap.sh" | tail -n 1)
demo="$repo/.demo"
mkdir -p "$demo/state"

export PATH="$bin_dir:$repo/.venv/bin:$PATH"
export PULUMI_BACKEND_URL="file://$demo/state"
export PULUMI_HOME="$demo/pulumi-home"
# Demo value: the demo stacks' secrets are encrypted with it. Use your own for real stacks.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if curl -fsS "http://127.0.0.1:$port/_control/health" >/dev/null 2>&1; then
  echo "demo: using the emulator already listening on port $port"
else
  python -m emulator --port "$port" --db "$demo/emulator.db" --seed-demo --publish-dns > "$demo/emulator.log" 2>&1 &
  emulator_pid=$!
  trap 'kill $emulator_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/_control/health" >/dev/null 2>&1 && break
    kill -0 $emulator_pid 2>/dev/null || { cat "$demo/emulator.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "demo: emulator started on http://127.0.0.1:$port (data in $demo/emulator.db)"
fi

cd "$repo"
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
pulumi up --yes --non-interactive
pulumi stack output
