"""SendingDomain on SendGrid: a domain authenticated on behalf of the subuser (`on-behalf-of`).

The records SendGrid answers (a return-path CNAME and two DKIM CNAMEs, or an MX and TXT records
with `automatic_security: false`) are recorded at once, in the `records` shape of every platform.
A domain, subdomain, security or selector change authenticates a new domain (a replacement, new
records to publish); `default` changes in place. SendGrid accepts the same name twice, so an
interrupted create is recognised as a domain of that name (and subdomain) of that subuser, with the
declared security; one that differs is only taken over with `adopt_domain_id`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional

from pydantic import Field, StrictBool, field_validator

from ...resources.diagnostics import warn
from ..base import CannotAdopt, Gone, Recorded, Refused
from ..sending_domain import SendingDomainArgs, SendingDomainHandler, SendingDomainState

if TYPE_CHECKING:  # the client (and `requests`) loads on the first API call, not at preview
    from ...sendgrid.client import SendGridClient
    from ...sendgrid.models import AuthenticatedDomain

LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
PURPOSES = {"mail_cname": "return-path", "mail_server": "return-path", "subdomain_spf": "spf",
            "domain_spf": "spf", "dkim1": "dkim", "dkim2": "dkim", "dkim": "dkim"}
# Read from SendGrid only where declared: an undeclared subdomain (SendGrid picks one) is not drift.
DECLARED_ONLY = ("subdomain", "custom_dkim_selector")


class SendGridSendingDomainArgs(SendingDomainArgs):
    platform: Literal["sendgrid"]
    subdomain: Optional[str] = Field(None, description="the return-path subdomain (default: SendGrid picks em<NNNN>)")
    automatic_security: StrictBool = Field(True, description="CNAME records SendGrid rotates for you; false: MX and "
                                                             "TXT records you publish yourself")
    custom_dkim_selector: Optional[str] = Field(None, pattern=r"^[A-Za-z0-9]{3}$",
                                                description="three letters or digits (default: s1 and s2)")
    default: StrictBool = Field(False, description="the subuser's default domain for mail that names none")
    adopt_domain_id: Optional[str] = Field(None, description="take over this existing authenticated domain (its "
                                                             "id: see `email-partners discover`)")

    @field_validator("subdomain")
    @classmethod
    def _subdomain(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not LABEL.match(value.lower()):
            raise ValueError(f"{value!r} is not one DNS label (letters, digits, inner hyphens)")
        return None if value is None else value.lower()


class SendGridSendingDomain(SendingDomainHandler[SendGridSendingDomainArgs]):
    platform = "sendgrid"
    Args = SendGridSendingDomainArgs
    client: SendGridClient
    replace_fields = frozenset({"platform", "account_id", "domain", "subdomain", "automatic_security",
                                "custom_dkim_selector"})
    compared_fields = ("platform", "account_id", "domain", "subdomain", "automatic_security",
                       "custom_dkim_selector", "default")

    @classmethod
    def delete_before_replace(cls, recorded: Recorded, news: Mapping[str, Any]) -> bool:
        return False  # SendGrid holds two domains of one name side by side: the new one first

    def create(self, args: SendGridSendingDomainArgs, marker: Optional[str]) -> tuple[str, SendingDomainState]:
        from ...sendgrid.models import CreateDomain, PatchDomain

        if args.adopt_domain_id is not None:
            return self._adopt(args)
        listed = self.client.find_domains(args.domain, args.account_id, args.subdomain)
        domain = self._recognise(args, listed)
        if domain is None:
            domain = self.client.create_domain(CreateDomain(
                domain=args.domain, subdomain=args.subdomain, automatic_security=args.automatic_security,
                custom_dkim_selector=args.custom_dkim_selector, default=args.default),
                args.account_id, known_ids={d.id for d in listed})
        elif domain.default != args.default:
            domain = self.client.update_domain(domain.id, PatchDomain(default=args.default), args.account_id)
        return str(domain.id), self._state(args.model_dump(), domain)

    def _recognise(self, args: SendGridSendingDomainArgs, listed: list[AuthenticatedDomain]) -> Optional[AuthenticatedDomain]:
        if not listed:
            return None
        matching = [d for d in listed if d.automatic_security == args.automatic_security]
        if not matching:
            found = ", ".join(f"{d.id} ({d.subdomain}.{d.domain})" for d in listed)
            raise Refused(f"sendgrid subuser {args.account_id} already has {args.domain} authenticated ({found}) "
                          f"with other settings; it was not changed. To manage it with this stack, set "
                          f"`adopt_domain_id` on the sending domain to its id and declare its settings.")
        domain = max(matching, key=lambda d: d.id)
        warn(f"sendgrid subuser {args.account_id} already has {args.domain} authenticated as declared (domain "
             f"{domain.id}, {domain.subdomain}.{domain.domain}), so an earlier, interrupted run of this resource "
             f"made it: taking it over instead of authenticating it again")
        return domain

    def _adopt(self, args: SendGridSendingDomainArgs) -> tuple[str, SendingDomainState]:
        domain = self.client.get_domain(int(args.adopt_domain_id), args.account_id) \
            if args.adopt_domain_id.isdigit() else None
        if domain is None:
            raise CannotAdopt(f"cannot adopt sendgrid domain {args.adopt_domain_id}: subuser {args.account_id} has "
                              f"no authenticated domain of that id. Nothing was created; check adopt_domain_id.")
        declared = args.model_dump()
        live = {"domain": domain.domain, "subdomain": domain.subdomain, "automatic_security": domain.automatic_security,
                "default": domain.default}
        differences = [f"{k}: declared {declared[k]!r}, live {v!r}" for k, v in live.items()
                       if declared[k] is not None and declared[k] != v]
        if differences:
            raise CannotAdopt(f"cannot adopt sendgrid domain {domain.id}: the declaration differs from it "
                              f"({'; '.join(differences)}). Declare the live values to adopt it; nothing was changed.")
        return str(domain.id), self._state(declared, domain)

    def read(self, id_: str, recorded: Recorded) -> Optional[SendingDomainState]:
        domain = self.client.get_domain(int(id_), recorded.account_id)
        if domain is None:
            return None
        inputs = recorded.inputs()
        inputs.update(domain=domain.domain, automatic_security=domain.automatic_security, default=domain.default)
        if inputs["subdomain"] is not None:
            inputs["subdomain"] = domain.subdomain
        return self._state(inputs, domain)

    def update(self, id_: str, recorded: Recorded, args: SendGridSendingDomainArgs) -> SendingDomainState:
        from ...sendgrid.models import PatchDomain

        domain = self.client.get_domain(int(id_), args.account_id)
        if domain is None:
            raise Gone(f"sendgrid domain {id_} of subuser {args.account_id} no longer exists; run `pulumi refresh` "
                       f"to authenticate it again")
        if domain.default != args.default:  # the only setting that changes in place (see replace_fields)
            domain = self.client.update_domain(domain.id, PatchDomain(default=args.default), args.account_id)
        return self._state(args.model_dump(), domain)

    def delete(self, id_: str, recorded: Recorded) -> None:
        self.client.delete_domain(int(id_), recorded.account_id)  # already gone (or its subuser) is fine

    @staticmethod
    def _state(inputs: dict, domain: AuthenticatedDomain) -> SendingDomainState:
        records = [{"name": r["name"], "type": r["type"], "value": r["value"], "purpose": PURPOSES.get(r["key"], r["key"]),
                    "validated": r["valid"]} for r in domain.records()]
        return SendingDomainState(**inputs, records=records, dkim_selector=inputs.get("custom_dkim_selector") or "s1")
