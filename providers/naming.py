"""How things are named, in one place that imports nothing.

A provider setting: `<platform>:<key>` in stack config, `<PLATFORM>_<KEY>` in the environment
(`cakemail:apiUrl`, CAKEMAIL_API_URL), used by the settings (which read them) and by the HTTP core
(whose errors name the setting to check). A customer stack: `<customer>.<environment>`, its
declaration under `email-partners:customer`, used by the tool and by the policy pack alike (which
must not depend on each other).
"""

from __future__ import annotations

import re
from typing import Optional


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


# --- customer stacks: the project's convention, shared by the program's tools and the policy pack ------
CUSTOMER_KEY = "email-partners:customer"        # a stack's customer declaration in its config
ENVIRONMENT_KEY = "email-partners:environment"  # an explicit environment, which wins over the name's


def split_stack_name(stack: str) -> tuple[str, Optional[str]]:
    """`acme-bakery.production` -> ("acme-bakery", "production"); `demo-cakemail` -> ("demo-cakemail", None)."""
    customer, dot, environment = stack.rpartition(".")
    return (customer, environment) if dot and customer and environment else (stack, None)
