"""The recorded state handed to handlers (providers/handlers/base.py, `Recorded`): typed, lenient, and
never an output. The State's fields stay the resources' outputs; a recorded value that is no valid
declaration still loads (a refresh reports drift instead of failing); every state the committed
release fixtures hold loads into its handler's model, its values kept as they were recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from providers.handlers.account_features import FeaturesState
from providers.handlers.base import handler_of
from providers.handlers.domain_verification import VerificationState
from providers.handlers.sending_domain import SendingDomainState
from providers.handlers.sub_account import SubAccountState
from providers.platforms import names
from providers.resources.catalog import PROVIDERS, TYPE_PREFIX
from providers.resources.common import PROVIDER_KEY
from providers.resources.markers import MARKER_KEY

FIXTURES = Path(__file__).resolve().parents[1] / "e2e" / "fixtures"
HANDLERS = [(platform, kind, handler_of(platform, kind)) for platform in names() for kind in PROVIDERS
            if handler_of(platform, kind) is not None]


def test_the_outputs_are_the_states_fields_alone():
    """What decides which inputs a user may declare and what a review treats as computed."""
    assert SubAccountState.output_keys() == ("account_id", "status", "created_at", "owner_user_id", "lineage")
    assert FeaturesState.output_keys() == ()
    assert SendingDomainState.output_keys() == ("records", "verified", "dkim_key_id", "dkim_selector")
    assert VerificationState.output_keys() == ("records", "verified")
    for kind, provider in PROVIDERS.items():
        assert provider.output_keys == {"SubAccount": SubAccountState, "AccountFeatures": FeaturesState,
                                        "SendingDomain": SendingDomainState,
                                        "DomainVerification": VerificationState}[kind].output_keys(), kind


@pytest.mark.parametrize("platform, kind, handler", HANDLERS, ids=[f"{p}-{k}" for p, k, _ in HANDLERS])
def test_a_handlers_recorded_model_is_its_state_and_its_args_each_optional(platform, kind, handler):
    fields = handler.Recorded.model_fields
    inputs = (*handler.Args.model_fields, *((MARKER_KEY,) if kind == "SubAccount" else ()))
    assert handler.Recorded.input_keys == inputs
    assert list(fields) == [*handler.State.output_keys(), *inputs]
    assert all(not info.is_required() and info.default is None for info in fields.values())
    empty = handler.Recorded.model_validate({})
    assert empty.inputs() == dict.fromkeys(inputs)
    kept = handler.Recorded.model_validate({"an_input_of_an_earlier_release": 1})
    assert kept.model_dump(exclude_unset=True) == {"an_input_of_an_earlier_release": 1}


# A value each platform's declaration refuses, but that a read may record (what the platform says).
NO_VALID_DECLARATION = {
    ("cakemail", "SubAccount"): {"platform": "cakemail", "name": " ", "owner": {"email": "not an address"},
                                 "account_id": "1", MARKER_KEY: "ep1-x"},
    ("signupto", "SubAccount"): {"platform": "signupto", "name": "", "owner": {"email": ""}, "on_destroy": "later"},
    ("ciirus", "SubAccount"): {"platform": "ciirus", "initial": {"sending_domain": "not a host", "approved": 1}},
    ("sendgrid", "SubAccount"): {"platform": "sendgrid", "username": "no spaces allowed", "ips": ["not an ip"]},
    ("cakemail", "AccountFeatures"): {"platform": "cakemail", "account_id": "1", "features": {"per_month": -5}},
    ("sendgrid", "AccountFeatures"): {"platform": "sendgrid", "account_id": "a", "features": {"type": "weird"}},
    ("sendgrid", "SendingDomain"): {"platform": "sendgrid", "account_id": "a", "domain": "-bad-",
                                    "custom_dkim_selector": "toolong", "records": [{"name": "x"}]},
    ("cakemail", "DomainVerification"): {"platform": "cakemail", "account_id": "1", "domain": "a.example",
                                         "sending_domain_id": "k", "timeout_seconds": 0},
}


@pytest.mark.parametrize("platform, kind", NO_VALID_DECLARATION, ids=[f"{p}-{k}" for p, k in NO_VALID_DECLARATION])
def test_a_recorded_value_that_is_no_valid_declaration_still_loads_as_it_was(platform, kind):
    handler = handler_of(platform, kind)
    values = NO_VALID_DECLARATION[(platform, kind)]
    with pytest.raises(ValidationError):
        handler.Args.model_validate({k: v for k, v in values.items() if k in handler.Args.model_fields})
    recorded = handler.Recorded.model_validate(values)
    assert recorded.model_dump(exclude_unset=True) == values
    assert recorded.platform == platform  # attribute access, typed


def test_another_platforms_recorded_state_loads_for_the_hooks():
    """A declaration that switches platform: the new platform's handler sees the old state (check, diff)."""
    recorded = handler_of("sendgrid", "SubAccount").Recorded.model_validate(
        {"platform": "cakemail", "name": "Acme", "owner": {"email": "a@acme.example"}, "trial": False})
    assert recorded.platform == "cakemail" and recorded.username is None
    assert recorded.model_extra == {"name": "Acme", "owner": {"email": "a@acme.example"}, "trial": False}


def _fixture_resources():
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        for stack in json.loads(path.read_text())["stacks"].values():
            for resource in stack["state"]["deployment"]["resources"]:
                kind = resource["type"].removeprefix(TYPE_PREFIX)
                if kind in PROVIDERS:
                    found.append(pytest.param(kind, resource, id=f"{path.stem}-{resource['urn'].rsplit('::', 1)[-1]}"))
    return found


@pytest.mark.parametrize("kind, resource", _fixture_resources())
def test_every_state_a_release_recorded_loads_into_its_handlers_model(kind, resource):
    for props in (resource["outputs"], resource["inputs"]):
        handler = handler_of(props["platform"], kind)
        values = {k: v for k, v in props.items() if k != PROVIDER_KEY}
        assert handler.Recorded.model_validate(values).model_dump(exclude_unset=True) == values
