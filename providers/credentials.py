"""One authentication request per vendor, to tell a wrong password from a right one before an `up`.

Not part of any preview (a no-op preview makes no request): `email-partners review --check-credentials`
and `email-partners check-credentials` call it explicitly.
"""

from __future__ import annotations

from typing import Any, Mapping

from .http import ApiError, RetryPolicy
from .settings import MissingCredentials, cakemail_settings, ciirus_settings, signupto_settings

ONE_ATTEMPT = RetryPolicy(max_attempts=1, connect_timeout=5.0, read_timeout=15.0)


def check_credentials(platform: str, config: Mapping[str, Any]) -> tuple[bool, str]:
    """(accepted, what happened in words); either way the line names the identity and its config
    key (`cakemail:username partner@x`), never a credential."""
    who = url = None
    try:
        if platform == "cakemail":
            from .cakemail.client import CakemailClient

            s = cakemail_settings(config)
            who, url = f"cakemail:username {s.username}", s.api_url
            client = CakemailClient(s.api_url, s.username, s.password.get_secret_value(), retry=ONE_ATTEMPT)
            client.auth.headers("POST", "/token")  # the password grant: one request
        elif platform == "signupto":
            from .signupto.client import SignupToClient

            s = signupto_settings(config)
            who, url = f"signupto:partnerId {s.partner_id}", s.api_url
            SignupToClient.as_partner(s.api_url, s.partner_id, s.partner_key.get_secret_value(),
                                      retry=ONE_ATTEMPT).list_accounts()
        elif platform == "ciirus":
            from .ciirus.client import CiirusClient

            s = ciirus_settings(config)
            who, url = f"ciirus:username {s.username}", s.api_url
            CiirusClient(s.api_url, s.username, s.password.get_secret_value(), s.api_version, retry=ONE_ATTEMPT).get()
        else:
            return False, f"unknown platform {platform!r}"
    except MissingCredentials as exc:
        return False, str(exc)
    except ApiError as exc:
        if exc.status in (401, 403):
            return False, f"{who}: {platform} at {url} refused the credentials ({exc})"
        return False, f"{who}: {platform} at {url} could not be asked ({exc})"
    except ValueError as exc:
        return False, f"{who}: {exc}" if who else str(exc)
    return True, f"{who} accepted by {url}"
