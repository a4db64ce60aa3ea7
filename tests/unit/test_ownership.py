"""One owner per vendor object, in process: how each platform's objects are named from state and from a
declaration (its description's `owned`), the backend's label, the index file and the providers' guard
at create (the engine path's own check; the whole journeys are tests/e2e/test_ownership.py)."""

from __future__ import annotations

import pytest

from providers.handlers.base import Refused
from providers.ownership import (INDEX_FILE, INDEX_VARIABLE, TAKE_OVER_VARIABLE, IndexEntry, Owner, OwnershipIndex,
                                 VendorObject, backend_label, claimed_objects, index_here, login_of, recorded_objects)
from providers.platforms import describe, names
from providers.resources.owners import CreateGuard, managed_by, servicer_urn


def obj(platform: str, noun: str, key: str) -> VendorObject:
    return VendorObject(platform=platform, noun=noun, key=key)


def test_every_platform_names_what_its_account_resource_manages():
    for platform in names():
        assert any(o.resource == "SubAccount" for o in describe(platform).owned), platform


@pytest.mark.parametrize("platform, kind, props, account, login, expected", [
    ("cakemail", "SubAccount", {"adopt_account_id": "4", "name": "Acme"}, None, None, [("account", "4")]),
    ("cakemail", "SubAccount", {"name": "Acme"}, None, None, []),  # a new account: nothing existing is taken
    ("cakemail", "SendingDomain", {"domain": "News.Acme.example"}, "4", None, [("DKIM key", "4/news.acme.example")]),
    ("cakemail", "SendingDomain", {"domain": "news.acme.example"}, None, None, []),  # in a new account
    ("signupto", "SubAccount", {"adopt_account_id": "12"}, None, None, [("company", "12")]),
    ("ciirus", "SubAccount", {"initial": {}}, None, "u at http://x", [("sub-account of API user", "u at http://x")]),
    ("ciirus", "SubAccount", {"adopt_account_id": "s-1"}, None, "u at http://x",
     [("sub-account", "s-1"), ("sub-account of API user", "u at http://x")]),
    ("sendgrid", "SubAccount", {"username": "acme"}, None, None, [("subuser", "acme")]),
    ("sendgrid", "SendingDomain", {"domain": "x.example", "adopt_domain_id": "17"}, "acme", None,
     [("authenticated domain", "17")]),
    ("sendgrid", "SendingDomain", {"domain": "x.example"}, "acme", None, []),
])
def test_what_a_declaration_takes_over(platform, kind, props, account, login, expected):
    assert [(o.noun, o.key) for o in claimed_objects(platform, kind, props, account, login)] == expected


def test_what_a_recorded_resource_manages_is_what_a_declaration_of_it_claims():
    """The two keys of one object agree: an account recorded by one stack is the one another adopts."""
    recorded = recorded_objects("cakemail", "SendingDomain", "9", {"account_id": "4", "domain": "news.acme.example"},
                                {})
    assert recorded == claimed_objects("cakemail", "SendingDomain", {"domain": "NEWS.acme.example"}, "4")
    assert recorded_objects("sendgrid", "SubAccount", "acme", {"username": "acme"}, {"account_id": "acme"}) == \
        claimed_objects("sendgrid", "SubAccount", {"username": "acme"})
    assert recorded_objects("sendgrid", "SendingDomain", "17", {}, {}) == \
        claimed_objects("sendgrid", "SendingDomain", {"adopt_domain_id": "17"}, "acme")
    login = login_of("ciirus", {"ciirus:username": "api-user", "ciirus:apiUrl": "http://127.0.0.1:1/ciirus/"})
    assert login == "api-user at http://127.0.0.1:1/ciirus"
    assert obj("ciirus", "sub-account of API user", login) in recorded_objects("ciirus", "SubAccount", "s-1", {}, {},
                                                                              login)


def test_a_backend_is_labelled_without_its_password_or_user():
    assert backend_label("postgres://team:s3cret@db.internal:5432/pulumi_state?sslmode=verify-full") == \
        "postgres://db.internal:5432/pulumi_state"
    assert backend_label("postgres://db/x?table=other") == "postgres://db/x?table=other"
    assert backend_label("file:///srv/state/") == "file:///srv/state"
    assert backend_label(None) is None


def write(tmp_path, index: OwnershipIndex):
    (tmp_path / "Pulumi.yaml").write_text("name: p\n")
    path = tmp_path / INDEX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(index.model_dump_json())
    return path


ACCOUNT = obj("cakemail", "account", "4")


def index_of(backend: str) -> OwnershipIndex:
    return OwnershipIndex(backend=backend_label(backend), project="email-partners", written_at="2026-01-01T00:00:00",
                          entries=[IndexEntry(object=ACCOUNT, owners=[Owner(stack="demo-cakemail",
                                                                            resource="demo-cakemail-account")])])


def test_the_index_is_used_only_for_the_backend_it_was_read_from(tmp_path, monkeypatch):
    path = write(tmp_path, index_of("file:///srv/state"))
    (tmp_path / "stacks").mkdir()
    monkeypatch.chdir(tmp_path / "stacks")  # where the engine starts the providers: the program's folder
    found = index_here({"PULUMI_BACKEND_URL": "file:///srv/state"})
    assert found is not None and found.owners_of(ACCOUNT)[0].stack == "demo-cakemail"
    assert index_here({"PULUMI_BACKEND_URL": "postgres://db/x"}) is None  # another backend's: nothing is guessed
    assert index_here({"PULUMI_BACKEND_URL": "file:///srv/state", INDEX_VARIABLE: str(path) + ".none"}) is None


def guard(tmp_path, environ: dict, stack: str = "acme-bakery.production") -> CreateGuard:
    write(tmp_path, index_of("file:///srv/state"))
    environ = {"PULUMI_BACKEND_URL": "file:///srv/state", INDEX_VARIABLE: str(tmp_path / INDEX_FILE), **environ}
    return CreateGuard("cakemail", "SubAccount", {}, environ,
                       urn=f"urn:pulumi:{stack}::email-partners::emailpartners:index:Customer$pulumi-python:dynamic/"
                           f"partners:SubAccount::{stack}-account")


def test_a_create_that_adopts_another_stacks_account_is_refused_before_any_request(tmp_path):
    with pytest.raises(Refused, match="cakemail account 4 is managed by stack demo-cakemail.*take-over "
                                      "acme-bakery.production --from demo-cakemail"):
        guard(tmp_path, {}).before({"platform": "cakemail", "adopt_account_id": "4"})
    guard(tmp_path, {}).before({"platform": "cakemail", "adopt_account_id": "5"})  # no one's: goes on
    guard(tmp_path, {}, stack="demo-cakemail").before({"adopt_account_id": "4"})  # its own
    guard(tmp_path, {TAKE_OVER_VARIABLE: "demo-cakemail"}).before({"adopt_account_id": "4"})  # the take-over


def test_a_create_that_recognised_another_stacks_object_is_refused_after_the_fact(tmp_path):
    with pytest.raises(Refused, match="took it for the one an interrupted run of this resource made, but cakemail "
                                      "account 4 is managed by stack demo-cakemail"):
        guard(tmp_path, {}).after("4", {"platform": "cakemail", "account_id": "4"})


def test_the_create_finds_its_urn_in_the_servicers_request():
    class Request:
        urn = "urn:pulumi:acme.production::email-partners::x$pulumi-python:dynamic/partners:SubAccount::a"

    class Context:  # a gRPC servicer context, as far as the lookup needs one
        def set_details(self, details): ...

        def abort(self, code, details): ...

    def Create(request, context):  # noqa: N802 - as the SDK's servicer method (tests/unit/test_engine_wording.py)
        return servicer_urn()

    assert Create(Request(), Context()) == Request.urn and servicer_urn() is None
    by = managed_by(Request.urn, {"PULUMI_BACKEND_URL": "file:///srv/state"})
    assert (by.project, by.stack, by.backend) == ("email-partners", "acme.production", "file:///srv/state")


def test_a_candidate_another_stack_manages_is_never_recognised_as_an_interrupted_creates(tmp_path):
    """(Sign-Up.to and Cakemail recognise an account made in the last 24 hours by its declared fields: one
    another stack manages is left out, so the create makes its own instead of taking that one.)"""
    assert guard(tmp_path, {}).managed_elsewhere("4")
    assert not guard(tmp_path, {}).managed_elsewhere("5")
    assert not guard(tmp_path, {}, stack="demo-cakemail").managed_elsewhere("4")
