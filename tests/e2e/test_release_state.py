"""Existing stacks keep working: the state each committed release fixture holds (every platform, every
resource kind, written by `pulumi up` of that release's code: tests/e2e/fixtures/make_release_state.py)
previews with no change at all under this code, and without a single API request. The pickled
provider classes in it are compared byte for byte by the engine (a change would show as
`~ __provider` on every resource).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pulumi_cli import PulumiProject

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("release_*.json"))
STACKS = [(path, platform) for path in FIXTURES for platform in json.loads(path.read_text())["stacks"]]
# The test's own partner on the emulator, for each placeholder the fixture's state holds.
CREDENTIALS = {"cakemail": ("cakemail_partner", {"username": "username"}, {"password": "password"}),
               "signupto": ("signupto_partner", {"partnerId": "partner_id"}, {"partnerKey": "partner_key"}),
               "ciirus": ("ciirus_user", {"username": "username"}, {"password": "password"})}


@pytest.mark.parametrize("path, platform", STACKS, ids=[f"{p.stem}-{platform}" for p, platform in STACKS])
def test_the_state_of_a_release_previews_with_no_change(path, platform, request, tmp_path, pulumi_bin, control):
    fixture = json.loads(path.read_text())["stacks"][platform]
    assert {"SubAccount", "AccountFeatures"} <= set(fixture["kinds"])
    partner_fixture, plain, secret = CREDENTIALS[platform]
    partner = request.getfixturevalue(partner_fixture)
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack=fixture["stack"])
    project.set_config(f"{platform}:apiUrl", f"{control.url}/{platform}")
    for key, value in fixture["settings"].items():
        project.set_config(f"{platform}:{key}", value)
    for key, field in plain.items():
        project.set_config(f"{platform}:{key}", str(partner[field]))
    for key, field in secret.items():
        project.set_config(f"{platform}:{key}", partner[field], secret=True)
    project.set_customer(fixture["customer"])
    state = json.dumps(fixture["state"]).replace("@@EMULATOR_URL@@", control.url)
    for key, field in plain.items():
        state = state.replace(f"@@{platform.upper()}_{'PARTNER_ID' if key == 'partnerId' else key.upper()}@@",
                              str(partner[field]))
    assert "@@" not in state
    (tmp_path / "state.json").write_text(state)
    project.run("stack", "import", "--file", str(tmp_path / "state.json"))

    before = control.last_request_id()
    preview = project.preview_json()
    assert {step["op"] for step in preview.get("steps", [])} == {"same"}, preview.get("steps")
    resources = [r for r in fixture["state"]["deployment"]["resources"] if not r["type"].startswith("pulumi:providers:")]
    assert preview.get("changeSummary") == {"same": len(resources)}, preview
    project.preview("--expect-no-changes")
    assert control.requests(since_id=before) == []


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_pickled_providers_of_a_release_load_and_are_the_ones_written_now(path):
    """A preview compares only the declared fields (the engine keeps the state's blob while they are
    equal), but refresh and destroy unpickle the blob in state: it must still name these classes, and
    a new `up` must write the very same bytes (else `~ __provider` on every resource of every stack)."""
    import base64

    import dill
    from pulumi.dynamic import dynamic

    from providers.resources.catalog import PROVIDERS

    blobs = {(r["type"].rsplit(":", 1)[-1], r["inputs"]["__provider"])
             for stack in json.loads(path.read_text())["stacks"].values()
             for r in stack["state"]["deployment"]["resources"] if "__provider" in r.get("inputs", {})}
    assert {kind for kind, _ in blobs} == set(PROVIDERS)
    for kind, blob in blobs:
        assert type(dill.loads(base64.b64decode(blob))) is PROVIDERS[kind], kind
        assert dynamic.serialize_provider(PROVIDERS[kind]()) == blob, f"{kind}: the pickled provider changed"
