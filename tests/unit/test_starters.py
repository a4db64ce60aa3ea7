"""`email-partners new` writes what it promises: every setting each platform's handlers accept, active
lines valid as written, optional lines commented out (and valid once uncommented)."""

from __future__ import annotations

import re

import pytest
import yaml

from operations.project.starters import ACCOUNT_OPTIONS, DOMAIN_OPTIONS, NOT_DECLARED, derived, starter
from providers.handlers.base import handler_of
from providers.platforms import names

PLATFORMS = names()
ACCOUNTS, FEATURES, DOMAINS = "SubAccount", "AccountFeatures", "SendingDomain"
OPTIONAL_LINE = re.compile(r"^(\s*)# (\w+:.*)$")


def declaration(text: str) -> dict:
    return yaml.safe_load("config:\n" + text)["config"]["email-partners:customer"]


def uncommented(text: str) -> str:
    return "\n".join(OPTIONAL_LINE.sub(r"\1\2", line) for line in text.splitlines())


def inputs(resource: str, platform: str):
    handler = handler_of(platform, resource)
    return handler.Args if handler is not None else None


def fields(model, skip=()) -> set[str]:
    """Every setting of a model, nested models as dotted names."""
    names = set()
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        nested = next((a for a in (field.annotation, *getattr(field.annotation, "__args__", ()))
                       if isinstance(a, type) and hasattr(a, "model_fields")), None)
        names |= {f"{name}.{n}" for n in fields(nested)} if nested else {name}
    return names


def keys(mapping: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in mapping.items():
        out |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) and value else {prefix + key}
    return out


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_starter_lists_every_setting_the_handlers_accept(platform):
    full = declaration(uncommented(starter(platform, "acme-bakery", "Acme Bakery")))
    account_model, domain_model = inputs(ACCOUNTS, platform), inputs(DOMAINS, platform)
    features_model = inputs(FEATURES, platform).model_fields["features"].annotation
    expected_account = fields(account_model, NOT_DECLARED | derived(platform)) | {n for n, *_ in ACCOUNT_OPTIONS}
    assert keys(full["account"]) == expected_account
    assert set(full["features"]) == fields(features_model)
    if domain_model is None:
        assert "sending_domains" not in full
    else:
        assert set(full["sending_domains"][0]) == fields(domain_model, NOT_DECLARED) | {n for n, *_ in DOMAIN_OPTIONS}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_starter_is_valid_as_written(platform, monkeypatch):
    """The active lines pass the program's declaration model and each handler's input model, so
    `pulumi preview` of a new stack fails only on what the user must replace; the features stay
    valid with every optional line uncommented."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "stacks"))
    from customer import CustomerDeclaration, account_settings

    text = starter(platform, "acme-bakery", "Acme Bakery")
    declared = CustomerDeclaration.model_validate(declaration(text))
    account = account_settings(declared)
    account.pop("allow_replace", None)
    inputs(ACCOUNTS, platform).model_validate({"platform": platform, **account})
    inputs(FEATURES, platform).model_validate({"platform": platform, "account_id": "1", "features": declared.features})
    for domain in declared.sending_domains:
        settings = {k: v for k, v in domain.items() if k not in {n for n, *_ in DOMAIN_OPTIONS}}
        inputs(DOMAINS, platform).model_validate({"platform": platform, "account_id": "1", **settings})
    every_feature = declaration(uncommented(text))["features"]
    inputs(FEATURES, platform).model_validate({"platform": platform, "account_id": "1", "features": every_feature})
