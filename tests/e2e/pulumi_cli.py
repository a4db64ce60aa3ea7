"""Drive the real `pulumi` CLI on a throw-away copy of the project, fully offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tracked import copy_tracked, tracked
from ..vendors import stack_config, without_platform_settings


REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-test-passphrase"


def copy_program(root: Path) -> None:
    """Pulumi.yaml and the program (stacks/*.py), as git tracks them: never a user's own files."""
    copy_tracked(root, "Pulumi.yaml", *(str(p) for p in tracked("stacks") if p.suffix == ".py" and len(p.parts) == 2))


def copy_policies(root: Path) -> Path:
    """The policy pack as git tracks it (a user's own settings files stay out); its folder in `root`."""
    copy_tracked(root, "policies")
    return root / "policies"


def engine_bin_dir() -> Path:
    """The engine installed by scripts/install-pulumi.sh (or an official one on PATH)."""
    explicit = os.environ.get("PULUMI_BIN_DIR")
    if explicit:
        return Path(explicit)
    result = subprocess.run(["bash", str(REPO / "scripts" / "install-pulumi.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"cannot find or build the pulumi engine:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class PulumiError(AssertionError):
    pass


class PulumiProject:
    """A copy of Pulumi.yaml and stacks/*.py in a temp dir, with its own PULUMI_HOME and file backend."""

    def __init__(self, root: Path, bin_dir: Path, stack: str = "test"):
        self.root, self.stack = root, stack
        (root / "stacks").mkdir(parents=True)
        copy_program(root)
        (root / "state").mkdir()
        (root / "home").mkdir()
        venv_bin = Path(sys.executable).parent
        env = without_platform_settings(os.environ, "PULUMI_")
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            PULUMI_HOME=str(root / "home"),
            PULUMI_BACKEND_URL=(root / "state").as_uri(),
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_SKIP_CONFIRMATIONS="true",
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.run("stack", "init", stack)

    @property
    def stack_file(self) -> Path:
        return self.root / "stacks" / f"Pulumi.{self.stack}.yaml"

    def run(self, *args: str, check: bool = True, timeout: float = 300, env: dict | None = None) -> Result:
        cmd = ["pulumi", *args, "--non-interactive"]
        proc = subprocess.run(cmd, cwd=self.root, env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)
        result = Result(cmd, proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise PulumiError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{result.output[-6000:]}")
        return result

    # --- configuration -------------------------------------------------------------------------
    def set_config(self, key: str, value: str, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), key, value)

    def set_customer(self, customer: dict) -> None:
        # `set-all --json` (the format of `pulumi config --json`) stores the object whole.
        payload = {"email-partners:customer": {"value": json.dumps(customer), "objectValue": customer, "secret": False}}
        self.run("config", "set-all", "--json", json.dumps(payload))

    # --- operations ----------------------------------------------------------------------------
    def up(self, *extra: str, check: bool = True) -> Result:
        return self.run("up", "--yes", "--skip-preview", *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> Result:
        return self.run("preview", *extra, check=check)

    def preview_json(self, *extra: str) -> dict:
        return self.run("preview", "--json", *extra).json()

    def refresh(self, *extra: str) -> Result:
        return self.run("refresh", "--yes", "--skip-preview", *extra)

    def destroy(self, *extra: str, check: bool = True) -> Result:
        return self.run("destroy", "--yes", "--skip-preview", *extra, check=check)

    def outputs(self) -> dict:
        return self.run("stack", "output", "--json", "--show-secrets").json()

    def export(self) -> dict:
        return self.run("stack", "export").json()

    def resources(self, type_suffix: str) -> list[dict]:
        return [r for r in self.export()["deployment"].get("resources", []) if r["type"].endswith(type_suffix)]


def platform_project(root: Path, bin_dir: Path, platform: str, partner: dict[str, Any]) -> PulumiProject:
    """A project whose stack config holds a test partner's settings (tests/vendors), secrets as secrets."""
    project = PulumiProject(root, bin_dir)
    plain, secret = stack_config(platform, partner)
    project.run("config", "set-all", *(a for k, v in plain.items() for a in ("--plaintext", f"{k}={v}")),
                *(a for k, v in secret.items() for a in ("--secret", f"{k}={v}")))  # one run for them all
    return project


def steps_by_op(preview: dict) -> dict[str, list[str]]:
    """{op: ["SubAccount::name", ...]} from `pulumi preview --json` (type without its package)."""
    ops: dict[str, list[str]] = {}
    for step in preview.get("steps", []):
        *_, type_, name = step["urn"].split("::")
        ops.setdefault(step["op"], []).append(type_.split("$")[-1].split(":")[-1] + "::" + name)
    return ops


def resource_summary(output: str) -> list[str]:
    """The lines of the "Resources:" block of an up/preview/refresh, e.g. ["3 unchanged"]."""
    lines = output.split("Resources:", 1)[1].strip("\n").splitlines()
    block = []
    for line in lines:
        if not line.strip():
            break
        block.append(line.strip())
    return block
