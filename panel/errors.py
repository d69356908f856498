"""Precise error classes. The CLI turns each into one line and an exit code, in one place."""

from __future__ import annotations

from pathlib import Path


class PanelError(Exception):
    """Base class: a problem the user can fix. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, problem: str, *, where: str | Path | None = None, hint: str | None = None):
        self.problem = problem
        self.where = str(where) if where is not None else None
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        """The single line shown to the user: location, problem, how to fix it."""
        text = f"{self.where}: {self.problem}" if self.where else self.problem
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())


class InputError(PanelError):
    """A tool file, feed row or record that does not parse or validate."""


class ConfigError(PanelError):
    """models.yaml, a persona file or a prompt template is wrong, or a profile is unknown."""


class EngineError(PanelError):
    """The model engine cannot be used: unreachable server, missing package, no structured output."""


class EngineUnavailable(EngineError):
    """The server cannot be reached or stopped answering: worth retrying later, work resumes."""


class ConflictError(PanelError):
    """A record changed on disk since it was read (another reviewer, the desk, a batch run):
    the change was not written, so nobody's work is lost. Re-open the record and apply it again."""


class PolicyError(PanelError):
    """A team rule (`panel desk policy`: the four-eyes rule) does not let this person do this
    action; nothing was changed. The message says which rule and who may."""


class FetchError(PanelError):
    """One address could not be taken in. The run goes on with the other pages and entries, names
    this one, and exits 1; `where` is the address."""

    exit_code = 1
    verb = "Failed"


class FetchRefused(FetchError):
    """Refused by a safety rule: the address, port or scheme, a redirect, the content type, the
    size. Fetching again will not help; `--allow-host` admits a host you trust."""

    verb = "Refused"


class RobotsDisallowed(FetchError):
    """The site's robots.txt asks crawlers like panel not to fetch the page."""

    verb = "Skipped"


class FetchFailed(FetchError):
    """A timeout, a connection error or an HTTP error: worth trying again later."""
