"""`python -m benchmarks <name> [args]`: run benchmarks/<name>.py's `main(argv)`."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        print(f"usage: python -m benchmarks <name> [args]; names: {', '.join(names)}", file=sys.stderr)
        return 2
    return importlib.import_module(f"benchmarks.{sys.argv[1]}").main(sys.argv[2:]) or 0


sys.exit(main())
