"""A promotion's edits made in the target's stack file, and nothing else: comments, key order, quoting
and every encrypted value stay as they are (ruamel.yaml's round trip).

The file's indentation is found by trying the usual layouts until one writes the unedited file back
byte for byte (files written by `clone` and `new`, and by hand, differ); where none does, the closest
is used and the diff shows the lines it re-indented. Before anything is written, the new text is
read back and must be exactly the old config with the promoted declaration.
"""

from __future__ import annotations

import difflib
import io
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import OperationError
from ..project.stacks import CUSTOMER_KEY, read_stack_file
from .changes import Change, applied, apply_changes

# (mapping, sequence, offset) as ruamel counts them: pyyaml's own dump, indented lists, four spaces.
LAYOUTS = ((2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2), (4, 4, 2), (2, 3, 1))


def _yaml(layout: tuple[int, int, int]) -> YAML:
    handler = YAML()
    handler.preserve_quotes = True
    handler.width = 4096  # never fold a long line the file did not fold
    handler.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    return handler


def _dump(handler: YAML, document: Any) -> str:
    out = io.StringIO()
    handler.dump(document, out)
    return out.getvalue()


def _layout_of(text: str) -> YAML:
    """The layout that writes `text` back unchanged, else the one that changes the fewest lines."""
    best, fewest = None, None
    for layout in LAYOUTS:
        handler = _yaml(layout)
        again = _dump(handler, handler.load(text))
        if again == text:
            return handler
        changed = sum(1 for line in difflib.ndiff(text.splitlines(), again.splitlines()) if line[:1] in "+-")
        if fewest is None or changed < fewest:
            best, fewest = handler, changed
    return best


def edited_text(path: Path, changes: list[Change]) -> tuple[str, str]:
    """(the file's text, the text with the changes made), checked before it is returned."""
    text = path.read_text()
    handler = _layout_of(text)
    document = handler.load(text)
    apply_changes(document["config"][CUSTOMER_KEY], changes, CommentedMap, CommentedSeq)
    new_text = _dump(handler, document)
    before, after = read_stack_file(path), yaml.safe_load(new_text) or {}
    expected = dict(before, config={**before["config"],
                                    CUSTOMER_KEY: applied(before["config"][CUSTOMER_KEY], changes)})
    if after != expected:
        raise OperationError(f"{path.name}: the promoted file would not read back as the promoted declaration; "
                          f"nothing was written (edit it by hand with the changes listed)")
    return text, new_text


def unified_diff(path: Path, project_dir: Path, old: str, new: str) -> str:
    """The edit as `git diff` shows it."""
    name = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{name}", f"b/{name}"))
