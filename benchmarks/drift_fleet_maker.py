"""A deployed fleet of N customers without N `pulumi up` runs: the state a real `up` writes, written directly.

One real `pulumi up` per platform gives the template (its checkpoint and stack file: URNs, parents,
the default provider with the stack's config, secrets provider, dependencies). Each further
customer is then made by the providers' own code in this process, exactly as the engine drives
it in an `up`: `check(olds={}, news=<the program's props>)`, then `create(<checked inputs>)`; the
engine records the checked inputs and the created outputs (top-level nulls dropped), which is what
is written into a copy of the template checkpoint, with the stack's name in its URNs. A sample of
the written stacks is previewed through the real CLI: it must show no change.

Each Ciirus customer has its own API user (one sub-account per user) with its password encrypted
in its stack file, as `pulumi config set --secret` leaves it; the written stacks copy the
template's salt and ciphertext (every bench user has the same password), as the stacks the tool
writes share their environment's salt (operations/project/writer.py): `fleet drift` decrypts each
identity's settings in its own process, with one passphrase key derivation for them all. A SendGrid
customer (with `platforms=ALL_PLATFORMS`) is a subuser whose password is encrypted in the stack file
the same way, and recorded in state as the template's ciphertext.

`record_updates` records the run history an `up` by the tool leaves (what it ran with: the one pass of
`fleet preview` and `fleet up` compares it, operations/changes/).

Used by `python -m benchmarks fleet-drift`, `fleet-changes` and by the tests of `fleet drift`'s sweep.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import yaml

from tests.vendors import fleet_partners, without_platform_settings  # the tests' partner set-up (its docstring says why)

REPO = Path(__file__).resolve().parents[1]
PROJECT = "email-partners"
PLATFORMS = ("cakemail", "signupto", "ciirus")
ALL_PLATFORMS = (*PLATFORMS, "sendgrid")
CIIRUS_PASSWORD = "drift-bench-Ciirus-pw!"  # every bench API user has it: one ciphertext serves all stacks
SENDGRID_PASSWORD = "Drift-bench-Subuser-pw1"  # every bench subuser has it (its ciphertext copied, as above)


def declaration(platform: str, n: int, tag: str, parent: str = "") -> dict[str, Any]:
    if platform == "cakemail":
        return {"platform": "cakemail", "features": {"per_month": 20000},
                "account": {"name": f"Drift {tag} {n:04d}", "owner": {"email": "owner@drift.example",
                                                                       "first_name": "D", "last_name": "B"}},
                "sending_domains": [{"domain": f"news.{tag}{n:04d}.drift.example"}]}
    if platform == "signupto":
        return {"platform": "signupto", "features": {"list_limit": 250, "enablesms": False},
                "account": {"name": f"Drift {tag} {n:04d}", "owner": {"email": "owner@drift.example",
                                                                       "timezone": "Europe/London"},
                            "on_destroy": "keep"}}
    if platform == "sendgrid":
        return {"platform": "sendgrid", "features": {"type": "recurring", "limit": 10000, "reset_frequency": "monthly"},
                "account": {"username": f"{parent}-{tag}{n:04d}", "email": "ops@drift.example",
                            "ips": ["198.51.100.21"]},
                "sending_domains": [{"domain": f"send.{tag}{n:04d}.drift.example"}]}
    return {"platform": "ciirus", "account": {}, "features": {"daily_send_limit": 1000, "approved": True},
            "sending_domains": [{"domain": f"mail.{tag}{n:04d}.drift.example"}]}


def engine_json(props: dict[str, Any]) -> dict[str, Any]:
    """A property map as the engine records it: nulls at the top level dropped (the SDK never sends them)."""
    return json.loads(json.dumps({k: v for k, v in props.items() if v is not None}))


class DriftFleet:
    """A project copy on a file backend, with template stacks and written customers."""

    def __init__(self, root: Path, emulator_url: str, control, bin_dir: Path, passphrase: str = "drift-bench-pass",
                 platforms: tuple[str, ...] = PLATFORMS):
        self.root, self.url, self.control, self.platforms = root, emulator_url, control, platforms
        self.tag = uuid.uuid4().hex[:6]  # API user names of this fleet (two fleets of a session share an emulator)
        (root / "stacks").mkdir(parents=True)
        (root / "home").mkdir()
        (root / "state").mkdir()
        shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
        self.use_program()
        self.vendor_env = fleet_partners(control, "drift").env
        env = without_platform_settings(os.environ, "PULUMI_")
        env.update(PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                   PULUMI_HOME=str(root / "home"), PULUMI_BACKEND_URL=(root / "state").as_uri(),
                   PULUMI_CONFIG_PASSPHRASE=passphrase, PULUMI_SKIP_UPDATE_CHECK="true",
                   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true", PULUMI_BIN_DIR=str(bin_dir), **self.vendor_env)
        self.env = env
        self.templates: dict[str, dict[str, Any]] = {}
        self.stacks: list[str] = []
        self.platform_of: dict[str, str] = {}

    def use_program(self, program_dir: Optional[Path] = None) -> None:
        """The project's program, or the one in `program_dir` (an older release's stacks/*.py)."""
        for src in ((program_dir or REPO / "stacks")).glob("*.py"):
            shutil.copy(src, self.root / "stacks" / src.name)

    # --- the real engine ------------------------------------------------------------------------------
    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=self.root, env=self.env,
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)}: {(result.stderr or result.stdout)[-2000:]}")
        return result

    def ciirus_user(self, stack: str) -> str:
        username = f"{stack.split('.')[0]}-{self.tag}"
        self.control.post("/ciirus/users", {"username": username, "password": CIIRUS_PASSWORD})
        return username

    def make_templates(self) -> None:
        """One real `pulumi up` per platform: the shape every written customer copies."""
        for platform in self.platforms:
            stack = f"tpl-{platform}.bench"
            config: dict[str, Any] = {"email-partners:customer": declaration(platform, 0, "tpl", self.parent)}
            self.stack_file(stack).write_text(yaml.safe_dump({"config": config}, sort_keys=False))
            self.pulumi("stack", "init", stack, "--no-select")
            if platform == "ciirus":
                self.pulumi("config", "set-all", "--stack", stack, "--plaintext",
                            f"ciirus:username={self.ciirus_user(stack)}", "--secret", f"ciirus:password={CIIRUS_PASSWORD}")
            if platform == "sendgrid":
                self.pulumi("config", "set", "--stack", stack, "--path", "--secret",
                            "email-partners:customer.account.password", SENDGRID_PASSWORD)
            self.pulumi("up", "--yes", "--skip-preview", "--stack", stack)
            history = next((self.root / "state" / ".pulumi" / "history" / PROJECT / stack).glob("*.history.json"))
            self.templates[platform] = {"checkpoint": json.loads(self.checkpoint_path(stack).read_text()),
                                        "file": yaml.safe_load(self.stack_file(stack).read_text()), "stack": stack,
                                        "history": json.loads(history.read_text())}
            self.stacks.append(stack)
            self.platform_of[stack] = platform

    def stack_file(self, stack: str) -> Path:
        return self.root / "stacks" / f"Pulumi.{stack}.yaml"

    def checkpoint_path(self, stack: str) -> Path:
        return self.root / "state" / ".pulumi" / "stacks" / PROJECT / f"{stack}.json"

    # --- written customers ----------------------------------------------------------------------------
    @property
    def parent(self) -> str:
        """The SendGrid parent account's username (its subusers' names start with it)."""
        return self.vendor_env.get("SENDGRID_PARENT_USERNAME", "")

    def add_customers(self, count: int, tag: str = "c", workers: int = 4) -> list[str]:
        platforms = self.platforms
        names = [f"{tag}{n:04d}-{platforms[n % len(platforms)]}.bench" for n in range(count)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda item: self._write(item[1], platforms[item[0] % len(platforms)], item[0], tag),
                          enumerate(names)))
        self.stacks += names
        return names

    def _write(self, stack: str, platform: str, n: int, tag: str) -> None:
        from operations.drift.read import as_engine_passes, configured
        from operations.project.program import load_composition
        from providers.resources.catalog import engine_props
        from providers.resources.common import PROVIDER_KEY

        template = self.templates[platform]
        customer = declaration(platform, n, tag, self.parent)
        config: dict[str, Any] = {"email-partners:customer": customer}
        provider_config: dict[str, Any] = {}
        secret_inputs: dict[str, Any] = {}  # an account setting Pulumi keeps encrypted: the template's ciphertext
        if platform == "sendgrid":
            recorded = next(r for r in template["checkpoint"]["checkpoint"]["latest"]["resources"]
                            if r["type"].endswith(":SubAccount"))
            secret_inputs = {"password": recorded["inputs"]["password"]}
            config["email-partners:customer"] = {**customer, "account": {
                **customer["account"], "password": template["file"]["config"]["email-partners:customer"]["account"]["password"]}}
            customer = {**customer, "account": {**customer["account"], "password": SENDGRID_PASSWORD}}
        if platform == "ciirus":
            username = self.ciirus_user(stack)
            config["ciirus:username"] = username
            config["ciirus:password"] = template["file"]["config"]["ciirus:password"]
            provider_config = {"ciirus:username": username, "ciirus:password": CIIRUS_PASSWORD}
        old_name = template["stack"]
        deployment = json.loads(json.dumps(template["checkpoint"]).replace(old_name, stack))
        resources = deployment["checkpoint"]["latest"]["resources"]
        by_kind = {r["type"].rsplit(":", 1)[-1]: r for r in resources if r["type"].startswith("pulumi-python:dynamic/")}
        composition = load_composition(self.root)
        made: dict[str, dict] = {}  # resource name -> its record, for the props linked to it
        outputs_by_kind: dict[str, dict] = {}
        for item in composition.plan(stack, composition.CustomerDeclaration.model_validate(customer)):
            record = by_kind[item.kind]
            record["urn"] = f"{record['urn'].rsplit('::', 1)[0]}::{item.name}"  # a domain's name follows its domain
            props = dict(item.props)
            for key, (source, attribute) in item.links.items():
                props[key] = made[source]["id"] if attribute == "id" else made[source]["outputs"].get(attribute)
            props = engine_props(item.kind, PROJECT, stack, item.name, **props)
            provider = configured(item.kind, {**self._env_config(), **provider_config}, PROJECT)
            blob = {PROVIDER_KEY: record["inputs"][PROVIDER_KEY]}
            checked = provider.check({}, as_engine_passes({**props, **blob}))
            if checked.failures:
                raise RuntimeError(f"{stack}: {[(f.property, f.reason) for f in checked.failures]}")
            created = provider.create(as_engine_passes({**checked.inputs, **blob}))
            record["id"] = created.id
            record["inputs"] = engine_json({**checked.inputs, **blob})
            record["outputs"] = engine_json({**created.outs, **blob})
            if item.kind == "SubAccount":
                for key, value in secret_inputs.items():
                    record["inputs"][key] = value
                    if key in record["outputs"]:
                        record["outputs"][key] = value
            outputs_by_kind[item.kind] = record["outputs"]
            made[item.name] = record
        for record in resources:
            if record["type"] == "pulumi:providers:pulumi-python":
                encoded = json.dumps(customer, sort_keys=True, separators=(",", ":"))
                for side in ("inputs", "outputs"):
                    if not secret_inputs:  # a declaration holding a secret stays the template's ciphertext
                        record[side]["email-partners:customer"] = encoded
                    if platform == "ciirus":
                        record[side]["ciirus:username"] = config["ciirus:username"]
            elif record["type"] == "pulumi:pulumi:Stack":
                record["outputs"] = self._stack_outputs(platform, outputs_by_kind)
        file = copy.deepcopy(template["file"])
        file["config"] = config
        self.stack_file(stack).write_text(yaml.safe_dump(file, sort_keys=False))
        path = self.checkpoint_path(stack)
        path.write_text(json.dumps(deployment, indent=4))
        # The update's record, as `up` leaves it (the Automation API reads the last one after a refresh).
        history = self.root / "state" / ".pulumi" / "history" / PROJECT / stack
        history.mkdir(parents=True, exist_ok=True)
        record = {**template["history"], "config": {k: v for k, v in config.items() if not isinstance(v, dict)
                                                     or k == "email-partners:customer"}}
        (history / f"{stack}-{time.time_ns()}.history.json").write_text(json.dumps(record))
        self.platform_of[stack] = platform

    def record_updates(self, stacks: list[str]) -> None:
        """The run history a `fleet up` of these stacks leaves: one succeeded `up` each, with what it ran with
        (operations/changes/basis.py, the tool's own recording; the environment files must be written first)."""
        from operations.changes.basis import Digests, with_bases
        from operations.engine.automation import policy_pack_of
        from operations.fleet.models import CustomerResult, FleetReport, now_utc
        from operations.fleet.record import record_report
        from operations.project.stacks import load_stack

        loaded = [load_stack(self.root, s) for s in stacks]
        results = [CustomerResult(stack=s.name, customer=s.customer, platform=s.platform, environment=s.environment,
                                  operation="up", result="changes") for s in loaded]
        with_bases(results, loaded, self.root, self.env, Digests(self.root, policy_pack_of(self.root)), True)
        report = FleetReport(operation="up", started_at=now_utc(), duration_seconds=0.0, parallel=1, exit_status=0,
                             customers=results)
        assert record_report(report, self.root, self.env), "the run history was not recorded"

    def _env_config(self) -> dict[str, str]:
        from providers.platforms import described
        from providers.platforms.settings import provider_settings

        return {s.config_key: self.vendor_env[s.env_var] for platform in described()
                for s in provider_settings(platform) if s.env_var in self.vendor_env}

    @staticmethod
    def _stack_outputs(platform: str, outputs: dict[str, dict]) -> dict[str, Any]:
        """The program's exports (stacks/__main__.py) from the resources' outputs."""
        account = outputs["SubAccount"]
        result: dict[str, Any] = {"platform": platform, "account_id": account["account_id"]}
        if account.get("status") is not None:
            result["account_status"] = account["status"]
        if account.get("created_at") is not None:
            result["account_created_at"] = account["created_at"]
        if "AccountFeatures" in outputs:
            result["features"] = outputs["AccountFeatures"]["features"]
        if "SendingDomain" in outputs:
            domain = outputs["SendingDomain"]
            result["dns_records"] = domain["records"]
            result["domains_verified"] = {domain["domain"]: domain["verified"]}
        return result

    def previews_clean(self, stacks: list[str]) -> dict[str, dict]:
        """`pulumi preview --json` of each: its change summary (the engine's own word on the written state)."""
        summaries = {}
        for stack in stacks:
            result = self.pulumi("preview", "--json", "--stack", stack)
            summaries[stack] = json.loads(result.stdout).get("changeSummary", {})
        return summaries
