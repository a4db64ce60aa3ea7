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
template's salt and ciphertext (every bench user has the same password). That changes no cost:
`fleet drift` decrypts each identity's settings through the engine all the same (one `pulumi
config --show-secrets` each: the passphrase's key derivation is paid per process).
SendGrid customers (subusers of one parent; `platforms` includes "sendgrid") likewise share one
subuser password: the template's encrypted `customer.account.password` and the state's ciphertext
of it are copied, so the sweep reads them in its one pass as it reads any up's (operations/drift_secrets.py).
Their customer config is then a secret as a whole, which the state's default provider records
encrypted: each written stack's is encrypted by the engine with the template's salt, all in one
`pulumi config set-all` on the template's stack file (put back as it was afterwards).

Used by `python -m benchmarks fleet-drift` and by the tests of `fleet drift`'s sweep.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import yaml

from tests.vendors import fleet_partners, without_platform_settings  # the tests' partner set-up (its docstring says why)

REPO = Path(__file__).resolve().parents[1]
PROJECT = "email-partners"
PLATFORMS = ("cakemail", "signupto", "ciirus")
WITH_SENDGRID = PLATFORMS + ("sendgrid",)
CIIRUS_PASSWORD = "drift-bench-Ciirus-pw!"  # every bench API user has it: one ciphertext serves all stacks
SUBUSER_PASSWORD = "drift-bench-Subuser-pw!"  # every bench subuser has it, likewise
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the engine's marker of an encrypted value in state
SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"  # its value


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
    if platform == "sendgrid":  # usernames are unique across SendGrid: the parent's name in each
        return {"platform": "sendgrid", "features": {"type": "recurring", "limit": 10000, "reset_frequency": "monthly"},
                "account": {"username": f"{parent}-{tag}{n:04d}", "email": f"owner@{tag}{n:04d}.drift.example",
                            "ips": ["198.51.100.21"]},
                "sending_domains": [{"domain": f"send.{tag}{n:04d}.drift.example"}]}
    return {"platform": "ciirus", "account": {}, "features": {"daily_send_limit": 1000, "approved": True},
            "sending_domains": [{"domain": f"mail.{tag}{n:04d}.drift.example"}]}


def engine_json(props: dict[str, Any]) -> dict[str, Any]:
    """A property map as the engine records it: nulls at the top level dropped (the SDK never sends them)."""
    return json.loads(json.dumps({k: v for k, v in props.items() if v is not None}))


class DriftFleet:
    """A project copy on a file backend, with template stacks and written customers."""

    def __init__(self, root: Path, emulator_url: str, control, bin_dir: Path, passphrase: str = "drift-bench-pass"):
        self.root, self.url, self.control = root, emulator_url, control
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
        self._provider_config: dict[str, str] = {}  # stack -> its secret customer config's ciphertext

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
        username = f"{stack.split('.')[0]}-{os.getpid()}"
        self.control.post("/ciirus/users", {"username": username, "password": CIIRUS_PASSWORD})
        return username

    @property
    def sendgrid_parent(self) -> str:
        return self.vendor_env.get("SENDGRID_PARENT_USERNAME", "")

    def make_templates(self, platforms: tuple[str, ...] = PLATFORMS) -> None:
        """One real `pulumi up` per platform: the shape every written customer copies."""
        for platform in platforms:
            stack = f"tpl-{platform}.bench"
            config: dict[str, Any] = {"email-partners:customer": declaration(platform, 0, "tpl", self.sendgrid_parent)}
            self.stack_file(stack).write_text(yaml.safe_dump({"config": config}, sort_keys=False))
            self.pulumi("stack", "init", stack, "--no-select")
            if platform == "ciirus":
                self.pulumi("config", "set-all", "--stack", stack, "--plaintext",
                            f"ciirus:username={self.ciirus_user(stack)}", "--secret", f"ciirus:password={CIIRUS_PASSWORD}")
            if platform == "sendgrid":
                self.pulumi("config", "set", "--stack", stack, "--path", "--secret",
                            "email-partners:customer.account.password", SUBUSER_PASSWORD)
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
    def add_customers(self, count: int, tag: str = "c", workers: int = 4,
                      platforms: tuple[str, ...] = PLATFORMS) -> list[str]:
        """`count` customers, the platforms in turn (each needs its template)."""
        names = [f"{tag}{n:04d}-{platforms[n % len(platforms)]}.bench" for n in range(count)]
        secret = {name: self._provider_plaintext(declaration("sendgrid", n, tag, self.sendgrid_parent))
                  for n, name in enumerate(names) if platforms[n % len(platforms)] == "sendgrid"}
        self._provider_config.update(self._encrypted(secret, self.templates.get("sendgrid", {}).get("stack", "")))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda item: self._write(item[1], platforms[item[0] % len(platforms)], item[0], tag),
                          enumerate(names)))
        self.stacks += names
        return names

    @staticmethod
    def _provider_plaintext(customer: dict[str, Any]) -> str:
        """The customer config as the state's default provider records it (a JSON string, itself as JSON)."""
        account = {**customer["account"], "password": SUBUSER_PASSWORD}
        return json.dumps(json.dumps({**customer, "account": account}, sort_keys=True, separators=(",", ":")))

    def _encrypted(self, values: dict[str, str], stack: str) -> dict[str, str]:
        """Each value encrypted by the engine as `stack`'s secrets provider does (its salt: every written
        stack's): `pulumi config set-all --secret` on its stack file, then the file put back."""
        if not values:
            return {}
        path = self.stack_file(stack)
        original = path.read_text()
        keys = {name: f"{PROJECT}:bench-secret-{i}" for i, name in enumerate(values)}
        found: dict[str, str] = {}
        try:
            names = list(values)
            for start in range(0, len(names), 200):  # well under the command line's limit
                chunk = names[start:start + 200]
                self.pulumi("config", "set-all", "--stack", stack,
                            *[a for name in chunk for a in ("--secret", f"{keys[name]}={values[name]}")])
            written = yaml.safe_load(path.read_text())["config"]
            found = {name: written[key]["secure"] for name, key in keys.items()}
        finally:
            path.write_text(original)
        return found

    def _write(self, stack: str, platform: str, n: int, tag: str) -> None:
        from operations.drift.read import as_engine_passes, configured
        from operations.project.program import load_composition
        from providers.resources.catalog import engine_props
        from providers.resources.common import PROVIDER_KEY

        template = self.templates[platform]
        customer = declaration(platform, n, tag, self.sendgrid_parent)
        config: dict[str, Any] = {"email-partners:customer": customer}
        provider_config: dict[str, Any] = {}
        if platform == "sendgrid":  # the file holds the template's ciphertext; the providers get the password
            secure = template["file"]["config"]["email-partners:customer"]["account"]["password"]
            config = {"email-partners:customer": {**customer, "account": {**customer["account"], "password": secure}}}
            customer = {**customer, "account": {**customer["account"], "password": SUBUSER_PASSWORD}}
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
            # A secret the template's state holds encrypted (a subuser's password) is the same value: its ciphertext.
            encrypted = {k: v for side in ("inputs", "outputs") for k, v in record[side].items()
                         if isinstance(v, dict) and SECRET_SIG in v}
            record["inputs"] = {**engine_json({**checked.inputs, **blob}),
                                **{k: v for k, v in encrypted.items() if k in checked.inputs}}
            record["outputs"] = {**engine_json({**created.outs, **blob}),
                                 **{k: v for k, v in encrypted.items() if k in created.outs}}
            outputs_by_kind[item.kind] = record["outputs"]
            made[item.name] = record
        for record in resources:
            if record["type"] == "pulumi:providers:pulumi-python":
                encoded: Any = json.dumps(customer, sort_keys=True, separators=(",", ":"))
                if platform == "sendgrid":
                    encoded = {SECRET_SIG: SECRET_MARK, "ciphertext": self._provider_config[stack]}
                for side in ("inputs", "outputs"):
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
