"""One headless Debian Chromium per test session, driven by Playwright (never a browser of its own).

scripts/chromium.sh finds it, or installs the Debian packages where it can; the tests that need it
are skipped, saying why, only where it cannot be installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def chromium_executable() -> str:
    """The path of Debian's chromium; pytest.skip (with the script's reason) where it cannot be had."""
    found = subprocess.run(["bash", str(REPO / "scripts" / "chromium.sh")], capture_output=True, text=True, timeout=900)
    if found.returncode == 3:
        pytest.skip(f"Chromium cannot be installed on this machine: {found.stderr.strip()}")
    assert found.returncode == 0, f"scripts/chromium.sh failed:\n{found.stderr}"
    return found.stdout.strip().splitlines()[-1]


def launch(playwright, executable: str):
    # As root, Chromium refuses to start with its sandbox on.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=executable, headless=True, args=args)


@pytest.fixture(scope="session")
def chromium_browser():
    """A Playwright Browser on Debian's Chromium, shared by every page test of this session."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = launch(playwright, executable)
        yield browser
        browser.close()
