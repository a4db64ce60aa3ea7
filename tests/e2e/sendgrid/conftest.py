"""SendGrid's partner for the end-to-end tests: a fresh parent account per test, the tests' own view
of it through the API, and a project whose stack config names it (the shared fixtures of tests/conftest.py)."""

from __future__ import annotations

import copy
import itertools
import os

import pytest

from providers.http import RetryPolicy

from ..pulumi_cli import PulumiProject

_ids = itertools.count(1)
PASSWORD = "Subuser-Passw0rd-e2e-never-shown"


def unique(prefix: str) -> str:
    """Usernames are unique across SendGrid, and across this session's emulator."""
    return f"{prefix}-{os.getpid()}-{next(_ids)}"


@pytest.fixture
def sendgrid_parent(control) -> dict:
    parent = control.post("/sendgrid/parents", {"username": unique("e2e-parent")})
    return {**parent, "api_url": control.url + "/sendgrid"}


@pytest.fixture
def sendgrid_api(sendgrid_parent):
    from providers.sendgrid import SendGridClient

    return SendGridClient(sendgrid_parent["api_url"], sendgrid_parent["api_key"],
                          retry=RetryPolicy(max_attempts=2, base_delay=0.05))


@pytest.fixture
def sendgrid_project(tmp_path, pulumi_bin, sendgrid_parent) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin)
    project.set_config("sendgrid:apiUrl", sendgrid_parent["api_url"])
    project.set_config("sendgrid:parentUsername", sendgrid_parent["username"])
    project.set_config("sendgrid:apiKey", sendgrid_parent["api_key"], secret=True)
    return project


def customer(username: str, parent: dict, **account) -> dict:
    """A SendGrid customer declaration (without its password: see `declare`)."""
    return {"platform": "sendgrid", "account": {"username": username, "email": f"owner@{username}.example",
                                                "ips": [parent["ips"][0]], **account}}


def declare(project, declaration: dict, password: str | None = PASSWORD) -> dict:
    """The declaration in the stack config, its password stored encrypted as the README says."""
    project.set_customer(copy.deepcopy(declaration))
    if password is not None:
        project.run("config", "set", "--path", "--secret", "email-partners:customer.account.password", password)
    return declaration


def sendgrid_requests(control, since: int) -> list[dict]:
    return control.requests(since_id=since, vendor="sendgrid")
