#!/usr/bin/env bash
# Builds the Pulumi engine (CLI + Python language host) from Go modules, because no package
# registry ships the `pulumi` binary and its official download site is unreachable here.
# Installs into ~/.pulumi/versions/<version>/bin (where PulumiCommand.install() looks) and
# does nothing when that version is already there. Prints the bin directory on its last line.
set -euo pipefail

version="${PULUMI_VERSION:-$(sed -n 's/^engine_version *= *"\(.*\)"/\1/p' "$(dirname "$0")/../pyproject.toml" 2>/dev/null || true)}"
[ -n "$version" ] || { echo "install-pulumi: cannot read the pinned version from pyproject.toml" >&2; exit 1; }
bin_dir="${PULUMI_INSTALL_ROOT:-$HOME/.pulumi/versions/$version}/bin"
say() { echo "install-pulumi: $*" >&2; }
scripts_dir=$(cd "$(dirname "$0")" && pwd)

have_matching() { [ -x "$1/pulumi" ] && [ -x "$1/pulumi-language-python" ] && [ -x "$1/pulumi-language-python-exec" ] \
  && [ -x "$1/pulumi-resource-pulumi-python" ] && [ "$("$1/pulumi" version 2>/dev/null)" = "v$version" ]; }

# The launcher of the project's policy pack (policies/, runtime `email-partners`; README, "Policy as
# code"), which the engine finds on PATH: copied beside the engine on every run, also when the
# engine was there before it, and only when it changed (an atomic rename: a running preview may use it).
install_policy_launcher() {
  local src="$scripts_dir/pulumi-analyzer-policy-email-partners" dest="$1/pulumi-analyzer-policy-email-partners"
  cmp -s "$src" "$dest" && return 0
  if cp "$src" "$dest.$$" 2>/dev/null && chmod 0755 "$dest.$$" && mv -f "$dest.$$" "$dest"; then
    say "installed the policy-pack launcher in $1"
  else
    rm -f "$dest.$$"
    say "warning: cannot write $dest; put $(dirname "$src") on PATH to run policy packs"
  fi
}

if have_matching "$bin_dir"; then
  say "pulumi v$version already installed in $bin_dir"; install_policy_launcher "$bin_dir"; echo "$bin_dir"; exit 0
fi
if on_path=$(command -v pulumi 2>/dev/null) && have_matching "$(dirname "$on_path")"; then
  say "using the official pulumi v$version found on PATH"; install_policy_launcher "$(dirname "$on_path")"
  dirname "$on_path"; exit 0
fi
command -v go >/dev/null || { echo "install-pulumi: Go is required to build the Pulumi engine (https://go.dev/dl); install it and run again" >&2; exit 1; }

# The language host moved to its own untagged module after sdk v3.79.0, and the module proxy
# reachable here does not serve that module at any commit; v3.79.0 is the newest language host
# published inside a tagged module. It speaks the same plugin protocol (the engine falls back
# for RPCs it lacks); the executor script comes from the pinned sdk so that it matches the SDK.
host_version="${PULUMI_LANGUAGE_HOST_VERSION:-3.79.0}"
work=$(mktemp -d); trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit("install-pulumi: "+d.get("Error","download failed")))'; }

say "building pulumi v$version from Go modules (first time: many minutes, a few GB of module cache)"
cd "$work"
say "downloading github.com/pulumi/pulumi/{pkg,sdk}/v3@v$version"
cp -r "$(module_dir "github.com/pulumi/pulumi/pkg/v3@v$version")" pkg
cp -r "$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$version")" sdk
cp -r "$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$host_version")" host-sdk
chmod -R u+w pkg sdk host-sdk
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$work/out"
say "compiling the pulumi CLI"
(cd pkg && go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  -o "$work/out/pulumi" ./cmd/pulumi)
say "compiling the Python language host (sdk v$host_version)"
(cd host-sdk && go build -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$host_version" \
  -o "$work/out/pulumi-language-python" ./python/cmd/pulumi-language-python)
install -m 0755 sdk/python/cmd/pulumi-language-python-exec "$work/out/"
install -m 0755 sdk/python/dist/pulumi-resource-pulumi-python "$work/out/"
mkdir -p "$bin_dir"
install -m 0755 "$work/out/"* "$bin_dir/"
have_matching "$bin_dir" || { echo "install-pulumi: the build finished but $bin_dir/pulumi does not report v$version" >&2; exit 1; }
install_policy_launcher "$bin_dir"
say "installed pulumi v$version in $bin_dir"
echo "$bin_dir"
