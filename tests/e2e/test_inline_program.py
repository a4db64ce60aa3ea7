"""A fleet runs the project's program inline (in the tool's process, through the Automation API),
and `pulumi up` by hand runs it through the engine's language host: for a customer on each platform
both give the same state and the same outputs, whichever path comes first."""

from __future__ import annotations

import json

from ..conftest import Control
from .test_fleet import Fleet, by_customer, cakemail_customer, ciirus_customer, ciirus_user, new_partners, \
    signupto_customer

# What the engine stamps on every write; all else in a resource's state must be the same.
TIMESTAMPS = ("created", "modified")
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def sealed(value):
    """Secrets as `[secret]`: the engine encrypts them anew (a fresh nonce) on every write."""
    if isinstance(value, dict):
        return "[secret]" if SECRET_SIG in value else {k: sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sealed(v) for v in value]
    return value


def resources(project: Fleet, stack: str) -> dict[str, dict]:
    """The state's resources by URN (their order in the file is the order the steps finished in);
    of each registration's stack trace, the program's own frames (the frames below them are the
    interpreter's way in: the language host's script, or a thread of the tool)."""
    state = json.loads(project.pulumi("stack", "export", "--stack", stack).stdout)
    found = {}
    for resource in state["deployment"]["resources"]:
        resource = {k: v for k, v in resource.items() if k not in TIMESTAMPS}
        if "stackTrace" in resource:
            resource["stackTrace"] = [f for f in resource["stackTrace"]
                                      if f.get("sourcePosition", "").startswith("project:///stacks/")]
        found[resource["urn"]] = sealed(resource)
    return found


def differences(a, b, path="") -> list[str]:
    """Where two states differ, as paths (a readable failure instead of two long JSON documents)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[-90:]!r} != {str(b)[-90:]!r}"]


def outputs(project: Fleet, stack: str) -> dict:
    return json.loads(project.pulumi("stack", "output", "--stack", stack, "--json").stdout)


def exec_kind(project: Fleet, stack: str) -> str:
    """How the engine ran the program in the stack's last update (`auto.inline` for an inline program)."""
    history = json.loads(project.pulumi("stack", "history", "--stack", stack, "--json").stdout)
    return history[0]["environment"]["exec.kind"]


def test_inline_and_cli_runs_give_the_same_state_and_outputs_per_platform(tmp_path, pulumi_bin, emulator):
    control = Control(emulator.url)
    vendor_env, _, _ = new_partners(control, "inline")
    (tmp_path / "state").mkdir()
    project = Fleet(tmp_path / "project", pulumi_bin, (tmp_path / "state").as_uri(), vendor_env)
    project.add("twin-cakemail.qa", cakemail_customer("Inline Twin", domain="news.inline-twin.example"))
    project.add("twin-signupto.qa", signupto_customer("Inline Twin"))
    user = ciirus_user(control, "inline-twin")
    project.add("twin-ciirus.qa", ciirus_customer("mail.inline-twin.example"),
                plain={"ciirus:username": user["username"]}, secrets={"ciirus:password": user["password"]})
    stacks = ["twin-cakemail.qa", "twin-signupto.qa", "twin-ciirus.qa"]

    # Created by the fleet, inline.
    created = project.fleet("up", "--yes", "--parallel", "2", expect=0)
    assert {c["result"] for c in created["customers"]} == {"changes"}
    inline_state = {s: resources(project, s) for s in stacks}
    inline_outputs = {s: outputs(project, s) for s in stacks}
    assert {exec_kind(project, s) for s in stacks} == {"auto.inline"}

    # `pulumi up` by hand finds nothing to do and records exactly the same state and outputs.
    for stack in stacks:
        project.pulumi("up", "--yes", "--stack", stack, "--expect-no-changes")
        assert exec_kind(project, stack) == "cli"
        found = differences(resources(project, stack), inline_state[stack])
        assert found == [], "\n".join([stack, *found])
        assert outputs(project, stack) == inline_outputs[stack], stack
    assert set(inline_outputs["twin-cakemail.qa"]) >= {"account_id", "features", "dns_records", "domains_verified"}

    # And back: the fleet, inline again, after the hand-run up.
    again = project.fleet("up", "--yes", expect=0)
    assert {c["customer"]: c["result"] for c in again["customers"]} == {s.split(".")[0]: "no changes" for s in stacks}
    for stack in stacks:
        assert exec_kind(project, stack) == "auto.inline"
        assert differences(resources(project, stack), inline_state[stack]) == [], stack

    # The engine's language host path is still there, and agrees (EMAIL_PARTNERS_INLINE=0).
    project.env["EMAIL_PARTNERS_INLINE"] = "0"
    checked = project.fleet("preview", expect=0)
    assert {c["result"] for c in by_customer(checked).values()} == {"no changes"}
