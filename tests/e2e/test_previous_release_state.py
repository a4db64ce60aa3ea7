"""Existing stacks keep working: state written by the release before DomainVerification (its
SendingDomain waited inside its own create) previews with no replacement and no update of anything;
the only planned step is the DomainVerification that now does the waiting.

The state is tests/e2e/fixtures/previous_release_state.json (see make_previous_release_state.py),
re-pointed at this test's emulator and credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pulumi_cli import PulumiProject, steps_by_op

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "previous_release_state.json").read_text())


@pytest.mark.parametrize("platform", ["cakemail", "ciirus"])
def test_state_of_the_previous_release_previews_without_replacing_anything(
        platform, tmp_path, pulumi_bin, control, cakemail_partner, ciirus_user):
    fixture = FIXTURE["stacks"][platform]
    credentials = cakemail_partner if platform == "cakemail" else ciirus_user
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack=fixture["stack"])
    project.set_config(f"{platform}:apiUrl", credentials["api_url"])
    project.set_config(f"{platform}:username", credentials["username"])
    project.set_config(f"{platform}:password", credentials["password"], secret=True)
    if platform == "ciirus":
        project.set_config("ciirus:apiVersion", credentials["api_version"])
    project.set_customer(fixture["customer"])
    state = (json.dumps(fixture["state"]).replace("@@EMULATOR_URL@@", control.url)
             .replace(f"@@{platform.upper()}_USERNAME@@", credentials["username"]))
    (tmp_path / "state.json").write_text(state)
    project.run("stack", "import", "--file", str(tmp_path / "state.json"))

    before = control.last_request_id()
    ops = steps_by_op(project.preview_json())
    name = f"{fixture['stack']}-{'sending-domain' if platform == 'ciirus' else 'news.acme.example'}-verification"
    assert ops.get("create") == [f"DomainVerification::{name}"], ops
    assert set(ops) == {"same", "create"}, ops  # no update, replace or delete of the customer's resources
    assert control.requests(since_id=before) == []
