"""DomainVerification on SendGrid: the generic wait, asking SendGrid to check the records first.

SendGrid validates a domain only when asked (POST .../validate); its reads show the last outcome.
So each poll of a domain not yet valid asks for a validation, then reads the records as the
SendingDomain handler does: both resources agree on them.
"""

from __future__ import annotations

from typing import Any, Optional

from ..domain_verification import VerificationArgs, VerificationHandler


class SendGridVerification(VerificationHandler):
    platform = "sendgrid"

    def records(self, args: VerificationArgs) -> Optional[list[dict[str, Any]]]:
        records = super().records(args)
        if records is None or all(r["validated"] for r in records):
            return records
        from ...sendgrid.client import SubuserNotFound
        from ...http import ApiError

        try:
            self.client.validate_domain(int(args.sending_domain_id), args.account_id)
        except SubuserNotFound:
            return None
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return super().records(args)
