"""The project's own tooling never turns engine debug logging on (at -v=9 the engine logs the
decrypted provider configuration, credentials included): see README "Run logs"."""

from __future__ import annotations

import re
from pathlib import Path

from operations.engine.environment import engine_env

REPO = Path(__file__).resolve().parents[2]
FLAG = r"(-v=?\d+|--verbose|--debug|--logflow|--logtostderr)"
SHELL_FLAGS = re.compile(rf"(?<![\w-]){FLAG}(?![\w-])")
PYTHON_FLAGS = re.compile(rf"[\"']{FLAG}[\"']|log_verbosity\s*=|\bdebug\s*=\s*True|log_flow\s*=\s*True")


def debug_flags(path: Path) -> list[str]:
    if path.suffix == ".py":  # a flag would be a string of its own, or an Automation API option
        return PYTHON_FLAGS.findall(path.read_text())
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    return SHELL_FLAGS.findall("\n".join(lines))


def test_scripts_and_the_tool_pass_no_debug_flag_to_the_engine():
    sources = [*REPO.glob("scripts/*.sh"), *(REPO / "operations").rglob("*.py"), REPO / ".ci" / "run"]
    assert len(sources) > 5
    found = {str(p.relative_to(REPO)): debug_flags(p) for p in sources if p.exists()}
    assert {k: v for k, v in found.items() if v} == {}
    assert PYTHON_FLAGS.findall('args = ["up", "--debug"]') and SHELL_FLAGS.findall("pulumi up -v=9")


def test_the_engine_environment_drops_debug_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("PULUMI_BIN_DIR", str(tmp_path))
    env = engine_env({"PATH": "/usr/bin", "PULUMI_DEBUG_GRPC": "/tmp/grpc.log", "CAKEMAIL_USERNAME": "u"})
    assert "PULUMI_DEBUG_GRPC" not in env and env["CAKEMAIL_USERNAME"] == "u"
