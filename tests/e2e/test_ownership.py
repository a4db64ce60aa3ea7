"""One owner per account, on every platform of the registry, through the real CLI against the emulator
(each platform's test partner and sample customer from tests/vendors/), in one project and one backend.

Two stacks claim one account. On each platform stack `owner-<platform>.live` made it (one `fleet up`);
`discover` then refuses to write a second stack for it, naming the owner, and writes it only when asked
(`--include-managed`); `fleet up` of those adopting stacks refuses each before running anything, naming
the owner and the take-over. The engine path's own checks refuse the same way: a plain `pulumi preview`
with the policy pack (Cakemail) and a plain `pulumi up` without it, at create (SendGrid). An adopting
`up` told it is the take-over (as a take-over cut after its `up` leaves it) makes two stacks record the
account: `owners` names each such account, and `retire` of the old stack refuses to delete what the new
one manages (where retiring deletes). `take-over` then moves each account: the old stack is gone from
the backend, nothing was deleted on the platform (its API says so), the new stack previews no changes,
the index shows one owner per account, and the history holds both sides of each move.
"""

from __future__ import annotations

import json

from providers.ownership import TAKE_OVER_VARIABLE
from providers.platforms import describe, names

from ..vendors import serial, vendor
from .environments_harness import sample_stack, settings_of, tool, write_environment, writes
from .pulumi_cli import PulumiProject, copy_policies


def test_two_stacks_claiming_one_account_on_every_platform(tmp_path, pulumi_bin, control):
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack="scratch")  # `scratch` declares no customer
    pack = copy_policies(project.root)
    tag = serial("owners")
    providers, creds, partners, apis = {}, {}, {}, {}
    for platform in names():
        partners[platform] = vendor(platform).partner(control, f"{tag}-{platform}")
        apis[platform] = vendor(platform).client(partners[platform])
        providers[platform], variables, _, _ = settings_of(platform, partners[platform])
        creds.update(variables)
        # protect: false, so that retiring it reaches the ownership check
        keep = {} if describe(platform).deletes_accounts else {"on_destroy": "keep"}
        sample_stack(project, f"owner-{platform}.live", platform, partners[platform], protect=False, **keep)
    write_environment(project, "live", providers)

    def run(*args: str, env: dict | None = None):
        return tool(project, *args, env={**creds, **(env or {})}, bin_dir=pulumi_bin)

    made = run("fleet", "up", "--yes", "--select", "owner-*", "--json", "-")
    assert made.returncode == 0, made.output
    accounts = {}
    for platform in names():
        [accounts[platform]] = vendor(platform).account_ids(apis[platform])

    # discover: each account is managed by its owner stack, so no second stack is written for it...
    others = {}
    for platform in names():
        owner, account_id = f"owner-{platform}.live", accounts[platform]
        found = run("discover", "--environment", "live", "--platform", platform, "--dry-run", "--output", "json")
        assert found.returncode == 0, (platform, found.output)
        [item] = [a for a in found.json()["accounts"] if a["account_id"] == account_id]
        assert item["result"].startswith(f"skipped: managed by stack {owner}"), (platform, item)
        assert f"take-over {item['stack']} --from {owner}" in item["result"], (platform, item)
        # ...unless asked, as what a take-over starts from.
        found = run("discover", "--environment", "live", "--platform", platform, "--include-managed", "--output", "json")
        [item] = [a for a in found.json()["accounts"] if a["account_id"] == account_id]
        assert item["result"].startswith(f"written: managed by stack {owner}"), (platform, item)
        others[platform] = item["stack"]

    # Every adopting stack is refused before anything is sent: by the tool, the pack, the providers.
    before = control.last_request_id()
    up = run("fleet", "up", "--yes", *(a for s in others.values() for a in ("--select", s)), "--json", "-")
    assert up.returncode == 1, up.output
    refused = {c["stack"]: c for c in json.loads(up.stdout)["customers"]}
    for platform, other in others.items():
        owner = f"owner-{platform}.live"
        assert refused[other]["result"] == "failed", refused[other]
        assert f"is managed by stack {owner}" in refused[other]["error"], refused[other]
        assert f"take-over {other} --from {owner}" in refused[other]["error"], refused[other]
    preview = project.run("preview", "--stack", others["cakemail"], "--policy-pack", str(pack), check=False)
    assert preview.returncode != 0 and "one-owner-per-account" in preview.output, preview.output[-3000:]
    assert "is managed by stack owner-cakemail.live" in preview.output, preview.output[-3000:]
    plain = project.run("up", "--yes", "--skip-preview", "--stack", others["sendgrid"], check=False)
    assert plain.returncode != 0 and "is managed by stack owner-sendgrid.live" in plain.output, plain.output[-3000:]
    assert writes(control.requests(since_id=before)) == []

    # Adopting `up`s told they are the take-over (what a take-over cut after its `up` leaves): two owners each.
    for platform, other in others.items():
        cut = project.run("up", "--yes", "--skip-preview", "--stack", other, "--policy-pack", str(pack),
                          check=False, env={TAKE_OVER_VARIABLE: f"owner-{platform}.live"})
        assert cut.returncode == 0, (platform, cut.output[-3000:])
    listed = run("owners", "--format", "json")
    assert listed.returncode == 1, listed.output
    shared = [{o["stack"] for o in e["owners"]} for e in listed.json()["shared"]]
    for platform, other in others.items():
        assert {f"owner-{platform}.live", other} in shared, (platform, shared)
        if describe(platform).deletes_accounts:  # a retire that keeps the account leaves the other its one owner
            retire = run("retire", f"owner-{platform}.live", "--confirm", f"owner-{platform}.live")
            assert retire.returncode == 2, (platform, retire.output)
            assert f"also managed by stack {other}" in retire.stderr, (platform, retire.stderr)
            assert f"take-over {other} --from owner-{platform}.live" in retire.stderr, (platform, retire.stderr)

    for platform, other in others.items():
        owner = f"owner-{platform}.live"
        moved = run("take-over", other, "--from", owner, "--confirm", owner)
        assert moved.returncode == 0, (platform, moved.output)
        assert not (project.root / "stacks" / f"Pulumi.{owner}.yaml").exists()
        assert accounts[platform] in vendor(platform).account_ids(apis[platform]), platform  # nothing deleted
    after = run("owners", "--format", "json")
    assert after.returncode == 0, after.output
    index = after.json()
    assert not any(s.startswith("owner-") for s in index["stacks"]), index["stacks"]
    assert all(len(e["owners"]) == 1 and e["owners"][0]["stack"] in others.values() for e in index["entries"]), index
    checked = run("fleet", "preview", *(a for s in others.values() for a in ("--select", s)), "--json", "-")
    assert checked.returncode == 0 and {c["result"] for c in json.loads(checked.stdout)["customers"]} == \
        {"no changes"}, checked.output
    history = run("history", "--last", "100", "--format", "json").json()["entries"]
    moves = {(e["stack"], e["result"]) for e in history if e["operation"] == "take-over"}
    for platform, other in others.items():
        assert {(other, "taken over"), (f"owner-{platform}.live", "handed over")} <= moves, (platform, moves)
