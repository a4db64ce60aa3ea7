"""The status page as one self-contained HTML file: the template (page.html, its style and
script inline) with the page's data embedded as JSON.

Nothing is fetched: no external script, font or style, so it works offline and as a CI artifact.
Safety: every value from a vendor or a stack file reaches the browser inside the JSON block, with
`<`, `>`, `&` and the two JavaScript line separators escaped (so no value can close the block),
and the script draws it as text nodes only. The Content-Security-Policy allows only the page's
own script (by its hash) and no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from functools import lru_cache
from importlib import resources

from .data import StatusPage

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)  # the hash covers all between the tags
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@lru_cache(maxsize=1)
def template() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")


def script_hash(text: str) -> str:
    """The CSP source for the page's one executable script."""
    body = _SCRIPT.search(text).group(1)
    return "sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()


def embedded_json(page: StatusPage) -> str:
    text = page.model_dump_json()
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def render(page: StatusPage) -> str:
    source = template()
    values = {"script_hash": script_hash(source), "title": html.escape(f"Fleet status: {page.project}"),
              "data": embedded_json(page)}
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], source)  # one pass: no value is re-read
