"""Roles and what each may do, in one table the desk checks on the server for every action.

A reviewer edits, checks claims, votes, takes drafts and asks for publication; a publisher also
publishes, approves, sends back, assigns and sets a split verdict; an admin also manages users.
Each role includes the ones before it."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["reviewer", "publisher", "admin"]
Permission = Literal["review", "publish", "users"]

ROLES: tuple[Role, ...] = get_args(Role)
_NEEDS: dict[Permission, Role] = {"review": "reviewer", "publish": "publisher", "users": "admin"}
DOES: dict[Permission, str] = {
    "review": "the editing, claim checks, votes, taking drafts and asking for publication",
    "publish": "the publishing, approving, sending back, assigning and split verdicts",
    "users": "the managing of users",
}


def allows(role: str, permission: Permission) -> bool:
    """Whether `role` may do what `permission` covers; an unknown role may do nothing."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(_NEEDS[permission])


def needed(permission: Permission) -> Role:
    return _NEEDS[permission]
