"""The loop's CI and Kubernetes files in docs/ checked as their systems would, offline: the GitHub
workflows with actionlint (built from its Go module: scripts/install-actionlint.sh), the GitLab
pipeline against GitLab's schema (check-jsonschema's vendored copy), the Kubernetes manifests against
the API schemas (kubernetes-validate). Each validator runs in a network namespace of its own where
the machine allows one (as root here and in CI), so one that fetched a schema would fail; and each
is shown to catch a planted mistake. Every job calls scripts/fleet-loop.sh with a subcommand it
has, and every `email-partners` command of the script parses with the real CLI.
(tests/e2e/test_fleet_loop.py runs the script itself.)"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml


from .test_fleet_docs import loop_calls, parse

REPO = Path(__file__).resolve().parents[2]
GITHUB = sorted(p for p in (REPO / "docs" / "ci").glob("*.yml") if p.name != "gitlab-ci.yml")
GITLAB = REPO / "docs" / "ci" / "gitlab-ci.yml"
KUBERNETES = sorted((REPO / "docs" / "kubernetes").glob("*.yaml"))
SCRIPT = REPO / "scripts" / "fleet-loop.sh"
SUBCOMMANDS = ("review", "apply", "drift", "drift-shard", "drift-report")


@lru_cache(maxsize=1)
def offline() -> list[str]:
    """A prefix that runs a command without any network (`unshare -n`), where that is allowed."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([*offline(), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def actionlint() -> str:
    built = subprocess.run(["bash", str(REPO / "scripts" / "install-actionlint.sh")], capture_output=True, text=True,
                           timeout=900)
    assert built.returncode == 0, built.stderr
    return built.stdout.strip().splitlines()[-1]


def tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def test_the_github_workflows_pass_actionlint(actionlint, tmp_path):
    assert {p.name for p in GITHUB} >= {"customer-review.yml", "fleet-apply.yml", "fleet-shards.yml"}
    checked = run(actionlint, "-shellcheck=", "-pyflakes=", "-no-color", *map(str, GITHUB))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.yml"  # a mistake actionlint must catch: an unknown context
    broken.write_text(GITHUB[0].read_text().replace("github.base_ref", "github.base_reff"))
    assert run(actionlint, "-shellcheck=", "-pyflakes=", str(broken)).returncode != 0


def test_the_gitlab_pipeline_matches_gitlabs_schema(tmp_path):
    if offline():  # the namespace the validators run in has no network at all
        assert run(sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)"
                   ).returncode != 0
    checked = run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(GITLAB.read_text().replace("parallel: 4", "parallel: four"))
    assert run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(broken)).returncode != 0


def test_the_kubernetes_manifests_match_the_api_schemas(tmp_path):
    assert {p.name for p in KUBERNETES} >= {"fleet-indexed-job.yaml", "fleet-drift-cronjob.yaml"}
    checked = run(tool("kubernetes-validate"), "--strict", *map(str, KUBERNETES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text((REPO / "docs" / "kubernetes" / "fleet-drift-cronjob.yaml").read_text()
                      .replace("concurrencyPolicy: Forbid", "concurrencyPolicy: Forbid\n  retries: 3"))
    assert run(tool("kubernetes-validate"), "--strict", str(broken)).returncode != 0


def every_loop_call() -> dict[str, list[list[str]]]:
    """Per CI file, every `scripts/fleet-loop.sh` call its jobs make."""
    calls = {}
    for path in [*GITHUB, GITLAB]:
        document = yaml.safe_load(path.read_text())
        jobs = document["jobs"].values() if "jobs" in document else [
            job for name, job in document.items() if isinstance(job, dict) and "script" in job]
        scripts = []
        for job in jobs:
            scripts += [step.get("run", "") for step in job.get("steps", [])]
            scripts += job.get("script", []) if isinstance(job.get("script"), list) else [job.get("script", "")]
        calls[path.name] = [c for s in scripts for c in loop_calls(s)]
    cronjob = yaml.safe_load((REPO / "docs" / "kubernetes" / "fleet-drift-cronjob.yaml").read_text())
    command = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    calls["fleet-drift-cronjob.yaml"] = [command[2:]]
    return calls


def test_every_ci_system_runs_the_loop_through_the_one_script():
    calls = every_loop_call()
    assert calls["customer-review.yml"] == [["review"]] and calls["fleet-apply.yml"] == [["apply"]]
    assert [c[0] for c in calls["fleet-shards.yml"]] == ["drift-shard", "drift-report"]
    assert [c[0] for c in calls["gitlab-ci.yml"]] == ["review", "apply", "drift-shard", "drift-report"]
    assert calls["fleet-drift-cronjob.yaml"] == [["drift"]]
    for name, found in calls.items():
        for call in found:
            assert call[0] in SUBCOMMANDS, (name, call)
    # The sinks' credentials come from the CI's secrets, never written in a workflow.
    for path in GITHUB:
        for line in path.read_text().splitlines():
            if re.match(r"\s*(SLACK_WEBHOOK_URL|EMAIL_PARTNERS_WEBHOOK_SECRET):", line):
                assert "${{ secrets." in line, line


# Sample values for the script's variables, so that each of its commands can be parsed.
SAMPLES = {'"${tool[@]}"': "", '"${parallel[@]}"': "--parallel 2", '"${acks[@]}"': "--acknowledge domain-replaced",
           '"${everyone[@]}"': "a.production", '"${reports[@]}"': "out/shard-1.json out/shard-2.json",
           '"$shard"': "2/4", "${shard%%/*}": "2", '"$base"': "0123abc", '"$FLEET_BASE"': "origin/main", "$out": "out"}


def script_commands() -> dict[str, list[list[str]]]:
    """Per subcommand of scripts/fleet-loop.sh, the tool commands its branch runs."""
    text = SCRIPT.read_text()
    branches = dict(re.findall(r"^  ([a-z-]+)\)\n(.*?)^    ;;", text, re.S | re.M))
    page = re.search(r"^status_page\(\) \{.*?\n(.*?)^\}", text, re.S | re.M).group(1)
    commands = {}
    for name, body in branches.items():
        found = []
        for line in body.replace("    status_page\n", page).splitlines():
            line = line.strip()
            if line.startswith('"${tool[@]}"'):
                for variable, value in SAMPLES.items():
                    line = line.replace(variable, value)
                found.append(shlex.split(line.split(" || ")[0]))
        commands[name] = found
    return commands


def test_every_command_of_the_script_parses_with_the_real_cli():
    commands = script_commands()
    assert set(commands) == set(SUBCOMMANDS)
    expected = {"review": [["review"]], "apply": [["review"], ["fleet", "up"], ["status"]],
                "drift": [["fleet", "drift"], ["status"]], "drift-shard": [["fleet", "drift"]],
                "drift-report": [["fleet", "report"], ["status"]]}
    for name, found in commands.items():
        paths = []
        for words in found:
            paths.append(parse(["--project-dir", "/src", *words]))
        assert paths == expected[name], (name, found)
    shard = commands["drift-shard"][0]
    assert shard[shard.index("--notify") + 1] == "none"  # the merge notifies, once for the whole fleet


def test_the_apply_command_parses_with_the_real_cli():
    review, up = [words for words in script_commands()["apply"] if "--changed-since" in words]
    assert parse(["--project-dir", "/src", *review]) == ["review"]
    assert parse(["--project-dir", "/src", *up]) == ["fleet", "up"] and "--yes" in up
    # The review covers exactly what the apply selects: the same ref, the same option.
    assert review[review.index("--changed-since") + 1] == up[up.index("--changed-since") + 1]


def test_the_workflows_run_for_every_file_that_selects_customers():
    """A change `--changed-since` counts (operations/changes/since.py) must start the review and the apply:
    a pull request that edits only an environment file or providers/ would otherwise merge unreviewed and
    never be applied."""
    from operations.changes.since import EVERY_CUSTOMER

    touched = ["stacks/Pulumi.acme.production.yaml", "stacks/environments/production.yaml", "stacks/customer.py",
               *(f"{p}x.py" if p.endswith("/") else p for p in EVERY_CUSTOMER)]
    github = {name: yaml.safe_load((REPO / "docs" / "ci" / name).read_text())
              for name in ("customer-review.yml", "fleet-apply.yml")}
    triggers = {"customer-review.yml": github["customer-review.yml"][True]["pull_request"]["paths"],
                "fleet-apply.yml": github["fleet-apply.yml"][True]["push"]["paths"]}
    gitlab = yaml.safe_load((REPO / "docs" / "ci" / "gitlab-ci.yml").read_text())
    triggers["gitlab-ci.yml apply"] = [c for rule in gitlab["apply"]["rules"] for c in rule.get("changes", [])]
    for name, globs in triggers.items():
        for path in touched:
            assert any(glob_matches(g, path) for g in globs), (name, path, globs)


def glob_matches(glob: str, path: str) -> bool:
    """GitHub's `paths` and GitLab's `changes` globs: `*` within a folder, `**/` any folders (none too)."""
    pattern = re.sub(r"\\\*\\\*/|\\\*\\\*|\\\*|\\\?",
                     lambda m: {r"\*\*/": "(?:.*/)?", r"\*\*": ".*", r"\*": "[^/]*", r"\?": "[^/]"}[m.group()],
                     re.escape(glob))
    return re.fullmatch(pattern, path) is not None
