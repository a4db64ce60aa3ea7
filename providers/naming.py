"""How a provider setting is named: `<platform>:<key>` in stack config, `<PLATFORM>_<KEY>` in the
environment (`cakemail:apiUrl`, CAKEMAIL_API_URL). One convention, used by the settings (which read
them) and by the HTTP core (whose errors name the setting to check); it imports nothing.
"""

from __future__ import annotations

import re


def config_key(platform: str, key: str) -> str:
    """`cakemail:apiUrl` for ("cakemail", "apiUrl")."""
    return f"{platform}:{key}"


def env_var(platform: str, key: str) -> str:
    """CAKEMAIL_API_URL for ("cakemail", "apiUrl") (or "api_url")."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)
    return f"{platform}_{snake}".upper()


def settings_words(platform: str, *keys: str) -> str:
    """`cakemail:username and cakemail:password (or CAKEMAIL_USERNAME and CAKEMAIL_PASSWORD)`."""
    return (f"{' and '.join(config_key(platform, k) for k in keys)} "
            f"(or {' and '.join(env_var(platform, k) for k in keys)})")
