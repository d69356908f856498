"""Agreement between reviewers (people, not personas): Krippendorff's alpha on the ship/skip
verdicts two or more people gave on the same review of the same record.

A person's verdicts on a record are those they saved on the desk (every review's verdict, as
they left it) or gave in a blind second review; the team's work store keeps them
(panel/team/work.py). A review counts when at least two people gave it a verdict. Alpha is 1
for perfect agreement, 0 for what chance alone would give, below 0 for systematic disagreement;
undefined (None) with no such review or when every verdict is the same. A reviewer who saw the
first review's verdicts before saving agrees more easily: the blind second review
(`panel desk policy --blind-review on`) is what makes the figure honest.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from panel.stats.figures import ReviewerAgreement
from panel.team.work import WorkStore

VALUES = {"skip": 0.0, "ship": 1.0}
log = logging.getLogger(__name__)


def reviewer_alpha(verdicts: Iterable[tuple[str, str, str, str]]) -> ReviewerAgreement:
    """From (record, person, unit, verdict) rows: alpha over the reviews with two or more verdicts."""
    import krippendorff

    units: dict[tuple[str, str], dict[str, str]] = {}
    for record, person, unit, verdict in verdicts:
        if verdict in VALUES:
            units.setdefault((record, unit), {})[person] = verdict
    pairable = {key: given for key, given in units.items() if len(given) >= 2}
    people = sorted({p for given in pairable.values() for p in given})
    records = len({record for record, _ in pairable})
    seen = {v for given in pairable.values() for v in given.values()}
    if len(seen) < 2:  # no review two people judged, or every verdict the same: alpha is undefined
        return ReviewerAgreement(None, records, len(pairable), len(people))
    data = [[VALUES[given[p]] if p in given else math.nan for given in pairable.values()] for p in people]
    alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return ReviewerAgreement(alpha, records, len(pairable), len(people))


def reviewer_agreement(root: Path) -> ReviewerAgreement | None:
    """The folder's figure; None when no desk has kept verdicts there (nothing is created), or
    when its store cannot be read just now (the other figures never wait on it)."""
    store = WorkStore.existing(root)
    if store is None:
        return None
    try:
        return reviewer_alpha(store.all_verdicts())
    except sqlite3.Error as exc:
        log.info("reviewers' verdicts in %s not read: %s", store.path, exc)
        return None
    finally:
        store.close()
