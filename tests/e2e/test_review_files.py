"""`review --base` sees what git sees: a deleted stack file, a renamed one, a modified one."""

from __future__ import annotations

import json
import subprocess

import yaml

from .pulumi_cli import PulumiProject, copy_policies
from .test_review import customer, tool


def git(project: PulumiProject, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.example", *args], cwd=project.root,
                   check=True, capture_output=True)


def stack_file(project: PulumiProject, name: str):
    return project.root / "stacks" / f"Pulumi.{name}.yaml"


def test_review_of_deleted_renamed_and_modified_stack_files(tmp_path, pulumi_bin, cakemail_partner):
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack="acme.production")
    project.set_config("cakemail:apiUrl", cakemail_partner["api_url"])
    project.set_config("cakemail:username", cakemail_partner["username"])
    project.set_config("cakemail:password", cakemail_partner["password"], secret=True)
    project.set_customer(customer())
    project.up()
    template = yaml.safe_load(project.stack_file.read_text())
    for name, display in (("bakery.production", "Bakery"), ("florist.production", "Florist")):
        data = json.loads(json.dumps(template))
        data["config"]["email-partners:customer"]["account"]["name"] = display
        stack_file(project, name).write_text(yaml.safe_dump(data, sort_keys=False))
    copy_policies(project.root)
    (project.root / ".gitignore").write_text("state/\nhome/\n__pycache__/\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")

    # The pull request: florist's file deleted, bakery's renamed, acme's modified (a rename in place).
    git(project, "rm", "-q", "stacks/Pulumi.florist.production.yaml")
    git(project, "mv", "stacks/Pulumi.bakery.production.yaml", "stacks/Pulumi.bakery-co.production.yaml")
    data = yaml.safe_load(project.stack_file.read_text())
    data["config"]["email-partners:customer"]["account"]["name"] = "Acme Bakery & Co"
    project.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))

    result = tool(project, "review", "--base", "HEAD", "--format", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    stacks = {s["stack"]: s for s in report["stacks"]}
    assert [s["stack"] for s in report["stacks"]][:2] == ["bakery.production", "florist.production"]  # removed first
    florist, bakery = stacks["florist.production"], stacks["bakery.production"]
    assert florist["file_change"] == "deleted" and [d["kind"] for d in florist["dangers"]] == ["customer-removed"]
    reason = florist["dangers"][0]["reason"]
    assert reason.startswith("florist.production is no longer declared: its cakemail account stays live and "
                             "unmanaged; to retire it,"), reason
    assert "account.protect: false" in reason and "pulumi destroy" in reason
    assert bakery["file_change"] == "renamed" and bakery["renamed_to"] == "bakery-co.production"
    assert "a rename is a new stack" in bakery["dangers"][0]["reason"]
    assert "creates a new, empty account" in bakery["dangers"][0]["reason"]
    # The new name is previewed as the new stack it is; the modified stack as an update.
    renamed = stacks["bakery-co.production"]
    assert renamed["renamed_from"] == "bakery.production" and not renamed["failed"], renamed
    assert {c["resource"]: c["op"] for c in renamed["changes"]}["SubAccount"] == "create"
    # A create lists what the file declares: no defaults, no internals.
    created = {c["resource"]: {f["field"] for f in c["fields"]} for c in renamed["changes"]}
    assert created["SendingDomain"] == {"domain", "platform"}, created
    assert "creation_marker" not in created["SubAccount"] and "trial" not in created["SubAccount"], created
    acme = stacks["acme.production"]
    assert [(c["resource"], c["op"]) for c in acme["changes"]] == [("SubAccount", "update")]
    assert acme["file_change"] is None and not acme["dangers"]

    markdown = tool(project, "review", "--base", "HEAD").stdout
    assert "pulumi-analyzer-policy" not in markdown and "$PATH" not in markdown, markdown  # ran with the pack
    assert "policy" not in json.dumps(acme["problems"])
    dangers = markdown.split("## Dangerous", 1)[1].split("\n## ", 1)[0]
    first = [line for line in dangers.splitlines() if line.startswith("- ")][0]
    assert "florist.production is no longer declared" in first or "bakery.production is renamed" in first, dangers

    acknowledged = tool(project, "review", "--base", "HEAD", "--acknowledge", "customer-removed")
    assert acknowledged.returncode == 0, acknowledged.stdout + acknowledged.stderr

    # Only a modification: nothing dangerous, exit 0.
    git(project, "reset", "-q", "--hard")
    stack_file(project, "bakery-co.production").unlink(missing_ok=True)
    project.stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    modified = tool(project, "review", "--base", "HEAD", "--format", "json")
    assert modified.returncode == 0, modified.stdout
    assert [s["stack"] for s in json.loads(modified.stdout)["stacks"]] == ["acme.production"]
