"""What every platform does, through the real pulumi CLI against the emulator: one scenario,
parametrised over the registry (providers.platforms.names()), each platform's partner and sample
customer from tests/vendors/<name>.py. What only one vendor does is in tests/e2e/<vendor>/."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from providers.platforms import names

from ..conftest import Control
from ..vendors import declare_sample, vendor
from .pulumi_cli import platform_project

KINDS = {"account": ":SubAccount", "features": ":AccountFeatures", "sending_domains": ":SendingDomain"}


def _bad_inputs():
    for platform in names():
        try:
            cases = vendor(platform).BAD_INPUT
        except LookupError:
            continue  # test_every_registered_platform_has_its_test_vendor says what is missing
        for case in cases:
            yield pytest.param(platform, case, id=f"{platform}-{case.id}")


def test_every_registered_platform_has_its_test_vendor():
    for platform in names():
        assert vendor(platform).CUSTOMER["platform"] == platform


@pytest.fixture(scope="module")
def refusing_project(tmp_path_factory, pulumi_bin, emulator):
    """One project per platform for the declarations refused at preview (nothing is ever created in it)."""
    made = {}

    def project(platform: str):
        if platform not in made:
            partner = vendor(platform).partner(Control(emulator.url), "refused")
            made[platform] = platform_project(tmp_path_factory.mktemp(f"refused-{platform}") / "project", pulumi_bin,
                                              platform, partner)
        return made[platform]
    return project


@pytest.mark.parametrize("platform, case", list(_bad_inputs()))
def test_bad_input_fails_at_preview_without_api_calls(refusing_project, control, platform, case):
    project = refusing_project(platform)
    # The stack file written whole, as an engineer writes it: `pulumi config set-all` over the previous
    # case's object keeps a replaced value's quoting ("yes" then false is read back as "false").
    stack = yaml.safe_load(project.stack_file.read_text())
    stack["config"]["email-partners:customer"] = case.customer
    project.stack_file.write_text(yaml.safe_dump(stack, sort_keys=False))
    before = control.last_request_id()
    result = project.preview(check=False)
    assert result.returncode != 0
    for text in case.expected:
        assert text in result.output, (text, result.output[-3000:])
    for text in (*case.absent, "<nil>"):  # a nested field is named in the reason, never printed as `value {<nil>}`
        assert text not in result.output, (text, result.output[-3000:])
    assert control.requests(since_id=before) == []


@pytest.mark.parametrize("platform", names())
def test_an_account_deleted_behind_the_tools_back_is_dropped_by_refresh_and_recreated(
        platform, tmp_path, pulumi_bin, control):
    test_vendor = vendor(platform)
    partner = test_vendor.partner(control, platform)
    api = test_vendor.client(partner)
    project = platform_project(tmp_path / "project", pulumi_bin, platform, partner)
    declare_sample(project, test_vendor, partner)
    project.up()
    old_id = project.outputs()["account_id"]

    test_vendor.remove_account(api, control, old_id)
    refresh = project.refresh()
    assert "deleted" in refresh.output.lower()
    for section, kind in KINDS.items():
        if section in test_vendor.CUSTOMER:
            assert project.resources(kind) == [], kind

    project.up()
    new_id = project.outputs()["account_id"]
    if test_vendor.RECREATED_KEEPS_ID:
        assert new_id == old_id  # one sub-account per login, or the id is the declared username
    else:
        assert new_id != old_id
    test_vendor.assert_declared(api, new_id)
    assert test_vendor.account_ids(api) == [new_id]


@pytest.mark.parametrize("platform", names())
def test_no_credential_in_state_logs_or_preview(platform, tmp_path, pulumi_bin, control, emulator):
    test_vendor = vendor(platform)
    partner = test_vendor.partner(control, platform)
    project = platform_project(tmp_path / "project", pulumi_bin, platform, partner)
    declare_sample(project, test_vendor, partner)
    up = project.up()
    declare_sample(project, test_vendor, partner, changed=True)
    preview = project.preview("--diff")
    refresh = project.refresh("--diff")
    export = project.export()
    state_files = "".join(p.read_text(errors="replace") for p in (project.root / "state").rglob("*") if p.is_file())
    logs = "".join(p.read_text(errors="replace") for p in (project.root / "home").rglob("*.log*") if p.is_file())
    texts = (up.output, preview.output, refresh.output, json.dumps(export), state_files, logs)
    assert test_vendor.leaked(partner, emulator, *texts) == []

    # The provider objects pickled into state carry no credential either (decrypted, then unpickled bytes).
    decrypted = project.run("stack", "export", "--show-secrets").json()
    blobs = [r["outputs"]["__provider"] for r in decrypted["deployment"]["resources"] if "__provider" in r.get("outputs", {})]
    assert blobs
    for blob in blobs:
        raw = base64.b64decode(blob if isinstance(blob, str) else json.loads(blob["plaintext"]))
        assert test_vendor.leaked(partner, emulator, raw.decode("latin-1")) == []
