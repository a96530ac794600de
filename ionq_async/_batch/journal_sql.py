"""The journal's SQLite file: its tables and rows, the statements that write them, a commit."""

from __future__ import annotations

import itertools
import operator
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from attrs import frozen

__all__ = [
    "CLONED",
    "FINISHED",
    "INTENT",
    "PRICED",
    "RATIO",
    "UNSENT",
    "End",
    "JournalEntry",
    "close",
    "commit",
    "connect",
    "connect_here",
    "end_row",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rerun (
    source_id TEXT PRIMARY KEY,
    token     TEXT,
    job_id    TEXT,
    status    TEXT,
    attempt   INTEGER NOT NULL DEFAULT 0,
    error     TEXT,
    updated   REAL NOT NULL,
    sent      REAL,
    estimate  REAL,
    cost      REAL
)
"""
_CAMPAIGN = "CREATE TABLE IF NOT EXISTS campaign (key TEXT PRIMARY KEY, value REAL NOT NULL)"
_COLUMNS = {"sent": "REAL", "estimate": "REAL", "cost": "REAL"}

_INTENT_TAIL = (
    " ON CONFLICT(source_id) DO UPDATE SET token = excluded.token, job_id = NULL,"
    " status = NULL, attempt = excluded.attempt, error = NULL, updated = excluded.updated,"
    " sent = coalesce(CASE WHEN excluded.token = token THEN sent END, excluded.sent),"
    " estimate = excluded.estimate, cost = NULL"
)
_INTENT_HEAD = (
    "INSERT INTO rerun (source_id, token, job_id, status, attempt, updated, sent, estimate)"
)
_INTENT_ROW = "(?, ?, NULL, NULL, ?, ?, ?, ?)"
INTENT = f"{_INTENT_HEAD} VALUES {_INTENT_ROW}{_INTENT_TAIL}"
_CLONED_HEAD = "INSERT INTO rerun (source_id, job_id, updated)"
_CLONED_ROW = "(?, ?, ?)"
_CLONED_TAIL = (
    " ON CONFLICT(source_id) DO UPDATE SET job_id = excluded.job_id, updated = excluded.updated"
)
CLONED = f"{_CLONED_HEAD} VALUES {_CLONED_ROW}{_CLONED_TAIL}"
_FINISHED_HEAD = "INSERT INTO rerun (source_id, status, job_id, error, cost, updated)"
_FINISHED_ROW = "(?, ?, ?, ?, ?, ?)"
_FINISHED_TAIL = (
    " ON CONFLICT(source_id) DO UPDATE SET job_id = coalesce(excluded.job_id, job_id),"
    " status = excluded.status, error = excluded.error, updated = excluded.updated,"
    " cost = coalesce(excluded.cost, cost)"
)
FINISHED = f"{_FINISHED_HEAD} VALUES {_FINISHED_ROW}{_FINISHED_TAIL}"
_MANY = {
    INTENT: (_INTENT_HEAD, _INTENT_ROW, _INTENT_TAIL),
    CLONED: (_CLONED_HEAD, _CLONED_ROW, _CLONED_TAIL),
    FINISHED: (_FINISHED_HEAD, _FINISHED_ROW, _FINISHED_TAIL),
}
"""Statements also written for many rows at once: `head VALUES row, row, ... tail`."""
_SIZES = (100, 25, 5)
"""Rows per multi-row statement (a few fixed sizes, so that SQLite's statement cache holds them).

A chunk's intents (100) in one statement, not one per row: each statement the journal's
thread runs waits for the GIL once more, behind a busy event loop.
"""
_MANY_TEXT = {
    (statement, size): f"{head} VALUES {', '.join([row] * size)}{tail}"
    for statement, (head, row, tail) in _MANY.items()
    for size in _SIZES
}
"""Each multi-row statement's SQL, by (one-row statement, rows), built once."""
PRICED = "UPDATE rerun SET estimate = coalesce(estimate, ?), cost = ? WHERE source_id = ?"
RATIO = (
    "INSERT INTO campaign (key, value) VALUES ('cost_ratio', ?)"
    " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"
)
UNSENT = "DELETE FROM rerun WHERE source_id = ? AND token = ? AND job_id IS NULL AND status IS NULL"
"""An intent written ahead whose clone was never sent: as if it had not been written."""


@frozen(kw_only=True)
class JournalEntry:
    """What the journal knows of one source job."""

    source_id: str
    token: str | None = None
    job_id: str | None = None
    status: str | None = None
    attempt: int = 0
    error: str | None = None
    updated: float = 0.0
    sent: float | None = None
    """When the first clone with `token` was about to be sent (epoch seconds).

    None for an intent written ahead (or by a journal older than this column): the clone
    was sent, if at all, at some time between `updated` and the end of that run.
    """
    estimate: float | None = None
    """IonQ's estimate of the source's clone, recorded with its intent (under a budget)."""
    cost: float | None = None
    """The actual cost of the source's clone, once known."""


class End(NamedTuple):
    """How one source's re-run ended, as the journal records it."""

    source_id: str
    status: str
    job_id: str | None = None
    error: str | None = None
    cost: float | None = None
    """The actual cost of the source's clone, if known."""


SELECT = (
    "SELECT source_id, token, job_id, status, attempt, error, updated, sent, estimate, cost"
    " FROM rerun"
)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the journal at `path`: WAL, fsynced commits, current columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(_SCHEMA)
    db.execute(_CAMPAIGN)
    columns = {row[1] for row in db.execute("PRAGMA table_info(rerun)")}
    for name, kind in _COLUMNS.items():
        if name not in columns:  # a journal written before the column was recorded
            db.execute(f"ALTER TABLE rerun ADD COLUMN {name} {kind}")
    return db


def connect_here(path: Path) -> sqlite3.Connection:
    """A second connection to an open journal, for commits without fsync made in the loop.

    It never waits for the write lock (the other connection's holder is the journal's
    thread) and never checkpoints: checkpoints, which fsync, run in the thread.
    """
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=0)
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    return db


def close(db: sqlite3.Connection) -> None:
    """Fold the WAL into the database (the loop's commits do not), then close."""
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def commit(db: sqlite3.Connection, batch: Sequence[tuple[str, tuple[Any, ...], Any]]) -> None:
    """One transaction; each run of writes with the same SQL in as few statements as can be."""
    statements = [
        step
        for sql, run in itertools.groupby(batch, key=operator.itemgetter(0))
        for step in _steps(sql, [params for _, params, _ in run])
    ]
    if len(statements) == 1 and not statements[0][2]:
        sql, params, _ = statements[0]
        db.execute(sql, params)  # one statement is a transaction of its own
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, params, many in statements:
            if many:
                db.executemany(sql, params)
            else:
                db.execute(sql, params)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # a failed COMMIT (a full disk) still holds the write lock
            db.execute("ROLLBACK")
        raise


def _steps(statement: str, rows: list[tuple[Any, ...]]) -> Iterator[tuple[str, Any, bool]]:
    """The statements that write `rows`: (SQL, parameters, whether for executemany)."""
    start = 0
    if statement in _MANY:
        for size in _SIZES:
            while len(rows) - start >= size:
                flat = [value for params in rows[start : start + size] for value in params]
                yield _MANY_TEXT[statement, size], flat, False
                start += size
    rest = rows[start:]
    if len(rest) == 1:
        yield statement, rest[0], False
    elif rest:
        yield statement, rest, True


def end_row(end: End) -> tuple[Any, ...]:
    """The parameters of `FINISHED` for `end`."""
    return (*end, time.time())
