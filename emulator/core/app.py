"""Flask app factory: one app serving the vendor APIs it is given, each under its base path, plus /_control.

The vendors are handed in (a list of `Vendor` descriptions), so the core never imports one; a new
vendor gets everything below without a change here. Cross-cutting behaviour lives here as hooks
so the vendor blueprints stay pure API emulation:
  - before_request: find the vendor owning the path, then apply any pending fault;
  - after_request: a rate-limited vendor's headers on every counted answer (rate_limits.py), then
    write vendor requests to the request log;
  - error handlers: turn routing errors and crashes into the vendor's error shape.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import control, faults, rate_limits, requestlog
from .store import Store
from .vendor import Registry, Vendor

log = logging.getLogger("emulator")


def create_app(db_path: str, vendors: Iterable[Vendor], publish_dns: bool = False) -> Flask:
    registry = Registry(vendors)
    app = Flask(__name__)
    app.config["PUBLISH_DNS"] = publish_dns  # demo: publish expected DNS records (dns_zone.py)
    app.json.sort_keys = False  # keep the spec's key order in answers
    store = Store(db_path, registry)
    app.extensions["emulator_store"] = store
    app.extensions["emulator_registry"] = registry

    app.register_blueprint(control.create_blueprint(registry))
    for vendor in registry:
        app.register_blueprint(vendor.create_blueprint())

    @app.before_request
    def _begin():
        g.started = time.monotonic()
        g.vendor = registry.for_path(request.path)
        if g.vendor is not None:
            return faults.inject(store, g.vendor)
        return None

    @app.after_request
    def _log_request(response):
        vendor = g.get("vendor")
        response.headers.update(rate_limits.answer_headers(vendor))
        if vendor is not None and g.get("fault_after_processing"):
            return faults.spoil_processed_answer(store, vendor, response)
        if vendor is not None and not g.get("logged"):
            try:
                requestlog.record(store, request, vendor.name, response.status_code,
                                  g.get("fault", False), g.get("started"))
                g.logged = True
            except Exception:  # the log must never break an answer
                log.exception("could not write the request log")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        vendor = registry.for_path(request.path)
        if vendor is None:
            return jsonify({"error": exc.description or exc.name}), exc.code
        body, headers = vendor.error_body(exc.code or 500, exc.name)
        return jsonify(body), exc.code, headers

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        vendor = registry.for_path(request.path)
        if vendor is None:
            return jsonify({"error": f"internal error: {exc}"}), 500
        body, headers = vendor.error_body(500, "Internal Server Error")
        return jsonify(body), 500, headers

    return app
