"""Reviewer accounts: a name, a role and a personal sign-in token, of which only a slow hash is kept.

The user file is `<outputs>/.team/users.json`, mode 0600. A token is `KEY.SECRET`: the key (not
secret) finds the account without trying every hash; the secret is checked against its argon2id
hash (argon2-cffi, whose verify compares in constant time). An unknown key still costs one hash
check, so a wrong key and a wrong secret take as long. Resetting an account gives it a new key, so
every session made with the old token ends; so does removing it. The desk rereads the file when it
changes on disk, so `panel desk users remove` takes effect in a running desk at once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationError

from panel.core.files import atomic_write, exclusive
from panel.core.loading import describe_validation_error, parse_text, read_text
from panel.errors import ConfigError, InputError
from panel.records import Record, utcnow
from panel.team.folder import ensure, team_dir
from panel.team.people import same_person
from panel.team.roles import ROLES, Role

if TYPE_CHECKING:
    from argon2 import PasswordHasher

USERS_FILE = "users.json"
MAX_NAME = 64
# Letters (any script), digits, and the punctuation of user names and e-mail addresses. No
# control characters, no markup, no slashes: a name goes into every record's history.
NAME = re.compile(r"^[^\W_][\w.@+' -]{0,63}$")
TOKEN = re.compile(r"^([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$")


def valid_name(name: str) -> str:
    """The account name, with runs of spaces made one; InputError naming the rule otherwise."""
    cleaned = " ".join(name.split())
    if not NAME.fullmatch(cleaned) or len(cleaned) > MAX_NAME:
        raise InputError(
            f"{name[:80]!r} is not a user name",
            where="NAME",
            hint=f"use 1 to {MAX_NAME} letters, digits, spaces or . @ + ' - _, "
            "starting with a letter or digit",
        )
    return cleaned


def _name_in_file(name: str) -> str:
    try:
        if valid_name(name) == name:
            return name
    except InputError:
        pass
    raise ValueError("not a user name as `panel desk users add` writes it")


class Account(Record):
    name: Annotated[str, AfterValidator(_name_in_file)]
    role: Role
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{12}$")]
    hash: Annotated[str, StringConstraints(pattern=r"^\$argon2id\$", max_length=400)]
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = ""


class UsersFile(Record):
    """The user file: who may sign in to the desk, and as what."""

    kind: Literal["desk-users"] = "desk-users"
    version: Literal[1] = 1
    users: list[Account] = Field(default_factory=list)


@functools.cache
def _hasher() -> PasswordHasher:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise ConfigError(
            "accounts need argon2-cffi", hint='install the desk extra: pip install "panel-review[desk]"'
        ) from None
    return PasswordHasher()  # RFC 9106's low-memory profile: argon2id, 64 MiB, 3 passes


@functools.cache
def _dummy_hash() -> str:
    """A hash no token matches, checked when the key is unknown, so that case costs the same."""
    return _hasher().hash(secrets.token_urlsafe(32))


def _secret_matches(stored: str, secret: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Issued:
    """An account just made or reset, with its token: shown once, never stored."""

    account: Account
    token: str


class Accounts:
    """The user file of one outputs folder: read (and cached until the file changes), changed
    under a lock, written atomically with mode 0600."""

    def __init__(self, root: Path):
        self.path = team_dir(root) / USERS_FILE
        self._root = root
        self._cache: tuple[tuple[int, int, int], UsersFile] | None = None
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> UsersFile:
        text = read_text(self.path, ConfigError)
        data = parse_text(text, self.path, ConfigError)
        try:
            return UsersFile.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(
                describe_validation_error(exc),
                where=self.path,
                hint="fix the file, or remove it and add the users again with `panel desk users add`",
            ) from None

    def file(self) -> UsersFile:
        """The user file as it is now (an empty one when there is none)."""
        with self._lock:
            stamp = self._stamp()
            if stamp is None:
                self._cache = None
                return UsersFile()
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, self._read())
            return self._cache[1]

    def all(self) -> list[Account]:
        return list(self.file().users)

    @property
    def empty(self) -> bool:
        """No accounts: the desk runs in solo mode, on the single shared token."""
        return not self.file().users

    def get(self, name: str) -> Account | None:
        return next((a for a in self.file().users if same_person(a.name, name)), None)

    def by_key(self, key: str) -> Account | None:
        return next((a for a in self.file().users if secrets.compare_digest(a.key, key)), None)

    def verify(self, token: str) -> Account | None:
        """The account this token signs in, or None. Always one argon2 check, whatever is wrong."""
        m = TOKEN.fullmatch(token.strip())
        key, secret = (m.group(1), m.group(2)) if m else ("", token[:100])
        account = self.by_key(key) if m else None
        matches = _secret_matches(account.hash if account else _dummy_hash(), secret)
        return account if account is not None and matches else None

    # -- changing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self) -> Iterator[list[Account]]:
        """The accounts, to change in place, read and written under the folder's lock."""
        ensure(self._root)
        with exclusive(team_dir(self._root) / ".users.lock"):
            users = list(self._read().users) if self.path.exists() else []
            yield users
            data = UsersFile(users=users).model_dump(mode="json")
            atomic_write(self.path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), 0o600)

    def _issue(self, name: str, role: Role, by: str) -> Issued:
        key, secret = secrets.token_urlsafe(9), secrets.token_urlsafe(32)
        account = Account(name=name, role=role, key=key, hash=_hasher().hash(secret), created_by=by)
        return Issued(account, f"{key}.{secret}")

    def add(self, name: str, role: str, by: str) -> Issued:
        name = valid_name(name)
        role = _role(role)
        with self._changing() as users:
            if any(same_person(a.name, name) for a in users):
                raise InputError(
                    f"there is already a user {name!r}",
                    where=self.path,
                    hint="`panel desk users reset NAME` gives them a new link; `remove` takes them off",
                )
            issued = self._issue(name, role, by)
            users.append(issued.account)
        return issued

    def reset(self, name: str, by: str, role: str | None = None) -> Issued:
        """A new token (and key) for the account, optionally a new role; the old link stops working."""
        with self._changing() as users:
            i = self._index(users, name)
            old = users[i]
            issued = self._issue(old.name, _role(role) if role else old.role, by)
            account = issued.account.model_copy(
                update={"created_at": old.created_at, "created_by": old.created_by}
            )
            users[i] = account
        return Issued(account, issued.token)

    def remove(self, name: str) -> Account:
        with self._changing() as users:
            return users.pop(self._index(users, name))

    def _index(self, users: list[Account], name: str) -> int:
        for i, account in enumerate(users):
            if same_person(account.name, name):
                return i
        known = ", ".join(a.name for a in users) or "none yet"
        raise InputError(f"no user {name[:80]!r}", where=self.path, hint=f"the users: {known}")


def _role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"unknown role {role[:40]!r}", where="--role", hint=f"use one of {', '.join(ROLES)}")
    return role


def sign_in_link(token: str, host: str = "127.0.0.1", port: int = 8765) -> str:
    """The personal sign-in address, for the desk's default address unless told otherwise."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/login?token={token}"
