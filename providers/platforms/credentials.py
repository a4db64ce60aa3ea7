"""One authentication request per vendor, to tell a wrong password from a right one before an `up`.

Not part of any preview (a no-op preview makes no request): `email-partners review --check-credentials`
and `email-partners check-credentials` call it explicitly.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import describe, names
from .clients import new_client
from .settings import InvalidSetting, MissingCredentials, login_of, read_settings


def check_credentials(platform_name: str, config: Mapping[str, Any]) -> tuple[bool, str]:
    """(accepted, what happened in words); either way the line names the identity and its config
    key (`cakemail:username partner@x`), never a credential."""
    from ..http import ApiError, RetryPolicy

    if platform_name not in names():
        return False, f"unknown platform {platform_name!r}"
    platform = describe(platform_name)
    who = url = None
    try:
        settings = read_settings(platform, config)
        who, url = " ".join(login_of(platform, settings)), settings.api_url
        client = new_client(platform, settings, RetryPolicy(max_attempts=1, connect_timeout=5.0, read_timeout=15.0))
        platform.verify_credentials(client)
    except (MissingCredentials, InvalidSetting) as exc:
        return False, str(exc)
    except ApiError as exc:
        if exc.status in (401, 403):
            return False, f"{who}: {platform_name} at {url} refused the credentials ({exc})"
        return False, f"{who}: {platform_name} at {url} could not be asked ({exc})"
    except ValueError as exc:
        return False, f"{who}: {exc}" if who else str(exc)
    return True, f"{who} accepted by {url}"
