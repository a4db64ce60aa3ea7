"""Twilio SendGrid v3, mounted at /sendgrid: subusers, their credits and IPs, authenticated domains.

Modules: routes.py (URL table, subusers), domains.py (domain authentication and its records),
auth.py (Bearer API keys, `on-behalf-of`), params.py, models.py (request models, answer shapes),
errors.py, store.py (tables and data access), control.py (/_control/sendgrid/...), rate_limit.py
(the documented limit: X-RateLimit-* headers on every answer, 429 without Retry-After).
"""

from . import control, routes, store
from .errors import error_body
from .rate_limit import RATE_LIMIT
from ..core.vendor import Vendor

VENDOR = Vendor("sendgrid", "/sendgrid", routes.create_blueprint, error_body,
                schema=store.SCHEMA, tables=store.TABLES, register_control=control.register, rate_limit=RATE_LIMIT)
