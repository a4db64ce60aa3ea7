"""SendGrid's documented rate limit on the emulator, over real HTTP: the three X-RateLimit-* headers on
every answer, a 429 in SendGrid's words without Retry-After, windows that reset, counted per user and
per endpoint; the limit set through /_control (per vendor, per user, or off); vendors that document
no limit left alone."""

from __future__ import annotations

import time

import requests

from .sendgrid_helpers import SendGrid, add_parent, errors, parent, sg  # noqa: F401 (fixtures)

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def limit(emulator, **spec) -> requests.Response:
    return requests.put(f"{emulator.url}/_control/rate_limits", json={"vendor": "sendgrid", **spec}, timeout=5)


def announced(response: requests.Response) -> tuple[int, int, int]:
    return tuple(int(response.headers[h]) for h in HEADERS)  # type: ignore[return-value]


def test_every_answer_carries_the_three_headers_remaining_decreasing(emulator, sg):
    started = time.time()
    answers = [sg.get("/v3/subusers") for _ in range(3)]
    answers.append(sg.post("/v3/subusers", json={}))  # an error answer is counted and announced too
    answers.append(sg.get("/v3/whitelabel/domains/999"))
    assert [r.status_code for r in answers] == [200, 200, 200, 400, 404]
    gets = [announced(r) for r in answers[:3]]
    assert [(limit_, remaining) for limit_, remaining, _ in gets] == [(600, 599), (600, 598), (600, 597)]
    assert len({reset for _, _, reset in gets}) == 1  # one window
    assert started + 60 <= gets[0][2] <= time.time() + 61  # a Unix time: the documented minute from the first request
    assert announced(answers[3])[:2] == (600, 599) and announced(answers[4])[:2] == (600, 599)  # other endpoints
    assert all("Retry-After" not in r.headers for r in answers)


def test_an_exhausted_limit_is_a_429_in_sendgrids_words_without_retry_after(emulator, sg, parent):
    assert limit(emulator, user=parent["username"], limit=2, period_seconds=30).ok
    allowed = [sg.get("/v3/subusers") for _ in range(2)]
    refused = [sg.get("/v3/subusers") for _ in range(2)]
    assert [r.status_code for r in allowed] == [200, 200] and [r.status_code for r in refused] == [429, 429]
    assert [announced(r)[1] for r in allowed + refused] == [1, 0, 0, 0]
    for r in refused:
        assert r.json() == {"errors": [{"field": None, "message": "too many requests"}]}
        assert "Retry-After" not in r.headers and announced(r) == (2, 0, announced(allowed[0])[2])
    log = requests.get(f"{emulator.url}/_control/requests", params={"vendor": "sendgrid"}, timeout=5).json()["requests"]
    assert [(e["status"], e["fault"], e["rate_limit"]["remaining"]) for e in log[-4:]] == [
        (200, False, 1), (200, False, 0), (429, False, 0), (429, False, 0)]


def test_the_window_resets_at_the_announced_time(emulator, sg, parent):
    assert limit(emulator, user=parent["username"], limit=1, period_seconds=1).ok
    first = sg.get("/v3/subusers")
    for _ in range(10):  # two requests within one window (on a loaded machine the next may miss it)
        second = sg.get("/v3/subusers")
        if first.status_code == 200 and second.status_code == 429:
            break
        first = second
    assert first.status_code == 200 and second.status_code == 429
    reset = announced(second)[2]
    assert announced(first)[2] == reset
    time.sleep(max(0.0, reset - time.time()) + 0.01)
    again = sg.get("/v3/subusers")
    assert again.status_code == 200 and announced(again)[1] == 0 and announced(again)[2] > reset


def test_limits_are_per_user_and_per_endpoint(emulator, sg, parent):
    other = add_parent(emulator, "parent-two")
    assert limit(emulator, limit=2, period_seconds=30).ok  # every user's
    sg.create_subuser("one")
    sg.create_subuser("two")
    assert sg.get("/v3/subusers/one/credits").status_code == 200
    assert sg.get("/v3/subusers/two/credits").status_code == 200  # the same endpoint, whatever the name
    refused = sg.get("/v3/subusers/one/credits")
    assert refused.status_code == 429 and errors(refused)[0]["message"] == "too many requests"
    # Another endpoint of the same user, and the same endpoint of another user, are untouched.
    assert announced(sg.get("/v3/subusers"))[:2] == (2, 1)
    assert announced(sg.put("/v3/subusers/one/credits", json={"type": "unlimited"}))[:2] == (2, 1)
    assert SendGrid(emulator, other["api_key"]).get("/v3/subusers/x/credits").status_code == 400  # counted, not 429
    # A parent's call on behalf of a subuser is the parent's request (its key).
    as_one = SendGrid(emulator, parent["api_key"], "one")
    assert [as_one.get("/v3/whitelabel/domains").status_code for _ in range(3)] == [200, 200, 429]
    assert sg.get("/v3/whitelabel/domains").status_code == 429


def test_control_sets_the_limit_per_vendor_per_user_or_off(emulator, sg, parent):
    listed = requests.get(f"{emulator.url}/_control/rate_limits", timeout=5).json()["rate_limits"]
    assert listed == [{"vendor": "sendgrid", "user": None, "limit": 600, "period_seconds": 60.0}]  # documented default
    assert limit(emulator, limit=50).json() == {"vendor": "sendgrid", "user": None, "limit": 50, "period_seconds": 60.0}
    assert announced(sg.get("/v3/subusers"))[:2] == (50, 49)
    assert limit(emulator, user=parent["username"], limit=None).ok  # this parent: no limit, no headers
    plain = sg.get("/v3/subusers")
    assert plain.status_code == 200 and not any(h in plain.headers for h in HEADERS)
    listed = requests.get(f"{emulator.url}/_control/rate_limits", timeout=5).json()["rate_limits"]
    assert {(e["user"], e["limit"]) for e in listed} == {(None, 50), (parent["username"], None)}
    for bad in ({"limit": 0}, {"limit": "many"}, {"period_seconds": 0, "limit": 1}, {}, {"user": 7, "limit": 1}):
        r = limit(emulator, **bad)
        assert r.status_code == 400 and r.json()["error"], bad
    # Back to the documented default: DELETE, and /_control/reset.
    requests.delete(f"{emulator.url}/_control/rate_limits", timeout=5).raise_for_status()
    assert announced(sg.get("/v3/subusers"))[:2] == (600, 599)
    limit(emulator, limit=3)
    requests.post(f"{emulator.url}/_control/reset", timeout=5).raise_for_status()
    assert requests.get(f"{emulator.url}/_control/rate_limits", timeout=5).json()["rate_limits"][0]["limit"] == 600


def test_vendors_that_document_no_limit_keep_retry_after_faults(emulator, cm):
    r = requests.put(f"{emulator.url}/_control/rate_limits", json={"vendor": "cakemail", "limit": 5}, timeout=5)
    assert r.status_code == 400 and "documents no rate limit" in r.json()["error"]
    answer = cm.get("/accounts")
    assert answer.status_code == 200 and not any(h in answer.headers for h in HEADERS)
