"""Cleaning text that came from vendors or models, in one place.

Control characters other than tab and newline have no place in a prompt, a record or a page:
they are invisible, and some of them change how a terminal or an editor shows what follows.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def without_control(text: str) -> str:
    """Each control character (tab and newline excepted) becomes a space."""
    return CONTROL.sub(" ", text)


def one_paragraph(text: str) -> str:
    """Control characters and runs of whitespace (newlines too) become single spaces."""
    return " ".join(without_control(text).split())
