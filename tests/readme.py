"""The README's own commands, for tests that run them: each block is the fenced code block right
after a `<!-- readme-test: NAME -->` line, so a test breaks when the README drifts from it."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def block(name: str) -> str:
    text = README.read_text()
    match = re.search(rf"^<!-- readme-test: {re.escape(name)} -->\n```\w*\n(.*?)^```", text, re.M | re.S)
    if match is None:
        raise AssertionError(f"README.md has no code block marked `<!-- readme-test: {name} -->`")
    return match.group(1)


def exports(name: str) -> dict[str, str]:
    """VAR=value pairs of the block's `export` lines (values without quotes or shell expansion)."""
    found = {}
    for line in block(name).splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith("export "):
            for pair in line[len("export "):].split():
                key, _, value = pair.partition("=")
                found[key] = value.strip("'\"")
    return found
