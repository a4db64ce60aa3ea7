"""Helpers for the environment tests: a project with environment files, the `email-partners` tool
run as a user runs it, and many stacks driven through the real `pulumi` CLI two at a time."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import yaml

from .pulumi_cli import PulumiProject, Result


def write_environment(project: PulumiProject, name: str, providers: dict, copies: dict | None = None) -> None:
    folder = project.root / "stacks" / "environments"
    folder.mkdir(exist_ok=True)
    spec = {"description": f"test environment {name}", "providers": providers, **({"copies": copies} if copies else {})}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def tool(project: PulumiProject, *args: str, env: dict | None = None, bin_dir: Path | None = None) -> Result:
    """`email-partners ...` in the project, with the test's backend, passphrase and credentials."""
    full_env = {**project.env, **(env or {})}
    if bin_dir:
        full_env["PULUMI_BIN_DIR"] = str(bin_dir)
    cmd = [sys.executable, "-m", "operations", "--project-dir", str(project.root), *args]
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=600)
    return Result(cmd, proc.returncode, proc.stdout, proc.stderr)


def on_stacks(project: PulumiProject, stacks: Iterable[str], *args: str, workers: int = 2) -> dict[str, Result]:
    """The same pulumi command on many stacks, `workers` at a time (each stack has its own lock)."""
    def run(stack: str) -> Result:
        return project.run(*args, "--stack", stack)

    stacks = list(stacks)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(stacks, pool.map(run, stacks)))


def writes(requests: list[dict], keep: Callable[[dict], bool] = lambda r: True) -> list[tuple[str, str]]:
    """Every request that could change something (token requests are reads of a kind)."""
    return [(r["method"], r["path"]) for r in requests
            if r["method"] in ("POST", "PUT", "PATCH", "DELETE") and not r["path"].endswith("/token") and keep(r)]


def settings_of(platform: str, partner: dict) -> tuple[dict, dict[str, str], dict[str, str], dict[str, str]]:
    """A partner (tests/vendors) as an environment file's provider settings (secrets by variable), those
    variables' values, and as stack config (plain, secret)."""
    from providers.platforms import describe
    from providers.platforms.settings import provider_settings

    providers, variables, plain, secret = {}, {}, {}, {}
    for setting in provider_settings(describe(platform)):
        if setting.name not in partner:
            continue
        value = str(partner[setting.name])
        if setting.secret:
            variables[f"E2E_{setting.env_var}"] = value
            providers[setting.key] = {"env": f"E2E_{setting.env_var}"}
            secret[setting.config_key] = value
        else:
            providers[setting.key] = plain[setting.config_key] = value
    return providers, variables, plain, secret


def sample_stack(project: PulumiProject, stack: str, platform: str, partner: dict, **account) -> dict:
    """A stack of the platform's sample customer (tests/vendors) with its partner's settings in its own config
    (secrets encrypted, as the README says) and `account` settings added; the declaration."""
    from ..vendors import vendor

    _, _, plain, secret = settings_of(platform, partner)
    project.run("stack", "init", stack)
    project.run("config", "set-all", "--stack", stack, *(a for k, v in plain.items() for a in ("--plaintext", f"{k}={v}")),
                *(a for k, v in secret.items() for a in ("--secret", f"{k}={v}")))
    declared = vendor(platform).sample(partner, False)
    declared["account"].update(account)
    path = project.root / "stacks" / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"]["email-partners:customer"] = declared
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    for key, value in vendor(platform).SECRETS.items():
        project.run("config", "set", "--stack", stack, "--path", "--secret", f"email-partners:customer.{key}", value)
    return declared
