"""`email-partners status`: the fleet's health on one self-contained HTML page (or as JSON).

One row per customer from what is already recorded: the backend's state of every selected stack
(one pass, as `fleet drift`'s sweep reads it), the engine's locks and the run history. Rendering
makes no vendor request; `--check-drift` runs the sweep first (it reads every vendor, and records
its run in the history like any `fleet drift`). `--serve` serves the page on 127.0.0.1, built
again on each load.
"""

from __future__ import annotations

import http.server
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import click
from rich.console import Console

from providers.platforms import describe, names
from providers.platforms.settings import provider_settings

from .backend_locks import read_locks
from .backend_state import BackendError, RecordedStack, current_backend, read_stacks
from .drift_read import code_verdict, load_composition
from .drift_sweep import project_name
from .fleet import select_stacks
from .fleet_run import CodeDifference
from .history import record_fleet_report, store_for
from .history_store import HistoryError
from .project import CustomerStack, ProjectError, customer_stacks
from .status_data import RUNS_SHOWN, LockView, NeedsUp, StatusPage, build_page
from .status_page import render

# The page compares declarations, not credentials: each setting a provider's check requires before it
# compares anything (those without a default), when missing or encrypted, is stood in for (nothing is sent).
STAND_IN = "(not needed to compare the declaration)"


def comparison_config(stack: CustomerStack) -> dict[str, Any]:
    """The stack's plain provider settings, with stand-ins for the required ones it does not give."""
    platform = stack.platform or ""
    config = {k: v for k, v in stack.config.items() if k.startswith(f"{platform}:") and isinstance(v, (str, int, float))}
    for setting in provider_settings(describe(platform)) if platform in names() else ():
        if setting.required:
            config.setdefault(setting.config_key, STAND_IN)
    return config


def needs_up_check(project_dir: Path, project: str) -> NeedsUp:
    """What `up` would change on a stack, by `fleet drift`'s own code-against-state comparison."""
    composition = load_composition(project_dir)

    def needs_up(stack: CustomerStack, state: RecordedStack) -> list[CodeDifference]:
        if composition is None:
            return []
        return code_verdict(composition, stack.name, stack.declaration, state.resources, comparison_config(stack),
                            project)
    return needs_up


def read_status(project_dir: Path, stacks: Sequence[CustomerStack], env: Mapping[str, str],
                selection: Optional[dict[str, Any]] = None) -> StatusPage:
    """Read everything the page shows, in one pass, and build it."""
    project, names, notes = project_name(project_dir), [s.name for s in stacks], []
    backend = current_backend(env)
    if backend is None:
        reason = "no state backend configured (PULUMI_BACKEND_URL or `pulumi login`)"
        states = {n: RecordedStack(name=n, status="engine", reason=reason) for n in names}
        notes.append(reason)
    else:
        try:
            states = read_stacks(backend, project, names)
        except BackendError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        locks = {name: LockView(**lock.model_dump(exclude={"stack"}))
                 for name, lock in read_locks(backend, project, names).items()}
    except BackendError as exc:
        locks = {}
        notes.append(f"locks not shown: {exc}")
    store = store_for(env)
    try:
        recent, latest = store.latest(names, RUNS_SHOWN)
    except HistoryError as exc:
        recent, latest = {}, {}
        notes.append(f"run history not shown: {exc}")
    return build_page(stacks, states, recent, latest, locks, needs_up_check(project_dir, project), project,
                      backend=backend.shown if backend else None, history_store=store.location.shown,
                      selection=selection or {}, notes=notes)


def run_drift_check(project_dir: Path, stacks: Sequence[CustomerStack]) -> None:
    """`fleet drift`'s sweep over these stacks, recorded in the history; its table goes to stderr."""
    from .drift_sweep import sweep
    from .fleet import exit_status
    from .fleet_report import print_report

    console = Console(stderr=True)
    report = sweep(stacks, project_dir, console)
    report.exit_status = exit_status(report)
    print_report(report, console)
    record_fleet_report(report, project_dir)


def serve(build, port: int) -> None:
    """Serve the page on 127.0.0.1 until interrupted; `/status.json` serves its data."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the library's name
            path = self.path.split("?", 1)[0]
            if path not in ("/", "/index.html", "/status.json"):
                self.send_error(404, "the status page is at /")
                return
            try:
                page = build()
            except click.ClickException as exc:
                self.send_error(503, exc.message)
                return
            body = (page.model_dump_json(indent=2) if path == "/status.json" else render(page)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json" if path == "/status.json" else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the library's signature
            print(f"status: {self.address_string()} {format % args}", file=sys.stderr)

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc} (choose another "
                                   f"with --port, or --port 0 for any free one)") from None
    click.echo(f"serving the status page on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command("status", help=__doc__)
@click.option("--select", "select", multiple=True, metavar="PATTERN",
              help="Only stacks whose name or customer matches (shell pattern, repeatable).")
@click.option("--environment", metavar="ENV", help="Only stacks of this environment.")
@click.option("--output", metavar="FILE", help="Where to write the page (default: status.html; for json, stdout). "
                                               "`-`: stdout.")
@click.option("--format", "format_", type=click.Choice(["html", "json"]), default="html", show_default=True)
@click.option("--serve", "serve_", is_flag=True, help="Serve the page on 127.0.0.1 instead, built again on each load.")
@click.option("--port", type=click.IntRange(0, 65535), default=8720, show_default=True,
              help="The port for --serve (0: any free one).")
@click.option("--check-drift", is_flag=True, help="Run `fleet drift`'s sweep first (reads every vendor).")
@click.pass_obj
def status(ctx, select: tuple[str, ...], environment: Optional[str], output: Optional[str], format_: str,
           serve_: bool, port: int, check_drift: bool) -> None:
    project_dir = ctx.project_dir
    try:
        stacks = select_stacks(customer_stacks(project_dir), select, environment)
    except ProjectError as exc:
        raise click.UsageError(str(exc)) from None
    selection = {k: v for k, v in (("select", " ".join(select)), ("environment", environment)) if v}
    if check_drift and stacks:
        run_drift_check(project_dir, stacks)

    def build() -> StatusPage:
        # Each served page reads the stack files again, so it follows edits too.
        try:
            chosen = select_stacks(customer_stacks(project_dir), select, environment)
        except ProjectError as exc:
            raise click.ClickException(str(exc)) from None
        return read_status(project_dir, chosen, os.environ, selection)

    if serve_:
        serve(build, port)
        return
    page = read_status(project_dir, stacks, os.environ, selection)
    text = page.model_dump_json(indent=2) + "\n" if format_ == "json" else render(page)
    target = output or ("status.html" if format_ == "html" else "-")
    if target == "-":
        click.echo(text, nl=False)
    else:
        Path(target).write_text(text, encoding="utf-8")
        counts = ", ".join(f"{n} {tag}" for tag, n in page.counts.items() if n)
        click.echo(f"wrote {target}: {len(page.customers)} customer(s){': ' + counts if counts else ''}", err=True)
