"""One headless Debian Chromium per test session, driven by Playwright (never a browser of its own).

scripts/chromium.sh finds it, or installs the Debian packages where it can; the tests that need it
are skipped, saying why, only where it cannot be installed.

The browser process is the session's (started once, over the DevTools protocol on loopback); each
test module that uses it connects Playwright to it and disconnects at its end. Playwright's sync API
keeps an event loop running in this thread while it is connected, which would break any later test
of the same worker that runs an asyncio loop of its own: a connection per module keeps it contained.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_executable() -> str:
    """The path of Debian's chromium; pytest.skip (with the script's reason) where it cannot be had."""
    found = subprocess.run(["bash", str(REPO / "scripts" / "chromium.sh")], capture_output=True, text=True, timeout=900)
    if found.returncode == 3:
        pytest.skip(f"Chromium cannot be installed on this machine: {found.stderr.strip()}")
    assert found.returncode == 0, f"scripts/chromium.sh failed:\n{found.stderr}"
    return found.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def chromium_devtools():
    """The session's headless Chromium: the DevTools URL to connect to."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    args = [chromium_executable(), "--headless", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-extensions", "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # as root, Chromium refuses to start with its sandbox on
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, url, seen = time.monotonic() + 60, None, []
        while url is None:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, f"Chromium exited {proc.poll()}:\n{''.join(seen)[-3000:]}"
            assert time.monotonic() < deadline, f"Chromium did not start in 60 s:\n{''.join(seen)[-3000:]}"
            seen.append(line)
            match = DEVTOOLS.search(line)
            url = match.group(1) if match else None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium_browser(chromium_devtools):
    """A Playwright Browser connected to the session's Chromium, for one test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(chromium_devtools)
        try:
            yield browser
        finally:
            browser.close()  # disconnects; the session's browser stays up
