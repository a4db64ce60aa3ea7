"""`email-partners backend copy`: a file backend with a customer on each of the four platforms moved onto the
session's PostgreSQL server, through the real CLI: `pulumi stack ls` lists them at once there, each copy
previews with no changes (its secrets decrypt with the same passphrase, never decrypted on the way), the run
history is there too, the file backend is marked as moved (the tool refuses it from then on), and running
the copy again changes nothing."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from providers.platforms import names

from ..vendors import serial, vendor
from .environments_harness import sample_stack, tool
from .pulumi_cli import PulumiProject


@pytest.fixture
def team_database(postgres_url):
    name = f"copy_{os.getpid()}_{threading.get_ident() % 10_000}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(postgres_url)._replace(path=f"/{name}"))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_backend_copy_moves_every_stack_and_the_history_to_postgres(tmp_path, pulumi_bin, control, team_database):
    project = PulumiProject(tmp_path / "project", pulumi_bin, stack="scratch")
    tag = serial("copy")
    stacks = [f"{platform}-shop.prod" for platform in names()]
    for platform, stack in zip(names(), stacks):
        sample_stack(project, stack, platform, vendor(platform).partner(control, f"{tag}-{platform}"))
    made = tool(project, "fleet", "up", "--yes", bin_dir=pulumi_bin)
    assert made.returncode == 0, made.output
    secrets = [s for platform in names() for s in vendor(platform).SECRETS.values()]

    copied = tool(project, "backend", "copy", "--to", team_database, bin_dir=pulumi_bin)
    assert copied.returncode == 0, copied.output
    for stack in stacks:
        assert f"{stack}: copied" in copied.stdout, copied.stdout
    assert "is marked as moved" in copied.stdout and not any(s in copied.output for s in secrets)

    team = {"PULUMI_BACKEND_URL": team_database}
    listed = project.run("stack", "ls", "--json", env={**team, "PULUMI_DIY_BACKEND_PARALLEL": "1"}, timeout=120)
    assert sorted(s["name"] for s in listed.json()) == sorted([*stacks, "scratch"])
    with psycopg.connect(team_database) as conn:  # the state in the database holds ciphertext only
        rows = [str(row[0]) for row in conn.execute("SELECT data FROM pulumi_state")]
    assert rows and not any(s in row for row in rows for s in secrets)
    preview = tool(project, "fleet", "preview", "--json", "-", env=team, bin_dir=pulumi_bin)
    assert preview.returncode == 0, preview.output
    history = tool(project, "history", "--last", "100", "--format", "json", env=team, bin_dir=pulumi_bin).json()
    operations = {(e["stack"], e["operation"]) for e in history["entries"]}
    for stack in stacks:  # the file backend's runs, and the copy itself
        assert {(stack, "up"), (stack, "backend copy"), (stack, "preview")} <= operations, operations
    assert history["store"].startswith("postgres://")

    # The file backend is a record now: the tool refuses it, naming where its stacks went.
    refused = tool(project, "fleet", "preview", bin_dir=pulumi_bin)
    assert refused.returncode == 2 and "were moved to postgres://" in refused.stderr, refused.output
    again = tool(project, "backend", "copy", "--to", team_database, bin_dir=pulumi_bin)
    assert again.returncode == 0 and all(f"{s}: already there" in again.stdout for s in stacks), again.output
