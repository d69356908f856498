"""Where the shipped personas/, prompts/ and models.yaml live; ./ overrides them."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]


def installed(name: str) -> Path:
    """The copy installed with the package: inside the wheel, or the source checkout's top level."""
    bundled = _PACKAGE / "_data" / name
    if bundled.exists():
        return bundled
    return _PACKAGE.parent / name


def search_dirs(name: str) -> list[Path]:
    """Directories to look in, lowest priority first: the installed copy, then ./NAME."""
    dirs = [installed(name)]
    local = Path.cwd() / name
    if local.is_dir() and local.resolve() != dirs[0].resolve():
        dirs.append(local)
    return [d for d in dirs if d.is_dir()]
