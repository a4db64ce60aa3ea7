"""The "Adding a platform" recipe of providers/README.md, proved: a made-up vendor ("notes") defined here,
in a package of its own (a client, a description, handlers), and registered with one line, reaches every
list the project derives from the registry, and its resources run, without any other file changed.

The registration line is made in a fresh interpreter before the tool or the program is imported (as
the line in providers/platforms/__init__.py would be), which then reports what it sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PACKAGE = {
    "__init__.py": '"""Notes: a made-up vendor, one package holding its three layers."""\n',
    # The client layer: what the vendor's API does (here in memory).
    "client.py": '''
        import itertools

        SERVER = {}  # the vendor's side: every client of a workspace sees the same accounts
        IDS = itertools.count(1)

        class NotesClient:
            def __init__(self, api_url, workspace, token):
                self.api_url, self.workspace, self._token = api_url, workspace, token
                self.accounts, self.primed = SERVER.setdefault(workspace, {}), 0

            def whoami(self):
                if self._token != "good-token":
                    from providers.http import ApiError
                    raise ApiError("notes", "GET", "/me", 401, "bad token")

            def create(self, name):
                account_id = f"n-{next(IDS)}"
                self.accounts[account_id] = {"name": name, "notes_per_day": 10}
                return account_id

            def prime(self):
                self.primed += 1
                return len(self.accounts)
    ''',
    # The description: what the platform is.
    "platform.py": '''
        from typing import Annotated
        from pydantic import SecretStr
        from providers.platforms.description import DiscoveredAccount, Discovery, Platform, ReviewDanger, Starter
        from providers.platforms.settings import DEFAULT_TIMEOUT_SECONDS, ApiUrl, PlatformSettings, Seconds, Setting

        class NotesSettings(PlatformSettings):
            api_url: ApiUrl = "https://api.notes.example"
            workspace: Annotated[str, Setting(login=True)]
            token: SecretStr
            timeout_seconds: Seconds = DEFAULT_TIMEOUT_SECONDS

        def client(settings, retry):
            from .client import NotesClient
            return NotesClient(settings.api_url, settings.workspace, settings.token.get_secret_value())

        def discover(client, settings, page_size, features):
            return [DiscoveredAccount(i, a["name"], {"platform": "notes", "account": {"name": a["name"]},
                                                      "features": {k: v for k, v in a.items() if k in features}})
                    for i, a in client.accounts.items()]

        PLATFORM = Platform(
            name="notes", title="Notes", settings=NotesSettings, client=client,
            verify_credentials=lambda client: client.whoami(),
            handlers={"SubAccount": "notes_vendor.handlers:NotesSubAccount",
                      "AccountFeatures": "notes_vendor.handlers:NotesAccountFeatures"},
            starter=Starter(account={"name": "{title}"}, features={"notes_per_day": 5}),
            discovery=Discovery(discover, notes=("Notes shows everything",)),
            prime_reads=lambda client, max_age: client.prime(),
            dangers=(ReviewDanger("notes-shared", ("AccountFeatures",), ("update",), "notes share one quota"),),
            secret_account_settings=("pin",),
            owner_email_settings=("contact",),
            unique_account_settings=("handle",),
        )
    ''',
    # The handlers: what the platform does.
    "handlers.py": '''
        from typing import Literal, Optional
        from pydantic import BaseModel, ConfigDict, Field
        from providers.handlers.account_features import FeaturesHandler, features_args
        from providers.handlers.base import Gone
        from providers.handlers.sub_account import SubAccountHandler, SubAccountState

        class NotesSubAccountArgs(BaseModel):
            model_config = ConfigDict(extra="forbid")
            platform: Literal["notes"]
            name: str = Field(description="the workspace's name")
            contact: Optional[str] = None
            handle: Optional[str] = None
            pin: Optional[str] = None

        class NotesSubAccount(SubAccountHandler):
            platform = "notes"
            Args = NotesSubAccountArgs

            def create(self, args, marker):
                account_id = self.client.create(args.name)
                return account_id, SubAccountState(**args.model_dump(), account_id=account_id, status="open")

            def read(self, id_, recorded):
                account = self.client.accounts.get(id_)
                if account is None:
                    return None
                return SubAccountState(platform="notes", name=account["name"], account_id=id_, status="open")

            def update(self, id_, recorded, args):
                if id_ not in self.client.accounts:
                    raise Gone(f"notes account {id_} no longer exists")
                self.client.accounts[id_]["name"] = args.name
                return SubAccountState(**args.model_dump(), account_id=id_, status="open")

            def delete(self, id_, recorded):
                self.client.accounts.pop(id_, None)

        class NotesFeatures(BaseModel):
            model_config = ConfigDict(extra="forbid")
            notes_per_day: Optional[int] = Field(None, ge=0)

        class NotesAccountFeatures(FeaturesHandler):
            platform = "notes"
            Args = features_args(platform, NotesFeatures)

            def remote(self, account_id):
                account = self.client.accounts.get(account_id)
                return None if account is None else {"notes_per_day": account["notes_per_day"]}

            def apply(self, account_id, changes):
                self.client.accounts[account_id].update(changes)
                return self.remote(account_id)
    ''',
}

OBSERVE = '''
import json, os, sys
from pathlib import Path

import providers.platforms
providers.platforms.REGISTRY["notes"] = "notes_vendor.platform"   # the one registration line

sys.path.insert(0, str(Path.cwd() / "stacks"))
from pulumi.dynamic import Config, ConfigureRequest
from operations.cli import main
from operations.drift.identities import identity_of
from operations.project.environments import EnvironmentFile, EnvironmentError_, Environment
from operations.customers.discover import discover_accounts
from operations.project.stacks import CustomerStack
from operations.review.models import KINDS, ResourceChange
from operations.review.plan import dangers_of
from operations.project.writer import PROVIDER_KEYS
from operations.project.starters import starter
from operations.status.read import comparison_config
from policies import rules
from providers.platforms.clients import shared_client
from providers.platforms.credentials import check_credentials
from providers.resources.account_features import AccountFeaturesProvider
from providers.resources.sending_domain import SendingDomainProvider
from providers.resources.sub_account import SubAccountProvider
import customer

seen = {}
choices = lambda command, option: next(p.type.choices for p in main.get_command(None, command).params if p.name == option)
seen["cli"] = {"new": list(choices("new", "platform")), "discover": list(choices("discover", "platform")),
               "acknowledge": list(choices("review", "acknowledged"))}
spec = EnvironmentFile.model_validate({"providers": {"notes": {"apiUrl": "http://127.0.0.1:1/notes", "workspace": "w1",
                                                               "token": {"env": "NOTES_TOKEN"}}},
                                       "request_budgets": {"notes": {"concurrency": 2}}})
environment = Environment("qa", Path("qa.yaml"), spec)
seen["environment"] = [(e.key, e.value, e.env_var) for e in environment.provider_entries("notes")]
try:
    EnvironmentFile.model_validate({"providers": {"notes": {"apiUrl": "x", "workspace": "w", "token": "in-clear"}}})
except ValueError as exc:
    seen["token_in_clear"] = str(exc)
seen["provider_keys"] = sorted(k for k in PROVIDER_KEYS if k.startswith("notes:"))
seen["starter"] = starter("notes", "acme", "Acme")

config = {"notes:apiUrl": "http://127.0.0.1:1/notes", "notes:workspace": "w1", "notes:token": "good-token"}
provider = SubAccountProvider()
provider.configure(ConfigureRequest(Config(config, "email-partners")))
checked = provider.check({}, {"platform": "notes", "name": "Acme"})
created = provider.create(checked.inputs)
read = provider.read(created.id, created.outs)
features = AccountFeaturesProvider()
features.configure(ConfigureRequest(Config(config, "email-partners")))
made = features.create(features.check({}, {"platform": "notes", "account_id": created.id,
                                           "features": {"notes_per_day": 3}}).inputs)
unconfigured = SubAccountProvider()
unconfigured.configure(ConfigureRequest(Config({"notes:workspace": "w1"}, "email-partners")))
seen["provider"] = {"failures": [(f.property, f.reason) for f in checked.failures], "id": created.id,
                    "read": read.outs["name"], "features": made.outs["features"],
                    "diff": provider.diff(created.id, created.outs, {**checked.inputs, "name": "Acme 2"}).changes,
                    "settings": [f.reason for f in unconfigured.check({}, {"platform": "notes", "name": "A"}).failures],
                    "no_domains": SendingDomainProvider().check({}, {"platform": "notes", "account_id": "1",
                                                                     "domain": "a.example"}).failures[0].reason,
                    "unknown": SubAccountProvider().check({}, {"platform": "nope"}).failures[0].reason}
client = shared_client("notes", config)
seen["client"] = [type(client).__name__, client is shared_client("notes", dict(config))]
os.environ["NOTES_TOKEN"] = "good-token"
seen["discovered"] = [(d.account_id, d.declaration) for d in discover_accounts(environment, "notes", 50)]
seen["credentials"] = [check_credentials("notes", config), check_credentials("notes", {**config, "notes:token": "bad"})[0]]
change = ResourceChange(resource="AccountFeatures", name="acme-features", op="update")
seen["dangers"] = [(d.kind, d.reason, d.acknowledge_with) for d in dangers_of(change, "notes", {}, {}, set())]
declaration = customer.CustomerDeclaration.model_validate({"platform": "notes", "account": {"name": "Acme"},
                                                           "features": {"notes_per_day": 3}})
seen["program"] = [(r.kind, r.name) for r in customer.plan("acme.qa", declaration)]
try:
    customer.CustomerDeclaration.model_validate({"platform": "notes", "sending_domains": [{"domain": "a.example"}]})
except ValueError as exc:
    seen["program_refuses"] = str(exc)
stack = CustomerStack("acme.qa", Path("Pulumi.acme.qa.yaml"), {"email-partners:customer": {"platform": "notes"},
                                                             "notes:token": {"secure": "v1:x"}})
seen["identity"] = [identity_of(stack, {"NOTES_WORKSPACE": "w9"}).settings, identity_of(stack, {}).secrets_from]
seen["stand_ins"] = sorted(comparison_config(stack))
seen["policies"] = rules.signupto_keep_on_destroy({"platform": "notes", "on_destroy": "refuse"}, "qa")
from operations.customers.clone import rewrite_declaration
copied, _ = rewrite_declaration({"platform": "notes", "account": {"name": "Acme", "contact": "ops@acme.example",
                                                                   "handle": "acme"}}, environment, "acme")
seen["clone"] = copied["account"]
import pulumi
secret_declaration = customer.CustomerDeclaration.model_validate({"platform": "notes", "account": {"name": "A", "pin": "1234"}})
try:
    customer._secret_settings(secret_declaration)  # outside an engine run: no config key is secret
except pulumi.RunError as exc:
    seen["secret_in_clear"] = str(exc)
print(json.dumps(seen))
'''


def test_a_platform_registered_with_one_line_reaches_every_derived_list(tmp_path):
    package = tmp_path / "notes_vendor"
    package.mkdir()
    for name, text in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(text))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path}:{REPO}", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", OBSERVE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-4000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert "notes" in seen["cli"]["new"] and "notes" in seen["cli"]["discover"]
    assert "notes-shared" in seen["cli"]["acknowledge"]
    assert seen["environment"] == [["notes:apiUrl", "http://127.0.0.1:1/notes", None], ["notes:workspace", "w1", None],
                                   ["notes:token", None, "NOTES_TOKEN"]]
    assert "a credential may not be written in clear" in seen["token_in_clear"]
    assert seen["provider_keys"] == ["notes:apiUrl", "notes:timeoutSeconds", "notes:token", "notes:workspace"]
    assert "    platform: notes" in seen["starter"] and 'name: "Acme"  # the workspace\'s name' in seen["starter"]
    assert "      notes_per_day: 5  # a whole number >= 0" in seen["starter"]
    assert "(no sending_domains: notes offers none)" in seen["starter"]

    provider = seen["provider"]
    assert provider["failures"] == [] and provider["id"] == "n-1" and provider["read"] == "Acme"
    assert provider["features"] == {"notes_per_day": 3} and provider["diff"] is True
    assert provider["settings"] == ["missing notes:token: set it with `pulumi config set --secret notes:token ...` "
                                    "or the environment variable NOTES_TOKEN."]
    assert "SendingDomain is not offered on notes" in provider["no_domains"]
    assert provider["unknown"].startswith("unknown platform 'nope'; supported: ") and provider["unknown"].endswith(
        ", notes.")
    assert seen["client"] == ["NotesClient", True]
    assert seen["discovered"] == [["n-1", {"platform": "notes", "account": {"name": "Acme"},
                                           "features": {"notes_per_day": 3}}]]
    assert seen["credentials"] == [[True, "notes:workspace w1 accepted by http://127.0.0.1:1/notes"], False]
    assert seen["dangers"] == [["notes-shared", "notes share one quota", "`review --acknowledge notes-shared`"]]
    assert seen["program"] == [["SubAccount", "acme.qa-account"], ["AccountFeatures", "acme.qa-features"]]
    assert "Notes's API offers no sending domains" in seen["program_refuses"]
    assert seen["identity"] == [[["apiUrl", ""], ["workspace", "w9"]], "stack config"]
    assert seen["stand_ins"] == ["notes:token", "notes:workspace"]
    assert seen["policies"] == []  # Notes deletes its accounts: no `on_destroy: keep` needed
    assert seen["clone"] == {"name": "Acme", "contact": "ops+qa@acme.example", "handle": "acme-qa"}
    assert "customer.account.pin: is a secret" in seen["secret_in_clear"]
