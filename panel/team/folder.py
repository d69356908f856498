"""Where the team's files live: `<outputs>/.team/`, hidden like the record index, so the record
walk, `panel stats` and the temp-file sweep pass it by."""

from __future__ import annotations

from pathlib import Path

TEAM_DIR = ".team"


def team_dir(root: Path) -> Path:
    return root / TEAM_DIR


def ensure(root: Path) -> Path:
    """The team folder, made on first use, readable by its owner only (it holds the user file)."""
    folder = team_dir(root)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask
    return folder
