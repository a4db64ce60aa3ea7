"""Stack secrets decrypted in this process (operations/engine/passphrase.py) are byte for byte what the
`pulumi` CLI decrypts; stacks the tool writes share their environment's salt (one key derivation for
them all) and stay the CLI's to read; a passphrase that does not open them is refused, leaving no file."""

from __future__ import annotations

import json

import yaml

from operations.drift.identities import group_by_identity, provider_config
from operations.engine.passphrase import Keyring, decrypted_settings
from operations.project.stacks import load_stack

from .pulumi_cli import REPO, PulumiProject
from .test_review import tool

# Values the engine must round-trip exactly: unicode, quotes, a long one, an empty one.
VALUES = {"ciirus:password": "pässwörd \"quoted\" ✓", "ciirus:username": "user-1",
          "email-partners:note": "x" * 5000, "email-partners:empty": ""}
STAGING = {"STAGING_CAKEMAIL_PASSWORD": "staging-password", "STAGING_CIIRUS_PASSWORD": "staging-ciirus-pw",
           "STAGING_SIGNUPTO_PARTNER_KEY": "staging0partner0key000000000000000000040",
           "STAGING_SENDGRID_API_KEY": "SG.staging-parent-key00.staging-secret-never-a-real-sendgrid-key-00"}


def shown_by_the_cli(project: PulumiProject, stack: str) -> dict:
    config = project.run("config", "--stack", stack, "--show-secrets", "--json").json()
    return {k: v.get("objectValue", v.get("value")) for k, v in config.items()}


def test_in_process_decryption_equals_the_cli_and_tool_written_stacks_share_a_salt(tmp_path, pulumi_bin):
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack="values.test")
    for key, value in VALUES.items():
        project.run("config", "set", "--secret", "--stack", "values.test", key, value)
    data = yaml.safe_load(project.stack_file.read_text())
    keyring = Keyring()
    mine = decrypted_settings(data, list(VALUES), project.env, keyring=keyring)
    assert mine == shown_by_the_cli(project, "values.test") == VALUES
    assert keyring.derivations == 1

    # Stacks written by `email-partners new` in one environment share its salt; the CLI reads each.
    (project.root / "stacks" / "environments").mkdir()
    (project.root / "stacks" / "environments" / "staging.yaml").write_text(
        (REPO / "stacks" / "environments" / "staging.yaml").read_text())
    env = {**project.env, **STAGING}
    for customer, platform in (("cafe", "ciirus"), ("deli", "cakemail"), ("shop", "ciirus")):
        result = tool(project, "new", customer, "--platform", platform, "--environment", "staging", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    files = {name: yaml.safe_load((project.root / "stacks" / f"Pulumi.{name}.staging.yaml").read_text())
             for name in ("cafe", "deli", "shop")}
    salts = {data["encryptionsalt"] for data in files.values()}
    assert len(salts) == 1, salts
    keyring = Keyring()
    for name, data in files.items():
        keys = [k for k in data["config"] if ":" in k and k.split(":")[0] in ("ciirus", "cakemail")]
        assert decrypted_settings(data, keys, env, keyring=keyring) == {
            k: v for k, v in shown_by_the_cli(project, f"{name}.staging").items() if k in keys}
    assert keyring.derivations == 1
    # The sweep's identities decrypt the same way (one identity per Ciirus user here: the environment's).
    stacks = [load_stack(project.root, f"{name}.staging") for name in ("cafe", "shop")]
    groups = group_by_identity(stacks, env)
    config = provider_config(groups[0], project.root, env)
    assert config["ciirus:password"] == STAGING["STAGING_CIIRUS_PASSWORD"]

    # Another passphrase cannot open the environment's salt: refused, and no stack file is left behind.
    result = tool(project, "new", "bistro", "--platform", "ciirus", "--environment", "staging",
                  env={**env, "PULUMI_CONFIG_PASSPHRASE": "another passphrase"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "does not open the secrets of the environment staging's other stacks" in result.stderr
    assert not (project.root / "stacks" / "Pulumi.bistro.staging.yaml").exists()
    assert "staging-ciirus-pw" not in json.dumps(files) + result.stdout + result.stderr
