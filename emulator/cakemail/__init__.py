"""Cakemail partner API, mounted at /cakemail: tokens, sub-accounts, /accounts/self, DKIM keys.

Modules: routes.py (URL table, tokens, the account a call acts as, account routes), dkim.py,
models.py (request models, response shapes), errors.py, store.py (tables and data
access), control.py (/_control/cakemail/...).
"""

from . import control, routes, store
from .errors import error_body
from ..core.vendor import Vendor

VENDOR = Vendor("cakemail", "/cakemail", routes.create_blueprint, error_body,
                schema=store.SCHEMA, tables=store.TABLES, register_control=control.register)
