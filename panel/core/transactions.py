"""One short SQLite write transaction, for the record index and the team's work store alike."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator


@contextlib.contextmanager
def tx(conn: sqlite3.Connection, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One short write transaction. `immediate`: the write lock is taken at the start, not mid-way,
    so a read-then-write inside is atomic (a transaction that writes only temporary tables needs
    none). The connection must be in autocommit mode (isolation_level=None)."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
