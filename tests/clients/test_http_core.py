"""The HTTP core against the emulator over real HTTP, with faults injected by its control API."""

from __future__ import annotations

import pytest

from providers.cakemail.client import CakemailClient
from providers.http import ApiError, AmbiguousWriteError, HttpClient, RetryPolicy, parse_retry_after


class RecordingSleep:
    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep():
    return RecordingSleep()


@pytest.fixture
def client(cakemail_partner, sleep) -> CakemailClient:
    c = CakemailClient(cakemail_partner["api_url"], cakemail_partner["username"], cakemail_partner["password"])
    c.http._sleep = sleep
    return c


def test_retry_after_is_honoured_on_503_and_429(client, control, sleep):
    control.fault(r"^/cakemail/accounts$", method="GET", status=503, retry_after=2, count=1)
    control.fault(r"^/cakemail/accounts$", method="GET", status=429, retry_after=3, count=1)
    assert list(client.iter_accounts()) == []
    assert len(sleep.delays) == 2
    assert 2 <= sleep.delays[0] < 2.5 and 3 <= sleep.delays[1] < 3.5


def test_backoff_grows_with_jitter_without_retry_after(client, control, sleep):
    control.fault(r"^/cakemail/accounts$", method="GET", status=502, count=3)
    list(client.iter_accounts())
    policy = client.http.retry
    assert [d <= policy.base_delay * 2 ** i for i, d in enumerate(sleep.delays)] == [True, True, True]


def test_gives_up_after_max_attempts_with_a_clear_error(cakemail_partner, control, sleep):
    c = CakemailClient(cakemail_partner["api_url"], cakemail_partner["username"], cakemail_partner["password"],
                       retry=RetryPolicy(max_attempts=3))
    c.http._sleep = sleep
    control.fault(r"^/cakemail/accounts$", method="GET", status=503, count=5)
    with pytest.raises(ApiError) as err:
        list(c.iter_accounts())
    assert err.value.status == 503
    assert str(err.value).startswith("cakemail GET /accounts failed (HTTP 503)")
    assert len(sleep.delays) == 2


def test_dropped_connection_on_a_read_is_retried(client, control, sleep):
    control.fault(r"^/cakemail/accounts$", method="GET", drop=True, count=2)
    assert list(client.iter_accounts()) == []
    assert len(sleep.delays) == 2


def test_ambiguous_post_is_reconciled_not_resent_blindly(cakemail_partner, control, sleep):
    http = HttpClient("cakemail", cakemail_partner["api_url"], sleep=sleep)
    control.fault(r"^/cakemail/token$", method="POST", status=500, count=1)
    calls = []

    def reconcile():
        calls.append(1)
        return {"found": True}

    assert http.request("POST", "/token", data={"grant_type": "password"}, authenticated=False,
                        reconcile=reconcile) == {"found": True}
    assert calls == [1]


def test_ambiguous_post_without_reconcile_raises(cakemail_partner, control, sleep):
    http = HttpClient("cakemail", cakemail_partner["api_url"], sleep=sleep)
    control.fault(r"^/cakemail/token$", method="POST", status=502, count=1)
    with pytest.raises(AmbiguousWriteError, match="may or may not have been applied"):
        http.request("POST", "/token", data={}, authenticated=False)


def test_a_429_post_is_resent_because_it_was_not_processed(cakemail_partner, control, sleep):
    http = HttpClient("cakemail", cakemail_partner["api_url"], sleep=sleep)
    control.fault(r"^/cakemail/token$", method="POST", status=429, retry_after=1, count=1)
    body = http.request("POST", "/token", authenticated=False, data={
        "grant_type": "password", "username": cakemail_partner["username"], "password": cakemail_partner["password"]})
    assert body["token_type"].lower() == "bearer"


def test_refused_connection_names_the_vendor(sleep):
    http = HttpClient("cakemail", "http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2), sleep=sleep)
    with pytest.raises(ApiError, match=r"^cakemail GET /accounts failed \(no response\): connection failed"):
        http.request("GET", "/accounts")


def test_vendor_error_body_is_in_the_message(client):
    with pytest.raises(ApiError) as err:
        client.http.request("GET", "/accounts", params={"page": 0})
    assert err.value.status == 422 and "page" in str(err.value)


def test_parse_retry_after_forms():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_session_reuses_connections(client, monkeypatch):
    opened = []
    import urllib3.connectionpool as pool

    original = pool.HTTPConnectionPool._new_conn

    def counting(self):
        opened.append(1)
        return original(self)

    monkeypatch.setattr(pool.HTTPConnectionPool, "_new_conn", counting)
    for _ in range(5):
        list(client.iter_accounts())
    assert len(opened) == 1


def test_unreachable_api_url_fails_at_once_naming_the_setting_and_the_url(sleep):
    http = HttpClient("ciirus", "http://127.0.0.1:9/ciirus", retry=RetryPolicy(max_attempts=6), sleep=sleep)
    with pytest.raises(ApiError) as err:
        http.request("GET", "/v2024.07.31/emails/subaccount")
    assert "http://127.0.0.1:9/ciirus" in str(err.value) and "ciirus:apiUrl" in str(err.value)
    assert "CIIRUS_API_URL" in str(err.value) and "connection refused" in str(err.value)
    assert sleep.delays == [], "no retries when nothing ever answered at that address"


def test_refusals_name_the_setting_to_check(emulator, cakemail_partner, signupto_partner):
    """A wrong path or another vendor's URL in apiUrl, a wrong password or partner key: the vendor's own
    words name no setting, so the error adds the one to check."""
    from providers.cakemail import CakemailClient
    from providers.signupto import SignupToClient

    fast = RetryPolicy(max_attempts=1)
    base = cakemail_partner["api_url"].rsplit("/", 1)[0]
    for url in (base + "/wrong", base + "/signupto"):
        with pytest.raises(ApiError) as err:
            list(CakemailClient(url, cakemail_partner["username"], cakemail_partner["password"], retry=fast)
                 .iter_accounts())
        assert err.value.status == 404 and "check cakemail:apiUrl (or CAKEMAIL_API_URL)" in str(err.value), err.value
    with pytest.raises(ApiError) as err:
        list(CakemailClient(cakemail_partner["api_url"], cakemail_partner["username"], "wrong", retry=fast)
             .iter_accounts())
    assert "check cakemail:username and cakemail:password" in str(err.value)
    with pytest.raises(ApiError) as err:
        SignupToClient.as_partner(signupto_partner["api_url"], signupto_partner["partner_id"], "k" * 40,
                                  retry=fast).list_accounts()
    assert "Invalid signature" in str(err.value) and "check signupto:partnerId and signupto:partnerKey" in str(err.value)


def test_a_signer_signs_the_path_it_requests_behind_a_prefixed_api_url(emulator, signupto_partner):
    """The emulator checks the path it received; the client signs the path it sends (apiUrl's prefix too)."""
    from providers.signupto import SignupToClient

    client = SignupToClient.as_partner(signupto_partner["api_url"], signupto_partner["partner_id"],
                                       signupto_partner["partner_key"], retry=RetryPolicy(max_attempts=1))
    assert client.list_accounts() is not None  # signed "/signupto/v1/account", the path requested
