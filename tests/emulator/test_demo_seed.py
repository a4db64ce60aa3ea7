"""`--seed-demo` seeds every identity the example environments name, and the README gives, for
every variable those files read, the value that identity accepts on the emulator."""

from __future__ import annotations

from pathlib import Path

from emulator import EmulatorServer, demo
from emulator.core.store import Store
from emulator.server import VENDORS
from operations.project.environments import load_environment
from providers.platforms import names
from providers.platforms.credentials import check_credentials

from ..readme import exports
from ..tracked import tracked

REPO = Path(__file__).resolve().parents[2]


def test_every_example_environment_authenticates_with_the_readme_values(tmp_path):
    db = str(tmp_path / "emulator.db")
    store = Store(db, VENDORS)
    demo.seed(store)
    store.close()
    documented = exports("example-credentials")
    checked = []
    with EmulatorServer(db) as server:
        for name in [p.stem for p in tracked("stacks/environments") if p.suffix == ".yaml"]:  # never a user's own
            environment = load_environment(REPO, name)
            for platform in names():
                if getattr(environment.spec.providers, platform) is None:
                    continue
                entries = environment.provider_entries(platform)
                missing = [e.env_var for e in entries if e.env_var and e.env_var not in documented]
                assert not missing, f"README's example-credentials block gives no value for {missing}"
                config = {e.key: documented[e.env_var] if e.env_var else e.value for e in entries}
                config[f"{platform}:apiUrl"] = f"{server.url}/{platform}"  # the files name port 8710
                accepted, line = check_credentials(platform, config)
                assert accepted, f"{name} / {platform}: {line}"
                checked.append((name, platform))
    assert len(checked) == 10, checked  # production and staging: four vendors; sandbox-alice: two
