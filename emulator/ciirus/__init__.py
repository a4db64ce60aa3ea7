"""Ciirus Partner API (emails/subaccount), mounted at /ciirus.

Modules: routes.py (versions, HTTP Basic auth, the sub-account routes), models.py (body
validation and the seeds' response shapes), errors.py, store.py (tables and data access),
control.py (/_control/ciirus/users). Validation statuses are read from the core's DNS zone.
"""

from . import control, routes, store
from .errors import error_body
from ..core.vendor import Vendor

VENDOR = Vendor("ciirus", "/ciirus", routes.create_blueprint, error_body,
                schema=store.SCHEMA, tables=store.TABLES, register_control=control.register)
