"""One rule for when two names are the same person: case and runs of spaces do not count."""

from __future__ import annotations


def person_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def same_person(a: str, b: str) -> bool:
    return person_key(a) == person_key(b)
