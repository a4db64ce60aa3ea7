from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_real_state(tmp_path_factory, monkeypatch):
    """Fast tests never reach the machine's state backend or run history (operations/history.py
    records every fleet operation the CLI tests run): both point at a fresh, empty Pulumi home."""
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path_factory.mktemp("pulumi-home")))
