"""The provider's hot path through the real pulumi CLI: only the stack's platform is imported, a
refresh reads each remote object once, and the pickled provider is stored small and in clear."""

from __future__ import annotations

import base64

from providers.platforms import names
from providers.resources.diagnostics import MODULES_REPORT_ENV

CUSTOMER = {
    "platform": "cakemail",
    "account": {"name": "Hot Path Bakery",
                "owner": {"email": "ops@hotpath.example", "first_name": "Ada", "last_name": "Baker"}},
    "features": {"per_month": 1234},
    "sending_domains": [{"domain": "news.hotpath.example"}],
}


def test_one_platform_stack_loads_reads_and_stores_only_what_it_needs(cakemail_project, control, tmp_path):
    project = cakemail_project
    project.set_customer(CUSTOMER)
    project.up()

    # A no-op preview loads this platform's handlers, not the other vendors' code, nor `requests`.
    report = tmp_path / "modules.txt"
    project.env[MODULES_REPORT_ENV] = str(report)
    before = control.last_request_id()
    project.preview("--expect-no-changes")
    del project.env[MODULES_REPORT_ENV]
    modules = set(report.read_text().split())
    assert "providers.handlers.cakemail.sub_account" in modules, "the report must come from the provider process"
    assert "providers.handlers.cakemail.sending_domain" in modules and "providers.platforms.cakemail" in modules
    others = sorted(m for m in modules if set(m.split(".")) & (set(names()) - {"cakemail"}))
    assert others == [], "a cakemail stack must not import other vendors' modules"
    assert not [m for m in modules if m.split(".")[0] == "operations"], "the provider process imports no tool code"
    assert "requests" not in modules and "providers.cakemail.client" not in modules
    assert control.requests(since_id=before) == []

    # A refresh reads the account once for SubAccount and AccountFeatures together.
    account_id = project.outputs()["account_id"]
    before = control.last_request_id()
    project.refresh()
    log = control.requests(since_id=before, vendor="cakemail")
    assert [r["method"] for r in log if r["path"] == f"/cakemail/accounts/{account_id}"] == ["GET"]
    assert len([r for r in log if r["path"] != "/cakemail/token"]) == 2  # the account, and the DKIM key

    # The pickled provider holds no secret: kept in clear (the SDK would still encrypt a captured secret).
    for resource in project.resources("partners:SubAccount") + project.resources("partners:SendingDomain"):
        for props in (resource["inputs"], resource["outputs"]):
            blob = props["__provider"]
            assert isinstance(blob, str), "the provider must not be stored as a secret"
            assert len(base64.b64decode(blob)) < 200
