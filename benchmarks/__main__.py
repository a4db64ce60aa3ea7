"""`python -m benchmarks <name> [args]` runs benchmarks/<name>.py's `main(argv)`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if not m.name.startswith("_") and m.name not in ("null_twin", "stack_program", "drift_fleet_maker"))
    if not argv or argv[0] not in names:
        print(f"usage: python -m benchmarks <name> [args]; names: {', '.join(names)}", file=sys.stderr)
        return 2
    return importlib.import_module(f"benchmarks.{argv[0].replace('-', '_')}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
