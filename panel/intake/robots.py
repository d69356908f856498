"""robots.txt, read once per site with protego, for panel's User-Agent (`panel/<version>` unless
set otherwise). A site without one (HTTP 4xx) may be fetched; a site whose robots.txt cannot be
read (a server error, a timeout) is not, this time: the run names it and a later run tries again.
"""

from __future__ import annotations

from collections.abc import Callable

from protego import Protego

from panel.errors import FetchFailed, RobotsDisallowed

MAX_CRAWL_DELAY = 30.0  # seconds: a site asking for more is still fetched, at this pace
RobotsText = Callable[[str], "str | None"]  # origin -> its robots.txt, None when it has none


class Robots:
    """Answers "may panel fetch this?" per address, fetching each site's robots.txt once."""

    def __init__(self, fetch_text: RobotsText, user_agent: str) -> None:
        self.fetch_text = fetch_text
        self.user_agent = user_agent
        self._rules: dict[str, Protego | None] = {}

    def check(self, url: str, origin: str) -> None:
        """Raise RobotsDisallowed when the site asks crawlers like panel to keep out of `url`."""
        rules = self._load(origin, url)
        if rules is not None and not rules.can_fetch(url, self.user_agent):
            raise RobotsDisallowed(f"robots.txt of {origin} disallows it for {self.user_agent}", where=url)

    def delay(self, origin: str) -> float:
        """The Crawl-delay the site asks of panel (0 when none, or not read yet)."""
        rules = self._rules.get(origin)
        asked = rules.crawl_delay(self.user_agent) if rules is not None else None
        return min(float(asked), MAX_CRAWL_DELAY) if asked else 0.0

    def _load(self, origin: str, url: str) -> Protego | None:
        if origin not in self._rules:
            try:
                text = self.fetch_text(origin)
            except FetchFailed as exc:
                raise FetchFailed(
                    f"robots.txt of {origin} could not be read ({exc.problem}); not fetched this time",
                    where=url,
                ) from None
            self._rules[origin] = Protego.parse(text) if text is not None else None
        return self._rules[origin]
