"""The Cakemail client over real HTTP: token lifecycle, accounts, and exactly-once create."""

from __future__ import annotations

import time

import pytest

from providers.cakemail.client import CakemailClient
from providers.cakemail.models import AccountOwnerUser, CreateAccount, PatchAccount
from providers.http import ApiError, OutcomeUnknownError

OWNER = AccountOwnerUser(email="o@x.example", first_name="O", last_name="X")


def make(partner) -> CakemailClient:
    return CakemailClient(partner["api_url"], partner["username"], partner["password"])


def test_authenticates_lazily_and_once(cakemail_partner, control):
    before = control.last_request_id()
    client = make(cakemail_partner)
    assert control.requests(since_id=before) == []
    for _ in range(3):
        list(client.iter_accounts())
    paths = [r["path"] for r in control.requests(since_id=before)]
    assert paths.count("/cakemail/token") == 1


def test_token_is_refreshed_after_expiry(control):
    control.post("/cakemail/partners", {"username": "ttl@x.example", "password": "pw-ttl-123", "token_ttl_seconds": 1})
    client = make({"api_url": control.url + "/cakemail", "username": "ttl@x.example", "password": "pw-ttl-123"})
    before = control.last_request_id()
    list(client.iter_accounts())
    time.sleep(1.3)
    list(client.iter_accounts())
    grants = [r["body"].get("grant_type") for r in control.requests(since_id=before) if r["path"] == "/cakemail/token"]
    assert grants == ["password", "refresh_token"]


def test_bad_password_is_a_clear_error(cakemail_partner):
    client = make({**cakemail_partner, "password": "wrong-password"})
    with pytest.raises(ApiError) as err:
        list(client.iter_accounts())
    assert err.value.status == 401 and "cakemail POST /token" in str(err.value)
    assert "wrong-password" not in str(err.value)


def test_account_lifecycle(cakemail_partner):
    client = make(cakemail_partner)
    account = client.create_account(CreateAccount(name="Lifecycle", account_owner=OWNER, trial=True))
    assert account.status == "trial" and account.name == "Lifecycle"
    assert client.patch_account(account.id, PatchAccount(name="Renamed")).name == "Renamed"
    assert client.set_suspended(account.id, True).suspended
    assert not client.set_suspended(account.id, False).suspended
    assert client.delete_account(account.id) is True
    assert client.get_account(account.id) is None
    assert client.delete_account(account.id) is False  # already gone is not an error


def test_pagination_walks_every_page(cakemail_partner):
    client = make(cakemail_partner)
    for i in range(7):
        client.create_account(CreateAccount(name=f"Page {i}", account_owner=OWNER))
    assert len(list(client.iter_accounts(per_page=3))) == 7


def test_create_with_a_dropped_connection_is_not_resent_blindly(cakemail_partner, control):
    """No answer: the vendor may still be working, so the client looks, never re-sends, and says so."""
    client = make(cakemail_partner)
    client.http._sleep = lambda s: None
    control.fault(r"^/cakemail/accounts$", method="POST", drop=True, count=1)
    with pytest.raises(OutcomeUnknownError, match="outcome is unknown"):
        client.create_account(CreateAccount(name="Once", account_owner=OWNER))
    assert client.accounts_named("Once") == []  # the dropped request never landed; the next run creates it
    account = client.create_account(CreateAccount(name="Once", account_owner=OWNER))
    assert [a.id for a in client.accounts_named("Once")] == [account.id]


def test_create_survives_a_lost_response_without_duplicating(cakemail_partner, control):
    """The request is processed, then the connection drops: the client must find it, not re-send."""
    client = make(cakemail_partner)
    client.http._sleep = lambda s: None
    control.fault(r"^/cakemail/accounts$", method="POST", drop=True, after_processing=True, count=1)
    account = client.create_account(CreateAccount(name="Lost Response", account_owner=OWNER))
    assert [a.id for a in client.accounts_named("Lost Response")] == [account.id]


def test_refresh_reads_of_one_account_share_one_get_until_a_write(cakemail_partner, control):
    client = make(cakemail_partner)
    account = client.create_account(CreateAccount(name="Shared Reads", account_owner=OWNER))
    before = control.last_request_id()
    assert client.get_account_shared(account.id, "SubAccount").id == account.id
    assert client.get_account_shared(account.id, "AccountFeatures").usage_limits == account.usage_limits
    gets = [r for r in control.requests(since_id=before) if r["path"] == f"/cakemail/accounts/{account.id}"]
    assert [r["method"] for r in gets] == ["GET"]
    # A write drops the shared answer: the next reader sees the change, never the old value.
    client.get_account_shared(account.id, "SubAccount")
    client.patch_account(account.id, PatchAccount(name="Renamed"))
    assert client.get_account_shared(account.id, "AccountFeatures").name == "Renamed"
    # The next pass (a reader already served comes again) reads the server again.
    before = control.last_request_id()
    client.get_account_shared(account.id, "AccountFeatures")
    assert [r["method"] for r in control.requests(since_id=before)] == ["GET"]


def test_dkim_create_lists_keys_once_when_the_caller_just_listed_them(cakemail_api, control):
    account = cakemail_api.create_account(CreateAccount(name="Dkim Once", account_owner=OWNER))
    before = control.last_request_id()
    keys = cakemail_api.list_dkim_keys(account.id)
    key = cakemail_api.create_dkim_key(account.id, "news.once.example", "sel1", listed=keys)
    assert key.domain == "news.once.example"
    assert [(r["method"], r["path"]) for r in control.requests(since_id=before)] == [
        ("GET", "/cakemail/brands/default/dkim"), ("POST", "/cakemail/brands/default/dkim")]


class _PublishedSchema:
    """Answers as the full published schema allows (optional fields left out), for the client's own parsing."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def request(self, method, path, **kwargs):
        self.asked.append((method, path, kwargs.get("params")))
        return self.answers(method, path, kwargs.get("params") or {})


def _account(n: int) -> dict:
    return {"id": str(n), "status": "active", "name": f"Shop {n}"}


def test_answers_without_the_optional_fields_of_the_published_schema():
    from providers.cakemail.models import CreateAccount, DkimKey

    client = CakemailClient("http://unused.invalid", "u@x.example", "p")
    # A listing without `pagination` at all: pages follow while full, and stop at a short one.
    pages = {1: [_account(n) for n in range(1, 4)], 2: [_account(4)]}
    client.http = _PublishedSchema(lambda m, p, params: {"data": pages.get(params["page"], [])})
    assert [a.id for a in client.iter_accounts(per_page=3)] == ["1", "2", "3", "4"]
    # A server that ignores `page` and says nothing: a page with nothing new ends the listing.
    client.http = _PublishedSchema(lambda m, p, params: {"data": [_account(1), _account(2)]})
    assert [a.id for a in client.iter_accounts(per_page=2)] == ["1", "2"]
    # A create answer holding only `id`: the account is read after.
    client.http = _PublishedSchema(lambda m, p, params: {"id": 9} if m == "POST" else {"data": _account(9)})
    assert client.create_account(CreateAccount(name="Shop 9"), known_ids=set()).name == "Shop 9"
    assert [(m, p) for m, p, _ in client.http.asked] == [("POST", "/accounts"), ("GET", "/accounts/9")]
    # A DKIM key without `status`: not active, its record still complete.
    key = DkimKey.model_validate({"id": "1", "selector": "s1", "domain": "a.example", "public_key": "KEY"})
    assert not key.active and key.dns_record() == ("s1._domainkey.a.example", "TXT", "v=DKIM1; k=rsa; p=KEY")


def test_a_token_that_lapses_while_the_request_waits_is_not_hinted_as_wrong_credentials(control):
    """1 s tokens and a 1.2 s wait for every answer but the token's: the right credentials are accepted each
    time, and the failure says the token lapsed while the request waited, not "check cakemail:password"."""
    login = {"username": "slow@x.example", "password": "pw-slow-123"}
    control.post("/cakemail/partners", {**login, "token_ttl_seconds": 1})
    control.fault("/cakemail/accounts", latency_ms=1200, count=5)
    client = make({"api_url": control.url + "/cakemail", **login})
    with pytest.raises(ApiError) as err:
        list(client.iter_accounts())
    assert err.value.status == 401
    assert "check cakemail:username" not in str(err.value)
    assert "the credentials are right" in str(err.value) and "lapsed while the request waited" in str(err.value)
    control.clear_faults()
    wrong = make({"api_url": control.url + "/cakemail", **login, "password": "not-the-password"})
    with pytest.raises(ApiError, match="check cakemail:username and cakemail:password"):
        list(wrong.iter_accounts())  # a wrong password still names the settings to check
