"""DomainVerification on SendGrid: the generic wait, asking SendGrid to check the records first.

SendGrid validates a domain only when asked (POST .../validate); its reads show the last outcome.
So each poll of the wait (create, update) asks for a validation of a domain not yet valid, then
reads the records as the SendingDomain handler does: both resources agree on them. A refresh only
reads (the last outcome), so drift checks make no write.
"""

from __future__ import annotations

from typing import Any, Optional

from ..base import Recorded
from ..domain_verification import VerificationArgs, VerificationHandler, VerificationState


class SendGridVerification(VerificationHandler):
    platform = "sendgrid"
    validates = True  # a refresh's read does not ask (see the module docstring)

    def read(self, id_: str, recorded: Recorded) -> Optional[VerificationState]:
        self.validates = False  # a handler serves one call
        return super().read(id_, recorded)

    def records(self, args: VerificationArgs) -> Optional[list[dict[str, Any]]]:
        records = super().records(args)
        if not self.validates or records is None or all(r["validated"] for r in records):
            return records
        if self.client.validate_domain(int(args.sending_domain_id), args.account_id) is None:
            return None  # the domain, or its subuser, is gone
        return super().records(args)
