"""docs/ci/fleet-shards.yml and docs/kubernetes/fleet-indexed-job.yaml cannot run here: what they
call is checked instead. Every `email-partners` command in them parses with the real CLI (so a
renamed option breaks this test, not a team's nightly job), the shard counts agree, and the
commands are the ones tests/e2e/test_fleet_shards.py runs against PostgreSQL. The workflow calls
scripts/fleet-loop.sh, whose commands tests/unit/test_loop_docs.py parses and tests/e2e/test_fleet_loop.py runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from operations.cli import main
from operations.fleet.shards import parse_shard

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "docs" / "ci" / "fleet-shards.yml"
MANIFEST = REPO / "docs" / "kubernetes" / "fleet-indexed-job.yaml"


def remaining(ctx: click.Context) -> list[str]:
    """A group's unparsed words (`protected_args` is deprecated in Click 8.2, `_protected_args` its store)."""
    return [*(ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args), *ctx.args]


def parse(args: list[str]) -> list[str]:
    """The subcommand path of `email-partners ARGS` as the CLI parses it (raises on a bad option)."""
    ctx = main.make_context("email-partners", list(args))
    path, command, rest = [], main, remaining(ctx)
    while isinstance(command, click.Group) and rest:
        name, command, rest = command.resolve_command(ctx, rest)
        path.append(name)
        ctx = command.make_context(name, list(rest), parent=ctx)
        rest = remaining(ctx) if isinstance(command, click.Group) else []
    return path


def tool_commands(script: str) -> list[list[str]]:
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        if "email-partners " in line:
            words = shlex.split(line.split("email-partners", 1)[1])
            commands.append(words)
    return commands


def loop_calls(script: str) -> list[list[str]]:
    """The `scripts/fleet-loop.sh ...` calls of a step's script, as argument lists."""
    return [shlex.split(line.split("scripts/fleet-loop.sh", 1)[1]) for line in script.splitlines()
            if "scripts/fleet-loop.sh" in line]


def test_the_ci_workflow_runs_n_shards_and_merges_them():
    text = WORKFLOW.read_text()
    workflow = yaml.safe_load(text)
    count = int(workflow["env"]["SHARDS"])
    shard_job, merge_job = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    assert shard_job["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    assert shard_job["strategy"]["fail-fast"] is False and merge_job["needs"] == "shard" and merge_job["if"] == "always()"
    scripts = {name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in workflow["jobs"].items()}
    for k in range(1, count + 1):  # the commands scripts/fleet-loop.sh runs: tests/unit/test_loop_docs.py
        concrete = scripts["shard"].replace("${{ matrix.shard }}", str(k)).replace("${{ env.SHARDS }}", str(count))
        (call,) = loop_calls(concrete)
        assert call[0] == "drift-shard" and parse_shard(call[1], {}).index == k
    assert loop_calls(scripts["merge"]) == [["drift-report"]]


def test_the_kubernetes_job_finds_its_shard_from_the_completion_index():
    shards_job, report_job = list(yaml.safe_load_all(MANIFEST.read_text()))
    spec = shards_job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    (container,) = spec["template"]["spec"]["containers"]
    args = [a.replace("$(JOB_COMPLETION_INDEX)", "0") for a in container["args"]]
    assert parse(["--project-dir", "/src", *args]) == ["fleet", "up"]  # the image's entrypoint adds --project-dir
    shard_value = args[args.index("--shard") + 1]
    for index in range(spec["completions"]):
        assert parse_shard(shard_value, {"JOB_COMPLETION_INDEX": str(index)}).index == index + 1
    assert re.fullmatch(rf"auto/{spec['completions']}", shard_value)
    (merge,) = tool_commands(report_job["spec"]["template"]["spec"]["containers"][0]["command"][-1])
    assert parse(merge) == ["fleet", "report"]
    dockerfile = (REPO / "docs" / "kubernetes" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["email-partners", "--project-dir", "/src"]' in dockerfile and "scripts/bootstrap.sh" in dockerfile
