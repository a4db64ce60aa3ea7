"""The emulated SendGrid domain authentication (/v3/whitelabel/domains) over real HTTP: the records
the spec's examples show, scopes (on-behalf-of), listing, validation against the DNS zone."""

from __future__ import annotations

import requests

from emulator import EmulatorServer

from .sendgrid_helpers import SendGrid, add_parent, errors, parent, publish_records, schema, sg  # noqa: F401 (fixtures)


def test_domain_shapes_follow_the_spec(emulator, sg):
    sg.create_subuser("shape")
    domain = SendGrid(emulator, sg.session.headers["Authorization"][7:], "shape").create_domain(
        "Shape.Example", subdomain="mail", default=True)
    spec = schema("tsg_domain_authentication_v3", "components", "schemas", "AuthenticatedDomain")
    assert list(domain) == spec["required"]  # all of them, in the spec's order
    assert (domain["domain"], domain["subdomain"], domain["default"], domain["legacy"]) == (
        "shape.example", "mail", True, False)
    user_id = domain["user_id"]
    assert domain["dns"] == {
        "mail_cname": {"valid": False, "type": "cname", "host": "mail.shape.example",
                       "data": f"u{user_id}.wl.sendgrid.net"},
        "dkim1": {"valid": False, "type": "cname", "host": "s1._domainkey.shape.example",
                  "data": f"s1.domainkey.u{user_id}.wl.sendgrid.net"},
        "dkim2": {"valid": False, "type": "cname", "host": "s2._domainkey.shape.example",
                  "data": f"s2.domainkey.u{user_id}.wl.sendgrid.net"}}


def test_manual_security_asks_for_mx_and_txt_records(emulator, sg):
    sg.create_subuser("manual")
    as_sub = SendGrid(emulator, sg.session.headers["Authorization"][7:], "manual")
    domain = as_sub.create_domain("manual.example", subdomain="em", automatic_security=False,
                                  custom_spf=True, custom_dkim_selector="abc")
    spec = schema("tsg_domain_authentication_v3", "components", "schemas", "AuthenticatedDomainSpf")
    assert list(domain["dns"]) == spec["properties"]["dns"]["required"]
    dns = domain["dns"]
    assert (dns["mail_server"]["type"], dns["mail_server"]["host"], dns["mail_server"]["data"]) == (
        "mx", "em.manual.example", "mx.sendgrid.net")
    assert dns["subdomain_spf"]["data"] == "v=spf1 ip4:198.51.100.10 -all"  # the subuser's IP
    assert dns["domain_spf"] == {"valid": False, "type": "txt", "host": "manual.example",
                                 "data": "v=spf1 include:em.manual.example -all"}
    assert dns["dkim"]["host"] == "abc._domainkey.manual.example"
    assert dns["dkim"]["data"].startswith("k=rsa; t=s; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ")
    result = as_sub.post(f"/v3/whitelabel/domains/{domain['id']}/validate").json()
    assert result["validation_results"]["mail_server"] == {
        "valid": False, "reason": 'Expected your MX record to be "mx.sendgrid.net" but found no MX record.'}
    publish_records(emulator, domain)
    assert as_sub.post(f"/v3/whitelabel/domains/{domain['id']}/validate").json()["valid"] is True
    [patched] = as_sub.patch(f"/v3/whitelabel/domains/{domain['id']}", json={"custom_spf": False}).json()
    assert patched["dns"]["subdomain_spf"] == {"valid": False, "type": "txt", "host": "em.manual.example",
                                               "data": "v=spf1 include:sendgrid.net ~all"}
    assert patched["valid"] is False and patched["dns"]["dkim"]["valid"] is True


def test_a_patch_answers_as_the_spec_declares_an_array_of_the_domain(emulator, sg):
    """The spec's PATCH answer is DomainAuthentication200, an array of AuthenticatedDomain: a client
    generated from it (the official library's users) parses it as such."""
    declared = schema("tsg_domain_authentication_v3", "paths", "/v3/whitelabel/domains/{domain_id}", "patch",
                      "responses", "200")["$ref"].rsplit("/", 1)[-1]
    shape = schema("tsg_domain_authentication_v3", "components", "responses", declared, "content",
                   "application/json", "schema")
    domain = sg.create_domain("patched.example")
    answer = sg.patch(f"/v3/whitelabel/domains/{domain['id']}", json={"default": True}).json()
    assert shape["type"] == "array" and isinstance(answer, list)
    assert [(d["id"], d["default"]) for d in answer] == [(domain["id"], True)]
    assert set(shape["items"]["required"]) <= set(answer[0])


def test_parent_lists_its_own_and_its_subusers_domains(emulator, sg, parent):
    sg.create_subuser("lister")
    sub = SendGrid(emulator, parent["api_key"], "lister")
    own = sg.create_domain("parent.example")
    theirs = [sub.create_domain(f"d{i}.lister.example") for i in range(3)]
    ids = lambda client, **p: [d["id"] for d in client.get("/v3/whitelabel/domains", params=p).json()]  # noqa: E731
    assert ids(sg) == [own["id"]] + [d["id"] for d in theirs]
    assert ids(sg, exclude_subusers="true") == [own["id"]]
    assert ids(sg, username="lister") == [d["id"] for d in theirs]
    assert ids(sub) == [d["id"] for d in theirs]
    assert ids(sub, domain="d1.lister") == [theirs[1]["id"]]
    assert ids(sub, limit=2, offset=1) == [theirs[1]["id"], theirs[2]["id"]]
    # The same name may be authenticated twice (as on SendGrid): nothing refuses a duplicate.
    again = sub.create_domain("d0.lister.example")
    assert ids(sub, domain="d0.lister.example") == [theirs[0]["id"], again["id"]]


def test_a_subusers_domain_is_reached_only_in_its_scope(emulator, sg, parent):
    sg.create_subuser("owner")
    sg.create_subuser("neighbour")
    owner, neighbour = SendGrid(emulator, parent["api_key"], "owner"), SendGrid(emulator, parent["api_key"], "neighbour")
    domain = owner.create_domain("scoped.example")
    path = f"/v3/whitelabel/domains/{domain['id']}"
    for outsider in (sg, neighbour):
        for method, suffix in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/validate")):
            r = getattr(outsider, method)(path + suffix, json={})
            assert (r.status_code, errors(r)[0]["message"]) == (404, "authenticated domain not found"), (method, suffix)
    assert owner.get(path).status_code == 200
    # a domain made by the parent with the body's username belongs to that subuser too
    by_name = sg.create_domain("named.example", username="neighbour")
    assert by_name["username"] == "neighbour" and neighbour.get(f"/v3/whitelabel/domains/{by_name['id']}").ok
    r = sg.post("/v3/whitelabel/domains", json={"domain": "x.example", "username": "ghost"})
    assert (r.status_code, errors(r)) == (400, [{"field": "username", "message": "username does not exist"}])
    # deleting the subuser deletes its domains
    assert sg.delete("/v3/subusers/owner").status_code == 204
    assert [d["username"] for d in sg.get("/v3/whitelabel/domains").json()] == ["neighbour"]


def test_one_default_domain_per_user(emulator, sg):
    first = sg.create_domain("first.example", default=True)
    second = sg.create_domain("second.example")
    patched = sg.patch(f"/v3/whitelabel/domains/{second['id']}", json={"default": True})
    assert patched.status_code == 200 and [d["default"] for d in patched.json()] == [True]
    assert sg.get(f"/v3/whitelabel/domains/{first['id']}").json()["default"] is False
    r = sg.patch(f"/v3/whitelabel/domains/{first['id']}", json={"custom_spf": True})
    assert (r.status_code, errors(r)[0]["field"]) == (400, "custom_spf")  # only for manual security


def test_validation_names_the_wrong_record(emulator, sg):
    domain = sg.create_domain("wrong.example", subdomain="em")
    publish_records(emulator, domain)
    requests.delete(f"{emulator.url}/_control/dns/records", json={"name": "s2._domainkey.wrong.example"}, timeout=5)
    requests.put(f"{emulator.url}/_control/dns/records", timeout=5, json={
        "name": "s2._domainkey.wrong.example", "type": "CNAME", "value": "elsewhere.example.net"})
    result = sg.post(f"/v3/whitelabel/domains/{domain['id']}/validate").json()
    assert result["valid"] is False
    assert result["validation_results"]["dkim1"] == {"valid": True, "reason": None}
    assert result["validation_results"]["dkim2"] == {"valid": False, "reason": (
        f'Expected CNAME for "s2._domainkey.wrong.example" to match "{domain["dns"]["dkim2"]["data"]}".')}
    read = sg.get(f"/v3/whitelabel/domains/{domain['id']}").json()
    assert (read["valid"], read["dns"]["dkim1"]["valid"], read["dns"]["dkim2"]["valid"]) == (False, True, False)
    assert isinstance(read["last_validation_attempt_at"], int)


def test_bad_domain_bodies_are_400s_naming_the_field(sg):
    for body, field in (({}, "domain"), ({"domain": "not a domain"}, "domain"),
                        ({"domain": "a.example", "subdomain": "bad_label"}, "subdomain"),
                        ({"domain": "a.example", "custom_dkim_selector": "toolong"}, "custom_dkim_selector"),
                        ({"domain": "a.example", "automatic_security": "no"}, "automatic_security"),
                        ({"domain": "a.example", "custom_spf": True}, "custom_spf"),
                        ({"domain": "a.example", "region": "mars"}, "region")):
        r = sg.post("/v3/whitelabel/domains", json=body)
        assert (r.status_code, errors(r)[0]["field"]) == (400, field), body
    assert sg.get("/v3/whitelabel/domains").json() == []
    assert sg.get("/v3/whitelabel/domains/abc").status_code == 404


def test_publish_dns_lets_a_demo_domain_validate(tmp_path):
    with EmulatorServer(str(tmp_path / "e.sqlite"), publish_dns=True) as server:
        api = SendGrid(server, add_parent(server)["api_key"])
        for fields in ({}, {"automatic_security": False}):
            domain = api.create_domain("demo.example", **fields)
            assert api.post(f"/v3/whitelabel/domains/{domain['id']}/validate").json()["valid"] is True
