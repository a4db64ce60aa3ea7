from __future__ import annotations

from pathlib import Path

import pytest

from .pulumi_cli import PulumiProject, engine_bin_dir


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    return engine_bin_dir()


@pytest.fixture
def cakemail_project(tmp_path, pulumi_bin, cakemail_partner) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin)
    project.set_config("cakemail:apiUrl", cakemail_partner["api_url"])
    project.set_config("cakemail:username", cakemail_partner["username"])
    project.set_config("cakemail:password", cakemail_partner["password"], secret=True)
    return project


@pytest.fixture
def signupto_project(tmp_path, pulumi_bin, signupto_partner) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin)
    project.set_config("signupto:apiUrl", signupto_partner["api_url"])
    project.set_config("signupto:partnerId", str(signupto_partner["partner_id"]))
    project.set_config("signupto:partnerKey", signupto_partner["partner_key"], secret=True)
    return project


@pytest.fixture
def ciirus_project(tmp_path, pulumi_bin, ciirus_user) -> PulumiProject:
    project = PulumiProject(tmp_path / "project", pulumi_bin)
    project.set_config("ciirus:apiUrl", ciirus_user["api_url"])
    project.set_config("ciirus:apiVersion", ciirus_user["api_version"])
    project.set_config("ciirus:username", ciirus_user["username"])
    project.set_config("ciirus:password", ciirus_user["password"], secret=True)
    return project
