"""`email-partners status` and `history` on a fleet built through the real CLI, the page opened in
Debian's Chromium.

One fleet for the whole file (created once, cheaply: one `fleet up` of five customers, a drift made
behind the tool's back and found by `fleet drift`, one `review`, one edited stack file):
- bakery (Cakemail): account named `<script>alert(1)</script> Bakery`, renamed in the console to
  `<img src=x onerror=alert(2)>` (drifted), a sending domain whose DKIM record is unpublished;
- books (Sign-Up.to): its stack file raises a limit after the `up` (needs up);
- cafe (Ciirus): its sending domain's three records unpublished (DNS pending);
- florist (Cakemail, staging): declared suspended, reviewed (an advisory policy finding);
- broken (Cakemail, staging): wrong credentials, so its `up` failed and it is not deployed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from providers.cakemail import CakemailClient
from providers.cakemail.models import PatchAccount

from ..conftest import Control
from .pulumi_cli import copy_policies
from .test_fleet import FAST_RETRY, Fleet, by_customer, cakemail_customer, ciirus_customer, ciirus_user, \
    new_partners, signupto_customer

HOSTILE_NAME = "<script>alert(1)</script> Bakery"
HOSTILE_RENAME = "<img src=x onerror=alert(2)>"


class StatusFleet(Fleet):
    def tool(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
        """`email-partners ARGS` with no terminal."""
        result = subprocess.run([*self.command()[:-1], *args], env=self.env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=300)
        assert result.returncode == expect, f"exit {result.returncode}, expected {expect}:\n{result.stdout}\n{result.stderr}"
        return result

    def status_json(self, *args: str) -> dict:
        return json.loads(self.tool("status", "--format", "json", *args).stdout)


@pytest.fixture(scope="session")
def status_fleet(tmp_path_factory, pulumi_bin, emulator):
    control = Control(emulator.url)
    vendor_env, cakemail, signupto = new_partners(control, "status")
    state = tmp_path_factory.mktemp("status-state")
    project = StatusFleet(tmp_path_factory.mktemp("status-fleet"), pulumi_bin, state.as_uri(), vendor_env)
    project.state_dir, project.control = state, control
    copy_policies(project.root)  # `review` runs the pack found there
    cafe = ciirus_user(control, "status-cafe")
    project.secrets = [cakemail["password"], signupto["partner_key"], cafe["password"], "status-wrong-Secr3t"]
    project.add("bakery.production", {**cakemail_customer(HOSTILE_NAME, domain="news.status-bakery.example")})
    project.add("books.production", signupto_customer("Status Books"))
    project.add("cafe.production", ciirus_customer("mail.status-cafe.example"),
                plain={"ciirus:username": cafe["username"]}, secrets={"ciirus:password": cafe["password"]})
    florist = cakemail_customer("Status Florist")
    florist["account"]["suspended"] = True
    project.add("florist.staging", florist)
    project.add("broken.staging", cakemail_customer("Status Broken"), secrets={"cakemail:password": project.secrets[-1]})

    project.up = project.fleet("up", "--yes", "--parallel", "2", expect=1)
    client = CakemailClient(control.url + "/cakemail", cakemail["username"], cakemail["password"], retry=FAST_RETRY)
    bakery_id = client.accounts_named(HOSTILE_NAME)[0].id
    client.patch_account(bakery_id, PatchAccount(name=HOSTILE_RENAME))
    project.drift = project.fleet("drift", expect=4)
    project.review = project.tool("review", "florist.staging", "--format", "json", expect=0)
    books = project.root / "stacks" / "Pulumi.books.production.yaml"
    declared = yaml.safe_load(books.read_text())
    declared["config"]["email-partners:customer"]["features"]["list_limit"] = 300
    books.write_text(yaml.safe_dump(declared, sort_keys=False))
    return project


def test_runs_are_recorded_and_history_shows_them(status_fleet):
    assert by_customer(status_fleet.up)["broken"]["result"] == "failed"
    assert sorted(c["customer"] for c in status_fleet.drift["customers"] if c["drift"]) == ["bakery"]
    assert (status_fleet.state_dir / "email-partners-history.sqlite").exists()

    entries = json.loads(status_fleet.tool("history", "--format", "json", "--last", "50").stdout)["entries"]
    runs = {(e["stack"], e["operation"]): e for e in entries}
    assert {op for _, op in runs} == {"up", "drift", "review"}
    assert len({e["run_id"] for e in entries}) == 3  # one run id per command, shared by its customers
    bakery_drift = runs[("bakery.production", "drift")]
    assert [(d["field"], d["actual"]) for d in bakery_drift["drift"]] == [("name", HOSTILE_RENAME)]
    broken = runs[("broken.staging", "up")]
    assert broken["result"] == "failed" and broken["error"] and broken["environment"] == "staging"
    assert runs[("bakery.production", "up")]["changes"].get("create", 0) >= 3
    review = runs[("florist.staging", "review")]
    assert [p["policy"] for p in review["policy"]] == ["sending-domain-required"]
    for entry in entries:
        assert entry["actor"] and entry["tool_version"] and entry["duration_seconds"] >= 0
    one = json.loads(status_fleet.tool("history", "books", "--format", "json").stdout)["entries"]
    assert {e["stack"] for e in one} == {"books.production"} and [e["operation"] for e in one] == ["drift", "up"]
    table = status_fleet.tool("history", "--last", "3").stdout
    assert "review" in table and "florist.staging" in table
    recorded = json.dumps(entries)
    for secret in status_fleet.secrets:
        assert secret not in recorded


def test_status_data_from_recorded_state_and_history_without_vendor_requests(status_fleet):
    control = status_fleet.control
    before = control.last_request_id()
    page = status_fleet.status_json()
    assert control.requests(since_id=before) == []  # the page reads state and history only
    rows = {c["customer"]: c for c in page["customers"]}
    assert sorted(rows) == ["bakery", "books", "broken", "cafe", "florist"]
    assert {rows[n]["platform"] for n in rows} == {"cakemail", "signupto", "ciirus"}

    bakery = rows["bakery"]
    assert bakery["account_name"] == HOSTILE_NAME and bakery["account_status"] == "active"
    assert bakery["resources_in_state"] == 3 and bakery["account_id"]
    assert [d["field"] for d in bakery["drift"]["fields"]] == ["name"] and bakery["drift"]["checked_by"] == "drift"
    assert [r["type"] for r in bakery["dns_pending"]] == ["TXT"]
    assert bakery["dns_pending"][0]["name"].endswith("._domainkey.news.status-bakery.example")
    assert set(bakery["health"]) == {"drifted", "dns pending"}
    assert rows["books"]["needs_up"] and rows["books"]["health"] == ["needs up"]
    assert [(d["op"], d["field"], d["actual"], d["declared"]) for d in rows["books"]["needs_up"]] == [
        ("update", "features.list_limit", 250, 300)]  # deployed 250, the stack file now says 300
    assert len(rows["cafe"]["dns_pending"]) == 3 and rows["cafe"]["health"] == ["dns pending"]
    florist = rows["florist"]
    assert florist["account_status"] == "suspended" and florist["health"] == ["healthy", "suspended"]
    assert [p["enforcement"] for p in florist["policy"]] == ["advisory"]
    assert florist["last_run"]["operation"] == "review"
    broken = rows["broken"]
    assert broken["state"] == "not deployed" and set(broken["health"]) == {"failed", "not deployed"}
    assert broken["last_run"]["result"] == "failed" and broken["resources_in_state"] == 0
    assert page["counts"] == {"healthy": 1, "drifted": 1, "failed": 1, "dns pending": 2, "not deployed": 1,
                              "needs up": 1, "suspended": 1, "locked": 0, "state unread": 0}

    staging = status_fleet.status_json("--environment", "staging")
    assert sorted(c["customer"] for c in staging["customers"]) == ["broken", "florist"]
    selected = status_fleet.status_json("--select", "b*")
    assert sorted(c["customer"] for c in selected["customers"]) == ["bakery", "books", "broken"]


@pytest.fixture(scope="module")
def status_page(status_fleet) -> Path:
    before = status_fleet.control.last_request_id()
    target = status_fleet.root / "status.html"
    status_fleet.tool("status", "--output", str(target))
    assert status_fleet.control.requests(since_id=before) == []
    return target


def test_page_is_self_contained_escaped_and_holds_no_secret(status_page):
    text = status_page.read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text and "url(" not in text
    assert HOSTILE_NAME not in text and HOSTILE_RENAME not in text  # only in escaped form
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e Bakery" in text
    assert "default-src 'none'" in text


def test_secrets_never_on_the_page(status_fleet, status_page):
    text = status_page.read_text() + json.dumps(status_fleet.status_json())
    for secret in status_fleet.secrets:
        assert secret not in text


def test_page_in_chromium_rows_counts_filter_copy(status_fleet, status_page, chromium_browser, tmp_path):
    context = chromium_browser.new_context(viewport={"width": 1600, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(status_page.as_uri())
        page.wait_for_selector("body[data-ready=true]")
        assert requests == [status_page.as_uri()]  # nothing else fetched

        data = status_fleet.status_json()
        rows = page.locator("#rows tr.row")
        assert rows.count() == 5
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.stack)")) == sorted(
            c["stack"] for c in data["customers"])
        shown_counts = page.locator("#counts .count").evaluate_all(
            "bs => Object.fromEntries(bs.map(b => [b.dataset.tag, Number(b.querySelector('b').textContent)]))")
        assert shown_counts == data["counts"]

        # The hostile names are text: no alert, no element made from them.
        assert dialogs == []
        bakery = page.locator('#rows tr.row[data-stack="bakery.production"]')
        assert bakery.locator(".account-name").inner_text() == HOSTILE_NAME
        assert HOSTILE_RENAME in bakery.locator('td[data-column="Drift"]').inner_text()
        assert page.locator("#rows img, #rows script").count() == 0

        def visible() -> list[str]:
            return sorted(rows.evaluate_all("rs => rs.filter(r => !r.hidden).map(r => r.dataset.stack)"))

        page.fill("#filter", "ciirus")
        assert visible() == ["cafe.production"]
        page.fill("#filter", "")
        assert len(visible()) == 5
        page.click('#counts .count[data-tag="failed"]')
        assert visible() == ["broken.staging"]
        page.click('#counts .count[data-tag="dns pending"]')
        assert visible() == ["bakery.production", "cafe.production"]
        page.click('#counts .count[data-tag="dns pending"]')  # again: the filter is off
        assert len(visible()) == 5

        # Sorting by a column, both ways.
        page.click('#head th:text("Customer")')
        order = rows.evaluate_all("rs => rs.map(r => r.dataset.stack)")
        assert order == sorted(order)
        page.click('#head th:text("Customer")')
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.stack)") == sorted(order, reverse=True)

        # The copy button copies the whole value, not the shortened one on screen.
        record = next(c for c in data["customers"] if c["customer"] == "bakery")["dns_pending"][0]
        assert len(record["value"]) > 100
        bakery.locator("button.copy").first.click()
        assert page.evaluate("navigator.clipboard.readText()") == record["value"]
        assert bakery.locator("button.copy").first.inner_text() == "Copied"

        # A row opens its details: resources with outputs, and the last runs.
        bakery.locator('td[data-column="Platform"]').click()
        details = page.locator('tr.details[data-details-of="bakery.production"]')
        assert "SubAccount" in details.inner_text() and "SendingDomain" in details.inner_text()
        assert details.locator("table").nth(1).locator("tr").count() == 1 + 2  # header, drift and up
        page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
        assert (tmp_path / "status.png").stat().st_size > 10_000
    finally:
        context.close()


def test_a_large_fleet_is_shown_a_page_at_a_time_and_filtered_across_pages(chromium_browser, tmp_path):
    """450 customers (made as data, no fleet needed): 200 rows at a time; the filter and the counts
    search all of them."""
    from operations.status.data import CustomerStatus, StatusPage, counts_of
    from operations.status.page import render

    customers = [CustomerStatus(stack=f"cust-{n:04d}.production", customer=f"cust-{n:04d}", platform="cakemail",
                                environment="production", state="recorded", resources_in_state=3,
                                health=["failed"] if n % 100 == 7 else ["healthy"]) for n in range(450)]
    target = tmp_path / "large.html"
    target.write_text(render(StatusPage(generated_at="2026-11-05T10:00:00+00:00", project="email-partners",
                                        counts=counts_of(customers), customers=customers)))
    page = chromium_browser.new_page()
    try:
        page.goto(target.as_uri())
        page.wait_for_selector("body[data-ready=true]")
        rows = page.locator("#rows tr.row")

        def stacks() -> list[str]:
            return rows.evaluate_all("rs => rs.map(r => r.dataset.stack)")
        assert len(stacks()) == 200 and stacks()[0] == "cust-0000.production"
        assert page.locator("#shown").inner_text() == "showing 1–200 of 450" and page.locator("#prev").is_disabled()
        page.click("#next")
        page.click("#next")
        assert stacks()[-1] == "cust-0449.production" and len(stacks()) == 50 and page.locator("#next").is_disabled()
        page.fill("#filter", "cust-0123")  # on the first page, found from the last
        assert stacks() == ["cust-0123.production"]
        page.fill("#filter", "")
        page.click('#counts .count[data-tag="failed"]')
        assert stacks() == [f"cust-{n:04d}.production" for n in (7, 107, 207, 307, 407)]
        page.click('#counts .count[data-tag="failed"]')
        page.select_option("#size", "0")
        assert len(stacks()) == 450
    finally:
        page.close()


def test_served_page_is_built_on_each_load(status_fleet, chromium_browser):
    import re
    import time

    proc = subprocess.Popen([*status_fleet.command()[:-1], "status", "--serve", "--port", "0"], env=status_fleet.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    context = chromium_browser.new_context()
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        before = status_fleet.control.last_request_id()
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("#rows tr.row").count() == 5
        first = page.locator("#about").inner_text()
        time.sleep(1.1)  # the page says when it was generated, to the second
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        assert page.locator("#about").inner_text() != first
        assert status_fleet.control.requests(since_id=before) == []
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=30)


def test_check_drift_runs_the_sweep_first_and_records_it(status_fleet):
    """Last in this file: it adds a run to the shared fleet's history."""
    before = status_fleet.control.last_request_id()
    checked = status_fleet.tool("status", "--check-drift", "--format", "json")
    assert status_fleet.control.requests(since_id=before)  # the sweep read the vendors
    page = json.loads(checked.stdout)
    rows = {c["customer"]: c for c in page["customers"]}
    assert rows["bakery"]["drift"]["checked_at"] > status_fleet.drift["started_at"]  # this sweep's, not the first
    assert rows["bakery"]["health"] == ["drifted", "dns pending"]
    drift_runs = {e["run_id"] for e in json.loads(status_fleet.tool("history", "--format", "json", "--last", "100")
                                                  .stdout)["entries"] if e["operation"] == "drift"}
    assert len(drift_runs) == 2
    assert "fleet drift" in checked.stderr or "drift:" in checked.stderr  # the sweep's table, on stderr
