"""One tool gathered from its address: its own page, the same-site pages claims need (pricing,
license, docs, changelog; a page budget per tool), its packages' registry documents, each stored
as a snapshot and turned into a source. Every page fetched, unchanged, skipped, refused or failed
is reported as an event, with the reason; a failure never stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Literal, TypeVar, cast

from panel.errors import FetchError, FetchFailed
from panel.intake.fetcher import Fetcher, Kind, Response
from panel.intake.links import PAGE_BUDGET, choose
from panel.intake.registries import Document, documents, find_packages
from panel.intake.snapshots import Snapshot, Snapshots
from panel.intake.sources import Read, read_body
from panel.records import SourceReader

Verb = Literal["Fetched", "Unchanged", "Skipped", "Refused", "Failed", "Note", "Wrote", "Updated"]
PAGE_TITLES = {
    "home": "Home page",
    "pricing": "Pricing page",
    "license": "License page",
    "docs": "Docs page",
    "changelog": "Changelog page",
}
MAX_REGISTRY_DOCUMENTS = 6
T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    """One line of the run's report: what happened to an address, and why."""

    verb: Verb
    url: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.verb} {self.url}" + (f": {self.detail}" if self.detail else "")


EventSink = Callable[[Event], None]


@dataclass
class Gathered:
    """What intake found for one tool."""

    url: str
    name: str = ""
    tagline: str = ""
    description: str = ""
    reads: list[Read] = field(default_factory=list)  # every body read, home page first
    notes: list[str] = field(default_factory=list)  # for the tool file: what a person should know
    failures: list[FetchError] = field(default_factory=list)
    main_read: bool = False  # the tool's own page was read (fetched, or unchanged since)

    @property
    def retry(self) -> bool:
        """The tool's own page failed in a way worth trying again (not a refusal)."""
        return not self.main_read and any(isinstance(f, FetchFailed) for f in self.failures[:1])


class Gatherer:
    """Gathers tools with one fetcher and one evidence folder; see the module's docstring."""

    def __init__(
        self,
        fetcher: Fetcher,
        snapshots: Snapshots,
        on_event: EventSink,
        env: Mapping[str, str] | None = None,
        budget: int = PAGE_BUDGET,
    ) -> None:
        self.fetcher = fetcher
        self.snapshots = snapshots
        self.on_event = on_event
        self.env = env
        self.budget = budget

    def say(self, verb: Verb, url: str, detail: str = "") -> None:
        self.on_event(Event(verb, url, detail))

    def get(
        self, url: str, kind: Kind, check: Callable[[Response], object] | None = None
    ) -> tuple[Snapshot, bytes]:
        """The body at `url`: fetched (and stored), or the stored one if the server says it has
        not changed since. `check` sees a new body before it is stored; what it raises stops
        the store (a feed that cannot be read leaves nothing behind)."""
        previous = self.snapshots.latest(url)
        response = self.fetcher.fetch(url, kind, previous.validators if previous else None)
        if response.body is None:
            if previous is None:
                raise FetchFailed("HTTP 304 Not Modified, but no snapshot is stored", where=url)
            self.say("Unchanged", url, "not modified since the stored snapshot")
            return previous, self.snapshots.body(previous)
        if check is not None:
            check(response)
        snapshot = self.snapshots.save(response)
        via = f", after redirects to {response.final_url}" if response.final_url != url else ""
        self.say("Fetched", url, f"{response.content_type}, {snapshot.size:,} bytes{via}")
        return snapshot, response.body

    def report(self, exc: FetchError, url: str) -> None:
        """A failed address as an event: 'Refused URL: why'."""
        hint = f" ({exc.hint})" if exc.hint else ""
        self.say(cast(Verb, exc.verb), exc.where or url, exc.problem + hint)

    def _attempt(self, gathered: Gathered, action: Callable[[], T | None]) -> T | None:
        try:
            return action()
        except FetchError as exc:
            gathered.failures.append(exc)
            self.report(exc, gathered.url)
            return None

    def read(self, url: str, title: str, reader: SourceReader, kind: Kind, package: str = "") -> Read:
        snapshot, body = self.get(url, kind)
        return read_body(title, reader, snapshot, body, package)

    def gather(self, url: str, name: str = "") -> Gathered:
        """The tool at `url`; `name` (from a feed) names it, else its page does."""
        gathered = Gathered(url)
        home = self._attempt(gathered, partial(self.read, url, PAGE_TITLES["home"], "page", "page"))
        reads: list[Read] = []
        if home is not None and home.page is not None:
            gathered.main_read = True
            reads.append(home)
            reads += self._subpages(gathered, home)
        pages = [r.page for r in reads if r.page is not None]
        gathered.name = name or (pages[0].name if pages else "")
        page = pages[0] if pages else None
        gathered.tagline = page.tagline if page else ""
        gathered.description = page.description if page else ""
        for page in pages:
            for problem in page.problems:
                self._note(gathered, page.url, problem)
            if page.needs_hand:
                self._note(gathered, page.url, f"needs material by hand: {page.needs_hand}")
        reads += self._registries(gathered, reads)
        gathered.reads = reads
        return gathered

    def _note(self, gathered: Gathered, url: str, text: str) -> None:
        gathered.notes.append(f"{url}: {text}")
        self.say("Note", url, text)

    def _subpages(self, gathered: Gathered, home: Read) -> list[Read]:
        assert home.page is not None
        reads = []
        for candidate in choose(home.page.url, home.page.links, self.budget):
            title = PAGE_TITLES[candidate.purpose]
            read = self._attempt(gathered, partial(self.read, candidate.link.url, title, "page", "page"))
            if read is not None:
                reads.append(read)
        return reads

    def _registries(self, gathered: Gathered, reads: list[Read]) -> list[Read]:
        pages = [r.page for r in reads if r.page is not None]
        links = [link for page in pages for link in page.links]
        packages = find_packages(gathered.name, links, [r.text for r in reads])
        found: list[Read] = []
        for package in packages:
            for doc in documents(package, self.env):
                if len(found) >= MAX_REGISTRY_DOCUMENTS:
                    return found
                read = self._attempt(gathered, partial(self._registry, doc))
                if read is None:
                    break  # a package the registry lacks has no release to ask about either
                found.append(read)
        return found

    def _registry(self, doc: Document) -> Read | None:
        """A registry document; one the registry does not have (HTTP 404: no such package, or a
        repository without releases) is a note, not a failure, and so is one stating no facts."""
        try:
            return self.read(doc.url, doc.title, doc.reader, doc.kind, doc.package.name)
        except FetchFailed as exc:
            if not exc.problem.startswith("HTTP 404"):
                raise
            self.say("Note", doc.url, f"{doc.title} is not there (HTTP 404)")
            return None
