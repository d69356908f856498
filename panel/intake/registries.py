"""What package registries say about a tool: license, latest version and when it shipped.

Packages are found from a vendor's pages: registry links (a PyPI project page, an npm package
page, a crate, a Hugging Face model, a GitHub repository) and install commands (`pip install X`,
`uv add X`, `npm i X`, `cargo add X`). Each registry's own API is read: PyPI's JSON, the full npm
package document, the crates.io API, the GitHub REST API (license, latest release) and the Hub's
model card front matter. Each base address comes from an environment variable (for mirrors and
tests), and the facts become plain sentences ("License (PyPI metadata): MIT. Latest version
0.9.2, released 2026-10-03."), which the claims machinery checks against unchanged.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from panel.core.loading import parse_text
from panel.core.text import one_paragraph
from panel.errors import FetchFailed, InputError
from panel.intake.extract import Link
from panel.records import SourceReader

Registry = Literal["pypi", "npm", "crates", "github", "hub"]
# Where each registry's API lives, and the variable that moves it (a mirror, a test server).
BASES: dict[Registry, tuple[str, str]] = {
    "pypi": ("PANEL_PYPI_URL", "https://pypi.org/pypi"),  # serves {base}/{name}/json
    "npm": ("PANEL_NPM_URL", "https://registry.npmjs.org"),  # {base}/{name}
    "crates": ("PANEL_CRATES_URL", "https://crates.io/api/v1"),  # {base}/crates/{name}
    "github": ("PANEL_GITHUB_URL", "https://api.github.com"),  # {base}/repos/{owner}/{repo}
    "hub": ("PANEL_HF_URL", "https://huggingface.co"),  # {base}/{repo}/raw/main/README.md
}
LABELS: dict[SourceReader, str] = {
    "pypi": "PyPI",
    "npm": "npm",
    "crates": "crates.io",
    "github": "GitHub",
    "github-release": "GitHub releases",
    "hub": "Hugging Face Hub",
}
MAX_PER_REGISTRY = 2
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?"
_NPM_NAME = rf"(?:@{_NAME}/)?{_NAME}"
_FLAGS = r"(?:\s+--?[\w-]+(?:=\S+)?)*"
_INSTALLS: tuple[tuple[Registry, re.Pattern[str]], ...] = (
    (
        "pypi",
        re.compile(rf"\b(?:pip3?|pipx|python3?\s+-m\s+pip|uv\s+pip|uv\s+tool)\s+install{_FLAGS}\s+({_NAME})"),
    ),
    ("pypi", re.compile(rf"\buv\s+add{_FLAGS}\s+({_NAME})")),
    (
        "npm",
        re.compile(
            rf"\b(?:npm\s+(?:i|install|add)|yarn\s+add|pnpm\s+(?:add|i|install)|bun\s+add){_FLAGS}\s+({_NPM_NAME})"
        ),
    ),
    ("crates", re.compile(rf"\bcargo\s+(?:add|install){_FLAGS}\s+({_NAME})")),
)
_NOT_REPOS = frozenset(
    [
        "about",
        "features",
        "topics",
        "orgs",
        "organizations",
        "sponsors",
        "marketplace",
        "settings",
        "login",
        "join",
        "pricing",
        "enterprise",
        "collections",
        "trending",
        "site",
        "apps",
        "search",
        "explore",
        "readme",
        "security",
        "customer-stories",
    ]
)
_NOT_MODELS = frozenset(
    [
        "datasets",
        "spaces",
        "docs",
        "blog",
        "models",
        "papers",
        "organizations",
        "settings",
        "login",
        "join",
        "pricing",
        "tasks",
        "learn",
        "api",
        "chat",
        "enterprise",
        "posts",
        "collections",
    ]
)


@dataclass(frozen=True)
class Package:
    """A package of the tool on one registry: 'pypi' 'fernwick', 'github' 'owner/repo'."""

    registry: Registry
    name: str


@dataclass(frozen=True)
class Document:
    """One registry document to fetch for a package."""

    package: Package
    reader: SourceReader
    url: str
    kind: Literal["json", "text"]

    @property
    def title(self) -> str:
        return f"{LABELS[self.reader]}: {self.package.name}"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _from_link(url: str) -> Package | None:
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [urllib.parse.unquote(s) for s in parts.path.split("/") if s]
    if host in ("pypi.org", "pypi.python.org") and len(segments) >= 2 and segments[0] == "project":
        return Package("pypi", segments[1]) if re.fullmatch(_NAME, segments[1]) else None
    if host == "npmjs.com" and len(segments) >= 2 and segments[0] == "package":
        name = "/".join(segments[1:3]) if segments[1].startswith("@") else segments[1]
        return Package("npm", name) if re.fullmatch(_NPM_NAME, name) else None
    if host == "crates.io" and len(segments) >= 2 and segments[0] == "crates":
        return Package("crates", segments[1]) if re.fullmatch(_NAME, segments[1]) else None
    if host in ("github.com", "huggingface.co") and len(segments) >= 2:
        owner, repo = segments[0], segments[1].removesuffix(".git")
        skip = _NOT_REPOS if host == "github.com" else _NOT_MODELS
        if owner.lower() in skip or not (re.fullmatch(_NAME, owner) and re.fullmatch(_NAME, repo)):
            return None
        return Package("github" if host == "github.com" else "hub", f"{owner}/{repo}")
    return None


def _related(package: Package, tool: str) -> bool:
    """The package is the tool's own: a name part contains the tool's name or is contained in it,
    or the two start alike ('murmur-asr' for Murmur-1B). A page also links and installs the
    projects it builds on, which are not the tool."""
    wanted = _key(tool)
    for part in (_key(p) for p in package.name.split("/")):
        if (
            part
            and wanted
            and (wanted in part or part in wanted or (part[:5] == wanted[:5] and len(part) >= 5))
        ):
            return True
    return False


def find_packages(tool_name: str, links: Iterable[Link], texts: Iterable[str]) -> list[Package]:
    """The tool's packages, from install commands in its pages and registry links, each named
    like the tool. At most two per registry."""
    found: list[Package] = []
    for text in texts:
        for registry, pattern in _INSTALLS:
            found += [Package(registry, m.group(1)) for m in pattern.finditer(text)]
    found += [p for p in (_from_link(link.url) for link in links) if p is not None]
    found = [p for p in found if _related(p, tool_name)]
    chosen: list[Package] = []
    for package in dict.fromkeys(found):
        if sum(p.registry == package.registry for p in chosen) < MAX_PER_REGISTRY:
            chosen.append(package)
    return chosen


def base_url(registry: Registry, env: Mapping[str, str] | None = None) -> str:
    variable, default = BASES[registry]
    return ((env if env is not None else os.environ).get(variable) or default).rstrip("/")


def documents(package: Package, env: Mapping[str, str] | None = None) -> list[Document]:
    """The API documents to read for a package, at the configured base addresses."""
    base = base_url(package.registry, env)
    quoted = urllib.parse.quote(package.name, safe="@/")
    if package.registry == "pypi":
        return [Document(package, "pypi", f"{base}/{quoted}/json", "json")]
    if package.registry == "npm":
        return [Document(package, "npm", f"{base}/{urllib.parse.quote(package.name, safe='@')}", "json")]
    if package.registry == "crates":
        return [Document(package, "crates", f"{base}/crates/{quoted}", "json")]
    if package.registry == "github":
        return [
            Document(package, "github", f"{base}/repos/{quoted}", "json"),
            Document(package, "github-release", f"{base}/repos/{quoted}/releases/latest", "json"),
        ]
    return [Document(package, "hub", f"{base}/{quoted}/raw/main/README.md", "text")]


# --- reading each registry's documents -----------------------------------------------------------


def _object(value: Any) -> Mapping[str, Any]:
    """A JSON object field, or an empty one when the document has something else there."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _day(value: Any) -> str:
    match = re.match(r"\d{4}-\d{2}-\d{2}", str(value or ""))
    return match.group() if match else ""


def _short(value: Any, limit: int = 100) -> str:
    """A metadata value worth stating: one line, not a whole license text."""
    text = one_paragraph(str(value)) if isinstance(value, str | int | float) else ""
    return (
        text if text and len(text) <= limit and text.upper() not in ("UNKNOWN", "NONE", "NOASSERTION") else ""
    )


def _released(version: str, day: str, verb: str = "released") -> str:
    """'Latest version 0.9.2, released 2026-10-03.'"""
    if not version:
        return ""
    return f"Latest version {version}" + (f", {verb} {day}." if day else ".")


def _pypi(data: Mapping[str, Any], name: str) -> list[str]:
    info = _object(data.get("info"))
    classifiers = [
        c for c in _list(info.get("classifiers")) if isinstance(c, str) and c.startswith("License ::")
    ]
    license_ = _short(info.get("license_expression")) or _short(info.get("license"))
    if not license_ and classifiers:
        license_ = classifiers[0].rsplit("::", 1)[-1].strip()
    version = _short(info.get("version"), 60)
    files = _list(data.get("urls"))
    times = sorted(
        _day(f.get("upload_time_iso_8601") or f.get("upload_time")) for f in files if isinstance(f, Mapping)
    )
    sentences = [f"PyPI package {info.get('name') or name}."]
    if license_:
        sentences.append(f"License (PyPI metadata): {license_}.")
    sentences.append(_released(version, times[0] if times else ""))
    pythons = _python_range(_short(info.get("requires_python")))
    if pythons:
        sentences.append(f"It needs Python {pythons} (PyPI metadata).")
    return sentences


_SPECIFIERS = {
    ">=": "{} or later",
    ">": "later than {}",
    "<": "below {}",
    "<=": "{} or earlier",
    "~=": "{} or later",
}


def _python_range(spec: str) -> str:
    """'>=3.10' -> '3.10 or later', '>=3.9,<4' -> '3.9 or later, below 4': words the version
    rules read (they take '>=3.10' for a version of the tool itself)."""
    parts = []
    for item in spec.split(","):
        match = re.fullmatch(r"\s*(>=|<=|~=|==|>|<)\s*([\d.*]+)\s*", item)
        if match and match.group(1) == "==":
            parts.append(match.group(2))
        elif match:
            parts.append(_SPECIFIERS[match.group(1)].format(match.group(2)))
    return ", ".join(parts)


def _npm(data: Mapping[str, Any], name: str) -> list[str]:
    tags = _object(data.get("dist-tags"))
    version = _short(tags.get("latest"), 60)
    versions = _object(data.get("versions"))
    latest = _object(versions.get(version))
    license_ = _license_field(latest.get("license")) or _license_field(data.get("license"))
    times = _object(data.get("time"))
    sentences = [f"npm package {data.get('name') or name}."]
    if license_:
        sentences.append(f"License (npm metadata): {license_}.")
    sentences.append(_released(version, _day(times.get(version)), "published"))
    return sentences


def _license_field(value: Any) -> str:
    if isinstance(value, Mapping):
        return _short(value.get("type"))
    return _short(value)


def _crates(data: Mapping[str, Any], name: str) -> list[str]:
    crate = _object(data.get("crate"))
    version = _short(
        crate.get("max_stable_version") or crate.get("max_version") or crate.get("newest_version"), 60
    )
    entries = [v for v in _list(data.get("versions")) if isinstance(v, Mapping)]
    latest = next((v for v in entries if v.get("num") == version), entries[0] if entries else {})
    sentences = [f"Crate {crate.get('name') or name} on crates.io."]
    if _short(latest.get("license")):
        sentences.append(f"License (crates.io metadata): {_short(latest.get('license'))}.")
    sentences.append(_released(version, _day(latest.get("created_at")), "published"))
    return sentences


def _github(data: Mapping[str, Any], name: str) -> list[str]:
    license_ = _object(data.get("license"))
    spdx = _short(license_.get("spdx_id"))
    sentences = [f"GitHub repository {data.get('full_name') or name}."]
    if spdx:
        sentences.append(f"License (GitHub repository metadata): {spdx}.")
    if data.get("archived") is True:
        sentences.append("The repository is archived (read-only).")
    return sentences


def _github_release(data: Mapping[str, Any], name: str) -> list[str]:
    tag = _short(data.get("tag_name"), 60)
    day = _day(data.get("published_at") or data.get("created_at"))
    latest = f"Latest release {tag}" + (f", published {day}." if day else ".") if tag else ""
    return [f"GitHub releases of {name}.", latest]


def _hub(text: str, name: str, where: str) -> list[str]:
    match = re.match(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", text, re.S)
    if not match:
        return [f"Hugging Face model {name}.", "The model card has no metadata (front matter)."]
    try:
        card = parse_text(match.group(1), Path("model-card.yaml"))
    except InputError as exc:
        raise FetchFailed(
            f"the model card's front matter cannot be read: {exc.problem}", where=where
        ) from None
    card = card if isinstance(card, Mapping) else {}
    license_ = card.get("license")
    names = license_ if isinstance(license_, list) else [license_]
    said = ", ".join(s for s in (_short(n) for n in names) if s)
    if said == "other" and _short(card.get("license_name")):
        said = _short(card.get("license_name"))
    sentences = [f"Hugging Face model {name}."]
    if said:
        sentences.append(f"License (Hugging Face model card): {said}.")
    for key, label in (("base_model", "Base model"), ("pipeline_tag", "Task"), ("library_name", "Library")):
        value = card.get(key)
        shown = ", ".join(
            s for s in (_short(v) for v in (value if isinstance(value, list) else [value])) if s
        )
        if shown:
            sentences.append(f"{label} (model card): {shown}.")
    return sentences


_READERS = {
    "pypi": _pypi,
    "npm": _npm,
    "crates": _crates,
    "github": _github,
    "github-release": _github_release,
}


def facts(document: Document | tuple[SourceReader, str], text: str, url: str) -> str:
    """A registry document as plain sentences (FetchFailed when it is not what the registry
    serves). `document` is the Document, or (reader, package name) when a source is re-read."""
    reader, name = (document.reader, document.package.name) if isinstance(document, Document) else document
    if reader == "hub":
        sentences = _hub(text, name, url)
    else:
        try:
            data = parse_text(text, Path("registry.json"))
        except InputError as exc:
            raise FetchFailed(f"not a {LABELS[reader]} document: {exc.problem}", where=url) from None
        if not isinstance(data, Mapping):
            raise FetchFailed(f"not a {LABELS[reader]} document: expected a JSON object", where=url)
        sentences = _READERS[reader](data, name)
    said = [s for s in sentences if s]
    return " ".join(said) if len(said) > 1 else ""  # naming the package alone states no fact


def package_of(title: str) -> str:
    """The package a registry source's title names ('PyPI: fernwick' -> 'fernwick')."""
    return title.split(": ", 1)[1] if ": " in title else title
