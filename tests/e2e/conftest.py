from __future__ import annotations

from pathlib import Path

import pytest

from .browser import chromium_browser, chromium_devtools  # noqa: F401 - the session's one browser (tests/e2e/browser.py)
from .pulumi_cli import PulumiProject, engine_bin_dir, platform_project


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    return engine_bin_dir()


@pytest.fixture
def cakemail_project(tmp_path, pulumi_bin, cakemail_partner) -> PulumiProject:
    return platform_project(tmp_path / "project", pulumi_bin, "cakemail", cakemail_partner)


@pytest.fixture
def signupto_project(tmp_path, pulumi_bin, signupto_partner) -> PulumiProject:
    return platform_project(tmp_path / "project", pulumi_bin, "signupto", signupto_partner)


@pytest.fixture
def ciirus_project(tmp_path, pulumi_bin, ciirus_user) -> PulumiProject:
    return platform_project(tmp_path / "project", pulumi_bin, "ciirus", ciirus_user)


@pytest.fixture(scope="session")
def postgres_url():
    """One throw-away PostgreSQL server per test session (scripts/postgres.sh installs it when
    missing); skipped only where PostgreSQL cannot be installed."""
    import shutil
    import socket
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = Path(f"/tmp/email-partners-pg-test-{port}")  # reachable by the `postgres` user (pytest's tmp is not)
    script = ["bash", str(repo / "scripts" / "postgres.sh")]
    started = subprocess.run([*script, "start", str(data_dir), str(port)], capture_output=True, text=True, timeout=900)
    if started.returncode == 3:
        pytest.skip(f"PostgreSQL cannot be installed on this machine: {started.stderr.strip()}")
    assert started.returncode == 0, f"scripts/postgres.sh start failed:\n{started.stderr}"
    yield started.stdout.strip().splitlines()[-1]
    subprocess.run([*script, "stop", str(data_dir), str(port)], capture_output=True, timeout=120)
    shutil.rmtree(data_dir, ignore_errors=True)
