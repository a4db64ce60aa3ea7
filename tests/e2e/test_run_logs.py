"""What the engine's own logs hold, as README "Run logs" says, through the real CLI (`--logtostderr`): a SendGrid
customer whose parent API key is in its stack config and whose subuser password is an encrypted setting.

- at `-v=9`, both in clear: `Configure().inputs` (the engine hands a dynamic provider every stack config
  value, decrypted: the key, and the whole customer object with the password); the program's
  `RegisterResource` of the SubAccount; and the provider's answers that carry the resource's inputs,
  `Check(...).inputs` and the `Create`/`Update(...).outputs` (the Python dynamic provider accepts and
  returns no secrets: pulumi/dynamic/__main__.py, `acceptSecrets: False`);
- up to `-v=8`, with `--debug`: neither, in any line, for a refresh and an update;
- credentials given through the environment (SENDGRID_API_KEY) are in no log, even at `-v=9`.
"""

from __future__ import annotations

import re

from ..vendors import declare_sample, environment, vendor
from .pulumi_cli import platform_project


def rpc_lines(output: str, secret: str) -> set[str]:
    """The calls whose logged properties hold `secret`: `Configure.inputs`, `Check.inputs`, `Create.outputs`,
    `ResourceMonitor.RegisterResource` (from labels such as `Provider[0x..].Check(urn:...).inputs`)."""
    found = set()
    for line in output.splitlines():
        if secret in line and "property for RPC[" in line:
            label = line.split("property for RPC[", 1)[1].split("]: ", 1)[0]
            found.add(re.sub(r"\(.*\)", "", label.split("].", 1)[-1]))
    return found


def test_what_the_engine_logs_at_each_verbosity(tmp_path, pulumi_bin, control):
    sendgrid = vendor("sendgrid")
    partner = sendgrid.partner(control, "run-logs")
    project = platform_project(tmp_path / "project", pulumi_bin, "sendgrid", partner)
    declare_sample(project, sendgrid, partner)
    key, password = partner["api_key"], sendgrid.PASSWORD

    def declare(suspended: bool) -> None:  # an update in place
        declared = sendgrid.sample(partner, False)
        declared["account"]["suspended"] = suspended
        project.set_customer(declared)
        for path, value in sendgrid.SECRETS.items():
            project.run("config", "set", "--path", "--secret", f"email-partners:customer.{path}", value)

    created = project.run("up", "--yes", "--skip-preview", "-v=9", "--logtostderr").output
    assert {"Configure.inputs", "Check.inputs", "Create.outputs"} <= rpc_lines(created, password), \
        rpc_lines(created, password)
    assert "ResourceMonitor.RegisterResource" in rpc_lines(created, password)
    assert "Configure.inputs" in rpc_lines(created, key)

    declare(True)
    quiet = project.run("up", "--yes", "--skip-preview", "--refresh", "-v=8", "--debug", "--logtostderr").output
    assert "Updating" in quiet or "updated" in quiet.lower(), quiet[-2000:]
    assert key not in quiet and password not in quiet

    declare(False)
    updated = project.run("up", "--yes", "--skip-preview", "-v=9", "--logtostderr").output
    assert "Update.outputs" in rpc_lines(updated, password), rpc_lines(updated, password)

    # The parent's key through the environment instead of the stack config: in no log line.
    project.run("config", "rm", "sendgrid:apiKey")
    project.env.update(environment("sendgrid", {"api_key": key}))
    by_environment = project.run("preview", "-v=9", "--logtostderr").output
    assert "Configure().inputs" in by_environment and key not in by_environment
