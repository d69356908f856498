"""`panel site build | serve | digest`: the published site. Typer commands only; the work is in
panel/site/. Registered in panel/cli/app.py as `panel site`."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from panel.cli.options import OutOpt
from panel.errors import ConfigError, InputError

site_app = typer.Typer(
    help="The published site: comparison, tool and category pages, feeds, a sitemap, structured "
    "data, a JSON API and a weekly digest, as static files for any web server or static host.",
    no_args_is_help=True,
)

SiteArg = Annotated[
    Path,
    typer.Argument(
        help="The site folder (default: ./site). It is a link to the current build.", metavar="OUT"
    ),
]
NoWaitOpt = Annotated[
    bool,
    typer.Option(
        "--no-wait", help="If another build of this site is running, stop (exit 2) instead of waiting."
    ),
]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


SITE_PACKAGES = ("feedgenerator", "css_inline")  # the `site` extra's


def _needs_extra(exc: ModuleNotFoundError) -> Exception:
    """feedgenerator and css-inline come with the `site` extra: say so rather than fail."""
    if exc.name not in SITE_PACKAGES:
        return exc
    return ConfigError(
        f"panel site needs the {exc.name!r} package, which is not installed",
        hint="pip install 'panel-review[site]'",
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Progress:
    """A line per stage, and one at most every five seconds while a stage runs long."""

    def __init__(self) -> None:
        self.stage = ""
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage or now - self.last >= 5:
            _say(f"panel site: {stage}: {done:,} of {total:,}")
            self.stage, self.last = stage, now


@site_app.command("build")
def build_cmd(
    out: SiteArg = Path("site"),
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="The address the site is served at, for feeds, the sitemap and structured data "
            "(default: the last build's; the first time, http://127.0.0.1:8000/, the preview's).",
            metavar="URL",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="The site's name, on every page and in the feeds (default: the last build's)."
        ),
    ] = None,
    outputs: OutOpt = None,
    no_wait: NoWaitOpt = False,
) -> None:
    """Build the static site from everything under OUTPUTS/published/.

    Writes comparison pages (linked to their tools and category), a page per tool (its panel, every
    comparison it is in, its sources, community votes and a review receipt), a page per category,
    an index, Atom and JSON feeds, sitemap.xml, JSON-LD on every page, and a JSON API under api/
    (`panel schema site-tool` and friends describe it). Only pages whose records changed are
    rebuilt; pages of records no longer published are removed. The new build is swapped in whole,
    so a server never sees half a site, and a killed build leaves the previous one as it was.
    Deploy the folder's contents as they are: `rsync -a --delete site/ host:/var/www/site/`.
    """
    from panel.inputs.personas import load_personas
    from panel.records.store import outputs_root

    try:
        from panel.site.build import SiteOptions, build
    except ModuleNotFoundError as exc:
        raise _needs_extra(exc) from None

    options = SiteOptions(
        outputs=outputs_root(outputs),
        out=out,
        base_url=base_url,
        name=name,
        personas={p.id: p.name for p in load_personas()},
        wait=not no_wait,
    )
    report = build(options, _Progress(), lambda line: _say(f"panel site: {line}"))
    for warning in report.warnings:
        _say(f"panel: warning: {warning}")
    made = "everything made anew" if report.full else "only what changed made again"
    print(
        f"Built {out} from {_count(report.records, 'published record')} ({made}): "
        f"{_count(report.comparisons, 'comparison')}, {_count(report.tools, 'tool')}, "
        f"{report.categories:,} {'category' if report.categories == 1 else 'categories'}; "
        f"{_count(report.files, 'file')}, {report.written_count:,} written, {len(report.removed):,} removed, "
        f"in {report.seconds:.1f} s",
        flush=True,
    )
    print(f"Addresses in feeds, sitemap and structured data start with {report.base_url}", flush=True)
    if not report.base_url_given:
        _say("panel site: give --base-url with the site's real address before deploying it")


@site_app.command("serve")
def serve_cmd(
    out: SiteArg = Path("site"),
    host: Annotated[str, typer.Option("--host", help="A loopback address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).", min=0, max=65535)] = 8000,
) -> None:
    """Serve a built site on this machine, to look at it before deploying it. Ctrl-C stops it.

    A preview only: it listens on loopback and nowhere else. To publish the site, copy the folder to
    any static host or web server.
    """
    from panel.cli.desk import listen
    from panel.core.hosts import is_loopback
    from panel.site import serve
    from panel.site.releases import Releases

    if not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host}: the preview is for this machine only",
            where="--host",
            hint="use 127.0.0.1, and deploy the folder to a static host to publish it",
        )
    if Releases(out).current() is None:
        raise InputError("no site has been built here", where=out, hint="run `panel site build` first")
    sock = listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    httpd = serve.server(out, sock)
    print(
        f"panel site: serving {out} at http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops it)", flush=True
    )
    # Ctrl-C stops it, as it stops the desk, even where the shell started it with SIGINT ignored
    # (a script's background job): Python installs its handler only where SIGINT is not ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    print("panel site: stopped", flush=True)


@site_app.command("digest")
def digest_cmd(
    out: SiteArg = Path("site"),
    week: Annotated[
        str | None,
        typer.Option(
            "--week", help="The ISO week, e.g. 2026-W49 (default: this week, in UTC).", metavar="WEEK"
        ),
    ] = None,
    no_wait: NoWaitOpt = False,
) -> None:
    """Write the week's digest into the built site: digest/WEEK.html, ready for e-mail (its CSS
    inlined, nothing to load), and digest/WEEK.txt, the same in plain text.

    It covers the comparisons published that week, as the site has them (build it first), with
    links to their pages. Later builds keep the digests. Sending them is up to your newsletter
    service, which can also read the site's Atom feed.
    """
    from panel.records import utcnow
    from panel.site import layout

    try:
        from panel.site import digest
    except ModuleNotFoundError as exc:
        raise _needs_extra(exc) from None

    chosen = layout.iso_week(week) if week is not None else digest.week_of(utcnow())
    report = digest.write(out, chosen, wait=not no_wait, waiting=lambda line: _say(f"panel site: {line}"))
    print(f"Digest of {report.week}: {_count(report.comparisons, 'comparison')}", flush=True)
    for path in report.paths:
        print(f"Wrote {path}", flush=True)
