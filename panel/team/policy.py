"""The team's rules, stored in `<outputs>/.team/policy.json` so the desk and the CLI follow the
same ones (`panel desk policy`), and the four-eyes rule itself, which the publish gate
(panel/editorial/publishing.py) applies for both doors.

Four eyes: a record whose score, verdict or review text a person changed is published only by
someone who made none of those changes. Changes are read from the record's history, since its
last publication; a change with no history entry (made outside panel) has no known author, so
with the rule on it blocks publishing until it is made again through the desk or `panel edit`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from panel.core.files import atomic_write, exclusive
from panel.core.loading import describe_validation_error, parse_text, read_text
from panel.errors import ConfigError
from panel.records import Comparison, Record, ToolPanel
from panel.team.folder import ensure, team_dir
from panel.team.people import same_person

POLICY_FILE = "policy.json"
DEFAULT_LOCK_MINUTES = 30
# A history field a person's change to the published judgement shows in: `reviews.builder.score`
# in a panel, `Quillstack: reviews.builder.verdict` in a comparison.
JUDGEMENT = re.compile(r"^(?:.+: )?reviews\.[a-z][a-z0-9_-]{0,39}\.(?:score|verdict|review)$")


class Policy(Record):
    kind: Literal["desk-policy"] = "desk-policy"
    version: Literal[1] = 1
    four_eyes: bool = Field(
        default=False, description="Whoever changed a score, verdict or review text does not publish it."
    )
    blind_review: bool = Field(
        default=False,
        description="A reviewer opening a draft someone else reviewed gives their own verdicts first.",
    )
    lock_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = Field(
        default=DEFAULT_LOCK_MINUTES,
        description="A taken draft's lock is released after this many quiet minutes.",
    )

    @property
    def lock_window(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)


def _path(root: Path) -> Path:
    return team_dir(root) / POLICY_FILE


def read_policy(root: Path) -> Policy:
    """The folder's rules; the defaults (every rule off) when none were set."""
    path = _path(root)
    if not path.exists():
        return Policy()
    data = parse_text(read_text(path, ConfigError), path, ConfigError)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            describe_validation_error(exc), where=path, hint="set it again with `panel desk policy`"
        ) from None


def write_policy(root: Path, **changes: object) -> Policy:
    """Change some rules, keeping the rest; returns the rules now in force."""
    ensure(root)
    with exclusive(team_dir(root) / ".policy.lock"):
        current = read_policy(root)
        try:
            policy = Policy.model_validate({**current.model_dump(), **changes})
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc), where="panel desk policy") from None
        atomic_write(_path(root), (json.dumps(policy.model_dump(mode="json"), indent=2) + "\n").encode())
    return policy


def judgement_changes(record: ToolPanel | Comparison, since: datetime | None = None) -> dict[str, list[str]]:
    """Who changed a score, verdict or review text (after `since`, the last publication), and
    which: {person: [fields]}, in the order of the history."""
    found: dict[str, list[str]] = {}
    for change in record.history:
        if change.action != "edited" or (since is not None and change.at <= since):
            continue
        fields = [f for f in change.fields if JUDGEMENT.match(f)]
        if fields:
            found.setdefault(change.by, []).extend(f for f in fields if f not in found.get(change.by, []))
    return found


def _fields(fields: Sequence[str]) -> str:
    shown = ", ".join(fields[:3])
    return shown + (f" (and {len(fields) - 3} more)" if len(fields) > 3 else "")


def four_eyes_refusal(
    record: ToolPanel | Comparison,
    by: str,
    since: datetime | None = None,
    unattributed: Sequence[str] = (),
) -> str | None:
    """Why `by` may not publish this record under the four-eyes rule, or None when they may.
    `unattributed`: judgement fields changed with no history entry saying by whom."""
    mine = next(
        (fields for person, fields in judgement_changes(record, since).items() if same_person(person, by)),
        None,
    )
    if mine:
        return (
            f"the four-eyes rule is on and {by} changed {_fields(mine)}, so someone else must publish "
            "it (on the desk: ask for publication; a publisher who made none of the changes approves it)"
        )
    hand = [f for f in unattributed if JUDGEMENT.match(f)]
    if hand:
        return (
            f"the four-eyes rule is on and {_fields(hand)} changed outside panel, so nobody can tell "
            "who changed it; put the model's text back and make the change in the desk or with "
            "`panel edit`, which records who made it"
        )
    return None
