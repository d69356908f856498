"""`panel intake` and `panel recheck`: launches taken in from the web, and the evidence of
written records fetched again. Typer commands only; the stages are imported when they run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from panel.cli.options import DelayOpt, EditorOpt, FetchAllowOpt, OutOpt, TimeoutOpt, UserAgentOpt
from panel.errors import ConflictError, InputError

if TYPE_CHECKING:
    from rich.console import Console

    from panel.editorial.freshness import FileRecheck, Refetch
    from panel.intake.fetcher import FetchSettings
    from panel.intake.gather import Event
    from panel.intake.recheck import Rechecker
    from panel.records import Claim, Tool

intake_app = typer.Typer()


def _settings(allow: list[str] | None, delay: float, timeout: float, user_agent: str | None) -> FetchSettings:
    from panel.intake.fetcher import FetchSettings, allow_hosts, default_user_agent

    return FetchSettings(
        user_agent=user_agent or default_user_agent(),
        timeout=timeout,
        connect_timeout=min(10.0, timeout),
        delay=delay,
        allow=allow_hosts(allow or []),
    )


def _printer(console: Console) -> Callable[[Event], None]:
    """Print each event as one line; vendor text in it cannot reach the terminal as controls."""
    from panel.core.text import one_paragraph

    def show(event: Event) -> None:
        console.print(one_paragraph(event.line()), markup=False, highlight=False, soft_wrap=True)

    return show


@intake_app.command()
def intake(
    urls: Annotated[
        list[str] | None,
        typer.Argument(metavar="URL", help="Tool addresses (http or https): one tool file each."),
    ] = None,
    feed: Annotated[
        str | None,
        typer.Option(
            "--feed", metavar="FEED", help="An Atom, RSS 2.0 or JSON Feed 1.1 document: an address or a file."
        ),
    ] = None,
    to: Annotated[
        Path, typer.Option("--to", file_okay=False, help="The folder the tool files go in.")
    ] = Path("tools"),
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N entries of the feed.")
    ] = None,
    pages: Annotated[
        int, typer.Option("--pages", min=1, max=20, help="Pages fetched per tool, its own page included.")
    ] = 6,
    allow_host: FetchAllowOpt = None,
    delay: DelayOpt = 1.0,
    timeout: TimeoutOpt = 30.0,
    user_agent: UserAgentOpt = None,
    out: OutOpt = None,
) -> None:
    """Take newly launched tools in: one tool file per URL, or per entry of a launch feed.

    Each tool's page gives its name, tagline and description; its pricing, license, docs and
    changelog pages (found by their links, same site only) and its packages on PyPI, npm,
    crates.io, GitHub and the Hugging Face Hub give its `sources`, each naming its stored
    snapshot (outputs/evidence/), its address and when it was read. A file already there keeps
    every field a person set; only the sources intake made are refreshed. A feed's entries are
    remembered (outputs/intake/): a re-run skips them, so a nightly job is
    `panel intake --feed URL && panel batch tools/`.

    Vendor addresses are untrusted: only http and https on ports 80 and 443 to public addresses,
    every redirect checked (at most 5), robots.txt obeyed, bodies capped at 5 MB.
    `--allow-host HOST[:PORT]` admits a host you trust. Registry addresses come from
    PANEL_PYPI_URL, PANEL_NPM_URL, PANEL_CRATES_URL, PANEL_GITHUB_URL and PANEL_HF_URL.

    Exit codes: 0 every entry taken in; 1 some pages were refused or failed (the tools are
    still written with what could be read, and each failure is named); 2 the feed cannot be
    read, or the input is bad.

    Example: `panel intake --feed https://launches.example/feed.atom --to tools/`
    """
    from rich.console import Console

    from panel.cli.progress import IntakeProgress
    from panel.grounding.conflicts import registry_conflicts
    from panel.intake.fetcher import Fetcher
    from panel.intake.run import Intake
    from panel.intake.state import STATE_DIR
    from panel.records.store import outputs_root, sweep_temp_files

    if bool(urls) == bool(feed):
        raise InputError("give tool URLs or --feed FEED, not both and not neither", where="intake")
    bad = [u for u in urls or [] if not u.startswith(("http://", "https://"))]
    if bad:
        raise InputError(f"{bad[0]!r} is not an http(s) address", where="intake")
    settings = _settings(allow_host, delay, timeout, user_agent)
    sweep_temp_files(outputs_root(out), [to, outputs_root(out) / STATE_DIR])  # left by a killed run
    console = Console(highlight=False, soft_wrap=True)
    progress = IntakeProgress()
    try:
        with Fetcher(settings) as fetcher:
            run = Intake(
                fetcher, outputs_root(out), to, _printer(console), registry_conflicts, progress, budget=pages
            )
            if feed:
                parsed, key = run.open(feed)
                tally = run.feed(parsed, key, limit)
            else:
                tally = run.urls(urls or [])
    finally:
        progress.stop()
    console.print(tally.line(), markup=False, highlight=False)
    raise typer.Exit(tally.exit_code)


# --- recheck ---------------------------------------------------------------------------------------


def _refetch(rechecker: Rechecker) -> Refetch:
    """The refetch step `editorial.freshness` asks for, done by intake."""
    from panel.editorial.freshness import SourcesReport
    from panel.records import utcnow

    def refetch(tool: Tool) -> tuple[Tool, SourcesReport]:
        new, checks = rechecker.recheck(tool, utcnow())
        fetched = [c for c in checks if c.outcome != "kept"]
        return new, SourcesReport(
            checked=len(fetched),
            changed=tuple(c.before.title for c in checks if c.outcome == "changed"),
            failed=tuple(f"{c.before.title}: {c.detail}" for c in checks if c.outcome == "failed"),
        )

    return refetch


def _evidence(claim: Claim) -> str:
    if claim.evidence is None:
        return "the material says nothing of it"
    return f"{claim.evidence.sentence!r} ({claim.evidence.origin()})"


def _shown(path: Path) -> Path:
    """A path as the user would write it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _report(result: FileRecheck, console: Console, names: dict[str, str]) -> None:
    from panel.core.text import one_paragraph

    def say(text: str, indent: int = 0) -> None:
        console.print(" " * indent + one_paragraph(text), markup=False, highlight=False, soft_wrap=True)

    say(f"Rechecked {_shown(result.path)}: {result.sources.note()}")
    for flip in result.flips:
        who = names.get(flip.persona, flip.persona)
        change = f"{flip.before.status} → {flip.after.status}"
        say(f"{flip.tool} · {who} · {flip.after.kind} {flip.after.text!r}: {change}", 2)
        say(f"before: {_evidence(flip.before)}", 4)
        say(f"now: {_evidence(flip.after)}", 4)
    if result.stale is not None:
        say(f"Marked stale: {result.stale.reason}", 2)
    for path, what in result.written:
        if path != result.path:
            say(f"{_shown(path)}: {what}", 2)


@intake_app.command()
def recheck(
    records: Annotated[
        list[Path] | None,
        typer.Argument(metavar="RECORD", help="Records to recheck (default: every published record)."),
    ] = None,
    allow_host: FetchAllowOpt = None,
    delay: DelayOpt = 1.0,
    timeout: TimeoutOpt = 30.0,
    user_agent: UserAgentOpt = None,
    editor: EditorOpt = None,
    out: OutOpt = None,
) -> None:
    """Fetch the sources of written records again and ground their reviews again.

    Each source `panel intake` fetched is asked for again with a conditional request (ETag,
    Last-Modified), so an unchanged page costs no body. A source that changed is stored as a new
    snapshot and read again; the reviews are grounded against it and every claim whose status
    changed is listed with its old and new evidence. A published record that now has a claim the
    material contradicts and nobody checked is marked stale (shown on the desk, with a filter)
    until a fixed draft is published; its draft gets the new sources. The record's history notes
    each recheck, and a published page still fresh shows the new "Sources checked on" date.

    Exit codes: 0 all fresh; 1 a record was marked stale, or a source could not be fetched;
    2 bad input.
    """
    from rich.console import Console

    from panel.editorial import editing, freshness, render
    from panel.editorial.validate import valid_record
    from panel.inputs.personas import load_personas
    from panel.intake.fetcher import Fetcher
    from panel.intake.gather import Gatherer
    from panel.intake.recheck import Rechecker
    from panel.intake.snapshots import Snapshots
    from panel.records.store import Outputs, outputs_root

    outputs = Outputs(outputs_root(out))
    paths = list(records or sorted((outputs.root / "published").glob("*.json")))
    personas = load_personas()
    for path in paths:
        valid_record(path, personas)  # every record readable before anything is fetched or written
    console = Console(highlight=False, soft_wrap=True)
    if not paths:
        console.print(f"No published records under {outputs.root / 'published'}; nothing to recheck.")
        raise typer.Exit(0)
    names = {p.id: p.name for p in personas}
    by = editing.editor_name(editor)
    stale = failed = 0
    with Fetcher(_settings(allow_host, delay, timeout, user_agent)) as fetcher:
        gatherer = Gatherer(fetcher, Snapshots.under(outputs.root), _printer(console))
        refetch = _refetch(Rechecker(gatherer))
        for path in paths:
            try:
                result = freshness.recheck_file(
                    path, refetch, outputs, personas, by, lambda rec, fmt: render.render_page(rec, fmt, names)
                )
            except ConflictError as exc:  # a person saved it meanwhile: their save stands
                console.print(f"Not rechecked: {exc.line()}", markup=False, highlight=False, soft_wrap=True)
                failed += 1
                continue
            _report(result, console, names)
            stale += result.stale is not None
            failed += len(result.sources.failed)
    summary = f"Recheck: {len(paths)} record(s), {stale} marked stale, {failed} source(s) not fetched"
    console.print(summary, markup=False, highlight=False)
    raise typer.Exit(1 if stale or failed else 0)
