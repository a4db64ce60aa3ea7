#!/usr/bin/env bash
# The demo: installs what is missing, starts the embedded partner-API emulator, and runs
# `pulumi up` of the example customer stack against it with a local file state backend.
# Everything lives in .demo/ (emulator database, Pulumi state); run it again and nothing changes.
# Usage: [DEMO_EMULATOR_PORT=8710] scripts/demo.sh [stack]   (default: demo-cakemail; see stacks/Pulumi.*.yaml)
# The emulator it starts is stopped when it ends. The demo stacks (and the example environments)
# name port 8710; on another port the run uses a copy of the stack file in .demo/ that names it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stack=${1:-demo-cakemail}
port=${DEMO_EMULATOR_PORT:-8710}
bin_dir=$(bash "$repo/scripts/bootstrap.sh" | tail -n 1)
demo="$repo/.demo"
mkdir -p "$demo/state"
if [ -f "$demo/state/email-partners-moved.json" ]; then  # `email-partners backend copy` moved its stacks
  echo "demo: the demo's stacks were moved to another backend by \`email-partners backend copy\`" \
       "($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["to"])' "$demo/state/email-partners-moved.json")):" \
       "run \`pulumi\` or \`email-partners\` there, or start over with \`rm -rf .demo\`; nothing was run." >&2
  exit 1
fi

export PATH="$bin_dir:$repo/.venv/bin:$PATH"
export PULUMI_BACKEND_URL="file://$demo/state"
export PULUMI_HOME="$demo/pulumi-home"
# Demo value: the demo stacks' secrets are encrypted with it. Use your own for real stacks.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-demo-passphrase}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# What listens on the port: nothing, this checkout's emulator (its health answer names .demo's
# database: reused), or anything else (refused: the demo never talks to a process it did not expect).
listener=$(python - "$port" "$demo/emulator.db" <<'PY'
import json, os, socket, sys, urllib.request
port, db = int(sys.argv[1]), os.path.realpath(sys.argv[2])
with socket.socket() as probe:
    if probe.connect_ex(("127.0.0.1", port)) != 0:
        print("free"); sys.exit()
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_control/health", timeout=3) as answer:
        health = json.load(answer)
except Exception:
    health = {}
if health.get("service") != "email-partners-emulator":
    print("another program (not the partner emulator)")
elif health.get("db") != db:
    print(f"another partner emulator (pid {health.get('pid')}, database {health.get('db')})")
else:
    print("ours")
PY
)
case "$listener" in
  free)
    python -m emulator --port "$port" --db "$demo/emulator.db" --seed-demo --publish-dns > "$demo/emulator.log" 2>&1 &
    emulator_pid=$!
    trap 'kill $emulator_pid 2>/dev/null || true' EXIT
    for _ in $(seq 1 50); do
      curl -fsS "http://127.0.0.1:$port/_control/health" >/dev/null 2>&1 && break
      kill -0 $emulator_pid 2>/dev/null || { cat "$demo/emulator.log" >&2; exit 1; }
      sleep 0.2
    done
    echo "demo: emulator started on http://127.0.0.1:$port (data in $demo/emulator.db)" ;;
  ours)
    echo "demo: using this checkout's emulator already listening on port $port ($demo/emulator.db)" ;;
  *)
    echo "demo: port $port is taken by $listener; nothing was run." >&2
    echo "demo: stop it, or pick a free port: DEMO_EMULATOR_PORT=8711 scripts/demo.sh" >&2
    exit 1 ;;
esac

cd "$repo"
pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
config=()
if [ "$port" != 8710 ]; then
  sed "s#http://127.0.0.1:8710/#http://127.0.0.1:$port/#" "stacks/Pulumi.$stack.yaml" > "$demo/Pulumi.$stack.yaml"
  config=(--config-file "$demo/Pulumi.$stack.yaml")
fi
pulumi up --yes --non-interactive "${config[@]}"
pulumi stack output
