"""SendGrid's own rate limit, end to end: the tool and the real engine against the emulator, whose
limit for this test's parent account is set low enough (2 requests per endpoint per ~2 s window) to
be spent several times by a handful of customers. A `fleet up` (the providers' processes, two at
once), a `fleet drift` sweep (reader threads under a request budget) and two `fleet drift` shards
started at once on the one parent account all complete: every customer applied or read, none
failed, and the emulator's request log shows windows spent again and again and not one request
arriving while a window was spent (no 429 of the limit's). Each report says how long it waited for
vendors' limits (the `fleet up` also meets one injected 429 with Retry-After, so that its report has a
wait to show on any machine).

The fleet is on the file backend; one real `pulumi stack init` and `config set --secret` make the
first stack file, whose salt and encrypted password every other customer's file copies (one
password for all, as a reseller's script might set them)."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
import yaml

from providers.rate_limits import state_directory

from ..conftest import Control
from ..vendors import fleet_partners, vendor
from .test_fleet import Fleet, add_sendgrid_customer, by_customer

LIMIT, PERIOD = 2, 2.0  # per endpoint, for this test's parent: what the emulator answers with
CUSTOMERS = 6


@pytest.fixture(scope="module")
def limited(tmp_path_factory, pulumi_bin, emulator):
    """Six SendGrid customer stacks of one parent, not deployed, the parent's limit set low."""
    control = Control(emulator.url)
    partners = fleet_partners(control, "limits")
    root = tmp_path_factory.mktemp("limits")
    (root / "state").mkdir()
    project = Fleet(root / "project", pulumi_bin, (root / "state").as_uri(), partners.env)
    project.control, project.partner = control, partners.of["sendgrid"]
    first = add_sendgrid_customer(project, "sg-0.limits", partners.env, "l0")  # the salt and the ciphertext
    template = yaml.safe_load((project.root / "stacks" / "Pulumi.sg-0.limits.yaml").read_text())
    for n in range(1, CUSTOMERS):
        copy = json.loads(json.dumps(template))
        copy["config"]["email-partners:customer"]["account"]["username"] = first.removesuffix("-l0") + f"-l{n}"
        (project.root / "stacks" / f"Pulumi.sg-{n}.limits.yaml").write_text(yaml.safe_dump(copy, sort_keys=False))
    control.rate_limit("sendgrid", project.partner["parent_username"], LIMIT, PERIOD)
    return project


RETRY_AFTER = 1.5  # one create refused so (an injected fault): a wait every run reports, however loaded the machine


@pytest.fixture(scope="module")
def deployed(limited):
    """`fleet up` of the six, two at once; what it reported and what the emulator served meanwhile."""
    before = limited.control.last_request_id()
    limited.control.fault("^/sendgrid/v3/subusers$", method="POST", status=429, retry_after=RETRY_AFTER, count=1)
    try:
        report = limited.fleet("up", "--yes", "--parallel", "2", expect=0)
    finally:
        limited.control.clear_faults()
    return report, limited.control.requests(since_id=before, vendor="sendgrid")


def kept_to_the_limit(served: list[dict], spent_at_least: int = 3) -> None:
    """Windows spent several times (Remaining 0 announced), and not one request while one was (the
    emulator's own 429s; an injected fault is not the limit)."""
    refused = [(e["method"], e["path"], e["time"]) for e in served if e["status"] == 429 and not e["fault"]]
    assert not refused, f"requests that arrived while their window was spent: {refused}"
    spent = [e for e in served if e["rate_limit"] and e["rate_limit"]["remaining"] == 0]
    assert len(spent) >= spent_at_least, f"the limit was reached only {len(spent)} time(s): the test proves little"
    assert all(e["rate_limit"] and e["rate_limit"]["limit"] == LIMIT for e in served if not e["fault"])


def test_fleet_up_applies_every_customer_within_the_limit(limited, deployed):
    report, served = deployed
    results = by_customer(report)
    assert len(results) == CUSTOMERS and {r["result"] for r in results.values()} == {"changes"}, report["text"]
    assert all(r["error"] is None and r["changes"].get("create", 0) >= 2 for r in results.values())
    kept_to_the_limit(served)
    assert [e["status"] for e in served if e["fault"]] == [429]
    # The providers' processes noted their holds: the Retry-After at least (the limit's own, when the
    # machine is fast enough to meet a spent window, on top).
    assert report["rate_limit_wait_seconds"] >= RETRY_AFTER and "for vendors' rate limits" in report["text"]
    api = vendor("sendgrid").client(limited.partner)
    assert len(api.list_subusers()) == CUSTOMERS
    # The pacing state shared by the providers' processes holds no credential.
    key = limited.partner["api_key"]
    assert not any(key in path.read_text() for path in state_directory().glob("sendgrid-*.json"))


def test_a_drift_sweep_reads_every_customer_within_the_limit(limited, deployed):
    before = limited.control.last_request_id()
    report = limited.fleet("drift", expect=0)
    assert {c["result"] for c in report["customers"]} == {"no changes"} and len(report["customers"]) == CUSTOMERS
    served = limited.control.requests(since_id=before, vendor="sendgrid")
    kept_to_the_limit(served, spent_at_least=2)
    assert {r["method"] for r in served} == {"GET"} and report["rate_limit_wait_seconds"] > 0


def test_two_shards_at_once_on_one_parent_account_keep_to_the_limit(limited, deployed):
    before = limited.control.last_request_id()
    outs = [limited.root / f"shard-{k}.json" for k in (1, 2)]
    procs = [subprocess.Popen(limited.command("drift", "--shard", f"{k}/2", "--json", str(out)), env=limited.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for k, out in zip((1, 2), outs)]
    for proc in procs:
        try:
            text = proc.communicate(timeout=240)[0]
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            pytest.fail(f"a shard did not finish in 240 s:\n{proc.communicate(timeout=30)[0]}")
        assert proc.returncode == 0, text
    reports = [json.loads(out.read_text()) for out in outs]
    read = [c for r in reports for c in r["customers"]]
    assert sorted(c["stack"] for c in read) == sorted(f"sg-{n}.limits" for n in range(CUSTOMERS))
    assert {c["result"] for c in read} == {"no changes"}
    kept_to_the_limit(limited.control.requests(since_id=before, vendor="sendgrid"), spent_at_least=2)
