"""The emulator's DNS zone: control routes, normalisation, and the has_txt lookup."""

from __future__ import annotations

import requests

from emulator.core import dns_zone
from emulator.core.store import Store

from .ciirus_helpers import publish, unpublish, zone


def _put(emulator, body):
    return requests.put(f"{emulator.url}/_control/dns/records", json=body, timeout=5)


def test_publish_is_idempotent_and_normalises_names(emulator):
    assert publish(emulator, "Mail.Example.COM.", "hello") == {
        "name": "mail.example.com", "type": "TXT", "value": "hello"}
    publish(emulator, "mail.example.com", "hello")  # same record again: still one
    publish(emulator, "mail.example.com", "Hello")  # TXT values are case-sensitive
    publish(emulator, "www.example.com", "Target.Example.net.", rtype="cname")
    assert zone(emulator) == [
        {"name": "mail.example.com", "type": "TXT", "value": "Hello"},
        {"name": "mail.example.com", "type": "TXT", "value": "hello"},
        {"name": "www.example.com", "type": "CNAME", "value": "target.example.net"}]
    r = requests.get(f"{emulator.url}/_control/dns/records?name=WWW.example.com", timeout=5)
    assert [x["type"] for x in r.json()["records"]] == ["CNAME"]


def test_unpublish_one_record_or_a_whole_name(emulator):
    publish(emulator, "_dmarc.example.com", "a")
    publish(emulator, "_dmarc.example.com", "b")
    publish(emulator, "_dmarc.example.com", "x.example.net", rtype="CNAME")
    publish(emulator, "example.com", "c")
    assert unpublish(emulator, "_dmarc.example.com", "TXT", "a") == 1
    assert unpublish(emulator, "_dmarc.example.com", "TXT", "a") == 0
    assert unpublish(emulator, "_dmarc.example.com", "TXT") == 1  # every TXT at the name
    publish(emulator, "_dmarc.example.com", "b")
    assert unpublish(emulator, "_DMARC.example.com.") == 2  # everything at the name
    assert zone(emulator) == [{"name": "example.com", "type": "TXT", "value": "c"}]


def test_bad_records_are_refused(emulator):
    for body in ({"type": "TXT", "value": "v"}, {"name": "a.com", "type": "A", "value": "192.0.2.1"},
                 {"name": "a.com", "type": "MX", "value": "not a host"},
                 {"name": "a.com", "type": "TXT"}, {"name": "a.com", "type": "TXT", "value": ""},
                 {"name": "a.com", "type": "TXT", "value": 5},
                 {"name": "bad name.com", "type": "TXT", "value": "v"},
                 {"name": "a..com", "type": "TXT", "value": "v"}):
        r = _put(emulator, body)
        assert r.status_code == 400 and r.json()["error"], body
    r = requests.delete(f"{emulator.url}/_control/dns/records", json={"type": "TXT"}, timeout=5)
    assert r.status_code == 400
    assert zone(emulator) == []


def test_reset_wipes_the_zone_and_it_is_never_logged(emulator):
    publish(emulator, "example.com", "v")
    assert requests.post(f"{emulator.url}/_control/reset", timeout=5).json() == {"reset": True}
    assert zone(emulator) == []
    log = requests.get(f"{emulator.url}/_control/requests", timeout=5).json()["requests"]
    assert log == []


def test_has_txt_and_persistence(db_path):
    store = Store(db_path)
    try:
        dns_zone.publish("Example.com.", "TXT", "v=spf1 -all", store)
        assert dns_zone.has_txt("EXAMPLE.com", "v=spf1 -all", store)
        assert not dns_zone.has_txt("example.com", "v=spf1 -all ", store)  # exact value
        assert not dns_zone.has_txt("other.example.com", "v=spf1 -all", store)
        assert not dns_zone.has_txt("not a name", "v=spf1 -all", store)
        dns_zone.publish("alias.example.com", "CNAME", "example.com", store)
        assert not dns_zone.has_txt("alias.example.com", "example.com", store)  # CNAME != TXT
    finally:
        store.close()
    reopened = Store(db_path)
    try:
        assert len(dns_zone.records(store=reopened)) == 2
    finally:
        reopened.close()


def test_has_record_compares_cname_targets_and_mx_exchanges_as_names(db_path):
    store = Store(db_path)
    try:
        dns_zone.publish("em1.example.com", "MX", "MX.SendGrid.net.", store)
        dns_zone.publish("s1._domainkey.example.com", "CNAME", "s1.domainkey.u7.wl.sendgrid.net", store)
        assert dns_zone.has_record("EM1.example.com.", "mx", "mx.sendgrid.net", store)
        assert dns_zone.has_record("s1._domainkey.example.com", "CNAME", "S1.domainkey.u7.wl.sendgrid.net.", store)
        assert not dns_zone.has_record("em1.example.com", "CNAME", "mx.sendgrid.net", store)  # MX != CNAME
        assert not dns_zone.has_record("em1.example.com", "MX", "other.example.net", store)
        assert not dns_zone.has_record("em1.example.com", "A", "192.0.2.1", store)  # not a type the zone holds
        assert not dns_zone.has_record("not a name", "MX", "mx.sendgrid.net", store)
        assert dns_zone.values("em1.example.com", "MX", store) == ["mx.sendgrid.net"]
        assert dns_zone.values("em1.example.com", "TXT", store) == []
    finally:
        store.close()


def test_hostname_rules():
    assert dns_zone.is_hostname("mail.example.com")
    assert dns_zone.is_hostname("xn--bcher-kva.example")
    for bad in ("example", "example.com.", "Example.com", "-a.com", "a-.com", "a_b.com",
                "1.2.3.4", "a..com", "", "a" * 64 + ".com"):
        assert not dns_zone.is_hostname(bad), bad
