"""One owner per vendor object, at create: what a provider can check without seeing the state backend.

A create that would take over an existing object (an adoption by id, a SendGrid username, a Ciirus
API user's one sub-account, the DKIM key of an adopted account's domain) is refused before any
request when the ownership index the tool last wrote for this backend names another stack as its
owner (providers/ownership.py); and a create that recognised an object as the one an interrupted
run of its own made (providers/resources/markers.py) is refused after the fact when that object
turns out to be another stack's, so that the engine records nothing. The take-over of exactly that
stack by `email-partners take-over` (TAKE_OVER_VARIABLE) is let through.

The stack is read from the create's URN: the dynamic-provider server hands the provider no more
than the inputs, so the gRPC request of the servicer method that is running (pulumi/dynamic/
__main__.py: `Create(self, request, context)`) is found among the caller frames, as provider.py finds
its `context` (the SDK's private behaviour: tests/unit/test_engine_wording.py fails when it changes).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from ..handlers.base import Refused
from ..ownership import (TAKE_OVER_VARIABLE, ManagedBy, OwnershipIndex, backend_label, backend_url,
                         claimed_objects, index_here, login_of, recorded_objects, refusal)
from .diagnostics import servicer_call


def servicer_urn() -> Optional[str]:
    """The URN of the engine call being served (CreateRequest.urn of diagnostics.servicer_call's request)."""
    request, _ = servicer_call()
    urn = getattr(request, "urn", None)
    return urn if isinstance(urn, str) and urn.startswith("urn:pulumi:") else None


def managed_by(urn: Optional[str], environ: Optional[Mapping[str, str]] = None) -> Optional[ManagedBy]:
    """Who a create works for: the project and stack of its URN (`urn:pulumi:<stack>::<project>::...`)
    and the state backend the engine was started with."""
    if not urn:
        return None
    stack, _, rest = urn[len("urn:pulumi:"):].partition("::")
    project = rest.partition("::")[0]
    return ManagedBy(project=project, stack=stack, backend=backend_label(backend_url(environ)))


class CreateGuard:
    """The ownership checks of one create (see the module docstring)."""

    def __init__(self, platform: str, kind: str, config: Mapping[str, Any],
                 environ: Optional[Mapping[str, str]] = None, urn: Optional[str] = None):
        self.platform, self.kind = platform, kind
        self.environ = os.environ if environ is None else environ
        self.owner = managed_by(urn or servicer_urn(), self.environ)
        self.login = login_of(platform, config, self.environ)
        self.index: Optional[OwnershipIndex] = index_here(self.environ)

    def _refuse_taken(self, objects) -> None:
        if self.index is None or self.owner is None:
            return
        for obj in objects:
            others = self.index.others_than(obj, self.owner.stack, self.environ.get(TAKE_OVER_VARIABLE))
            if others:
                raise Refused(refusal(obj, others, self.index, self.owner.stack))

    def before(self, props: Mapping[str, Any]) -> None:
        """Refuse to take over an object another stack of this backend manages (nothing is sent)."""
        self._refuse_taken(claimed_objects(self.platform, self.kind, props, props.get("account_id"), self.login))

    def managed_elsewhere(self, resource_id: str) -> bool:
        """Whether another stack manages the object this resource would record under `resource_id` (a
        candidate its create would recognise as an interrupted run's)."""
        if self.index is None or self.owner is None:
            return False
        # By the id alone (no login: what a login identifies, any create of it is checked `before`).
        objects = recorded_objects(self.platform, self.kind, resource_id, {"account_id": resource_id},
                                   {"account_id": resource_id})
        taking_over_from = self.environ.get(TAKE_OVER_VARIABLE)
        return any(self.index.others_than(obj, self.owner.stack, taking_over_from) for obj in objects)

    def after(self, resource_id: str, recorded: Mapping[str, Any]) -> None:
        """Refuse a create whose result is another stack's object (recognised as this resource's own):
        the engine then records nothing, and that stack stays its only owner."""
        try:
            self._refuse_taken(recorded_objects(self.platform, self.kind, resource_id, recorded, recorded, self.login))
        except Refused as exc:
            raise Refused(f"this create found an existing object and took it for the one an interrupted run of "
                          f"this resource made, but {exc}") from None
