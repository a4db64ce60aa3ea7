"""The status page's notifications in Chromium: each sink's last notification, its events linking to their
customers' rows, and a message's link (`status.html#stack=NAME`) opening that row, on whatever page it is."""

from __future__ import annotations

from operations.notifications.store import Delivered
from operations.status.data import CustomerStatus, StatusPage, counts_of
from operations.status.page import render


def test_a_notifications_link_opens_its_customers_row(chromium_browser, tmp_path):
    customers = [CustomerStatus(stack=f"shop-{n:03d}.production", customer=f"shop-{n:03d}", platform="cakemail",
                                environment="production", state="recorded", health=["healthy"]) for n in range(250)]
    told = [Delivered(delivery="d1", sent_at="2026-12-02T03:00:41+00:00", sink="chat", source="fleet report",
                      delivered=True, attempts=1, event_count=2,
                      events=[{"type": "drift.found", "subject": "shop-230.production", "link": None},
                              {"type": "shard.missing", "subject": "shard 2/4", "link": None}]),
            Delivered(delivery="d2", sent_at="2026-12-02T03:00:41+00:00", sink="ops", source="fleet report",
                      delivered=False, attempts=3, error="HTTP 500 after 3 attempt(s)", event_count=1,
                      events=[{"type": "drift.found", "subject": "shop-007.production", "link": None}])]
    target = tmp_path / "status.html"
    target.write_text(render(StatusPage(generated_at="2026-12-02T03:01:00+00:00", project="email-partners",
                                        counts=counts_of(customers), customers=customers, notifications=told)))
    page = chromium_browser.new_page()
    try:
        page.goto(target.as_uri() + "#stack=shop-230.production")  # as a message links to it
        page.wait_for_selector("body[data-ready=true]")
        focused = page.locator("#rows tr.row.focused")
        assert focused.get_attribute("data-stack") == "shop-230.production"  # on the second page of 200
        assert focused.get_attribute("aria-expanded") == "true" and focused.is_visible()
        assert page.locator('tr.details[data-details-of="shop-230.production"]').count() == 1
        text = page.locator("#told").inner_text()
        assert "Last notification to chat" in text and "delivered" in text
        assert "Last notification to ops" in text and "NOT delivered: HTTP 500 after 3 attempt(s)" in text
        assert page.locator("#told a").count() == 2  # a shard has no row: no link
        page.click('#told a:has-text("shop-007.production")')  # back to the first page, that row opened
        page.wait_for_function("document.querySelector('#rows tr.row.focused').dataset.stack === 'shop-007.production'")
        assert page.locator("#rows tr.row.focused").get_attribute("aria-expanded") == "true"
    finally:
        page.close()
