#!/usr/bin/env bash
# Installs what the demo and the tests need, skipping whatever is already in place:
# the virtual environment with this package and its test extras, then the Pulumi engine.
# Prints the engine's bin directory on its last line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv"
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.installed-$(sha256sum "$repo/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing Python packages into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  # setuptools' "Editable installation ... folders with the same name as your package" notice is
  # information only (the editable finder maps exactly this project's packages): keep it off the set-up.
  PYTHONWARNINGS="ignore:Editable installation" "$venv/bin/python" -m pip install --quiet -e "$repo[test]" >&2
  rm -f "$venv"/.installed-*; touch "$stamp"
fi
bash "$repo/scripts/install-pulumi.sh"
