"""Sign-Up.to PMAPI / partner PMPAPI v1.2, mounted at /signupto (endpoints /signupto/v1/...).

Modules: routes.py (endpoints, envelope, who may do what), auth.py (SuTPartner, SuTHash,
SuTToken), models.py (strict request bodies), errors.py, store.py (tables and data access),
control.py (/_control/signupto/...).
"""

from . import control, routes, store
from .errors import error_body
from ..core.vendor import Vendor

VENDOR = Vendor("signupto", "/signupto", routes.create_blueprint, error_body,
                schema=store.SCHEMA, tables=store.TABLES, register_control=control.register)
