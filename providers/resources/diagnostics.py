"""Which modules the provider process has loaded: how the tests prove that a stack's preview loads
only its own platform's code (tests/e2e/test_provider_hot_path.py)."""

from __future__ import annotations

import os
import sys
import threading

# When set, the provider process writes the names of its loaded modules to this file after each
# check and diff.
MODULES_REPORT_ENV = "EMAIL_PARTNERS_MODULES_REPORT"


def report_loaded_modules() -> None:
    path = os.environ.get(MODULES_REPORT_ENV)
    if path:
        partial = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(partial, "w", encoding="utf-8") as out:
            out.write("\n".join(sorted(sys.modules)))
        os.replace(partial, path)  # whole reports only, whichever thread writes last
