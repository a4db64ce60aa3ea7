"""Fixtures: an in-process emulator on a fresh SQLite file, and a logged-in Cakemail partner."""

from __future__ import annotations

import pytest

from emulator import EmulatorServer

from .helpers import Cakemail, add_partner, get_token


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "emulator.sqlite")


@pytest.fixture
def emulator(db_path):
    server = EmulatorServer(db_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def partner(emulator):
    """(partner_account_id, token response) for a fresh partner."""
    account_id = add_partner(emulator)
    return account_id, get_token(emulator)


@pytest.fixture
def cm(emulator, partner):
    client = Cakemail(emulator, partner[1]["access_token"])
    yield client
    client.session.close()
