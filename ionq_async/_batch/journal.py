"""A resumable record of a batch re-run in SQLite: intent -> cloned -> final status.

The intent (with its client token) is committed before a clone is sent, and the job id as
soon as it is known, so a run killed at any point can be resumed without cloning a source
twice. SQLite runs in one worker thread, off the event loop; writes that arrive together
share one transaction (group commit). WAL with synchronous=NORMAL survives a killed
process; it does not promise the last transaction across a power cut.

Under a budget an intent carries IonQ's estimate of the clone and an end its actual cost,
and the `campaign` table keeps the largest actual/estimate ratio seen, so every run on one
journal spends from one budget and prices its clones at the drift already seen.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from attrs import frozen

__all__ = ["Journal", "JournalEntry"]

T = TypeVar("T")

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
_INTENT = (
    "INSERT INTO rerun (source_id, token, job_id, status, attempt, updated, sent, estimate)"
    " VALUES (?, ?, NULL, NULL, ?, ?, ?, ?)"
    " ON CONFLICT(source_id) DO UPDATE SET token = excluded.token, job_id = NULL,"
    " status = NULL, attempt = excluded.attempt, error = NULL, updated = excluded.updated,"
    " sent = coalesce(CASE WHEN excluded.token = token THEN sent END, excluded.sent),"
    " estimate = excluded.estimate, cost = NULL"
)
_CLONED = "UPDATE rerun SET job_id = ?, updated = ? WHERE source_id = ?"
_FINISHED = (
    "INSERT INTO rerun (source_id, job_id, status, error, updated, cost) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(source_id) DO UPDATE SET job_id = coalesce(excluded.job_id, job_id),"
    " status = excluded.status, error = excluded.error, updated = excluded.updated,"
    " cost = coalesce(excluded.cost, cost)"
)
_PRICED = "UPDATE rerun SET estimate = coalesce(estimate, ?), cost = ? WHERE source_id = ?"
_RATIO = (
    "INSERT INTO campaign (key, value) VALUES ('cost_ratio', ?)"
    " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"
)


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
    """When the first clone with `token` was about to be sent (epoch seconds)."""
    estimate: float | None = None
    """IonQ's estimate of the source's clone, recorded with its intent (under a budget)."""
    cost: float | None = None
    """The actual cost of the source's clone, once known."""


class Journal:
    """A batch re-run journal at `path`; use `async with Journal(path) as journal:`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, tuple[Any, ...], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @staticmethod
    def exists_with_entries(path: str | os.PathLike[str]) -> bool:
        """True if a journal file at `path` already records a run."""
        if not Path(path).is_file():
            return False
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                row = db.execute("SELECT count(*) FROM rerun").fetchone()
        except sqlite3.Error:
            return False
        return bool(row and row[0])

    async def __aenter__(self) -> Journal:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._db is not None

    async def open(self) -> None:
        """Create or open the database."""
        if self._db is not None:
            return
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ionq_async-journal")
        self._db = await self._run(self._connect)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.execute(_CAMPAIGN)
        columns = {row[1] for row in db.execute("PRAGMA table_info(rerun)")}
        for name, kind in _COLUMNS.items():
            if name not in columns:  # a journal written before the column was recorded
                db.execute(f"ALTER TABLE rerun ADD COLUMN {name} {kind}")
        return db

    async def close(self) -> None:
        """Flush pending writes and close; idempotent."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        if self._db is not None:
            db, self._db = self._db, None
            await self._run(db.close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _run(self, fn: Callable[[], T]) -> T:
        assert self._executor is not None, "the journal is not open"
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def load(self) -> dict[str, JournalEntry]:
        """Every source the journal knows, by source id."""
        db = self._require()
        rows = await self._run(
            lambda: db.execute(
                "SELECT source_id, token, job_id, status, attempt, error, updated, sent,"
                " estimate, cost FROM rerun"
            ).fetchall()
        )
        return {
            r[0]: JournalEntry(
                source_id=r[0],
                token=r[1],
                job_id=r[2],
                status=r[3],
                attempt=r[4],
                error=r[5],
                updated=r[6],
                sent=r[7],
                estimate=r[8],
                cost=r[9],
            )
            for r in rows
        }

    async def cost_ratio(self) -> float | None:
        """The largest actual/estimate cost ratio the campaign has seen, if any."""
        db = self._require()
        row = await self._run(
            lambda: db.execute("SELECT value FROM campaign WHERE key = 'cost_ratio'").fetchone()
        )
        return None if row is None else float(row[0])

    async def learned_ratio(self, ratio: float) -> None:
        """Record an actual/estimate cost ratio (the journal keeps the largest)."""
        await self._write(_RATIO, (ratio,))

    async def priced(self, source_id: str, cost: float | None, estimate: float | None) -> None:
        """Record what IonQ says a clone an earlier run made costs (its estimate, if unknown)."""
        await self._write(_PRICED, (estimate, cost, source_id))

    async def intent(
        self, source_id: str, token: str | None, attempt: int, *, estimate: float | None = None
    ) -> None:
        """Record, durably, that `source_id` is about to be cloned with `token` (at `estimate`)."""
        now = time.time()
        await self._write(_INTENT, (source_id, token, attempt, now, now, estimate))

    async def cloned(self, source_id: str, job_id: str) -> None:
        """Record the id of the clone of `source_id`."""
        await self._write(_CLONED, (job_id, time.time(), source_id))

    async def finished(
        self,
        source_id: str,
        status: str,
        *,
        job_id: str | None = None,
        error: str | None = None,
        cost: float | None = None,
    ) -> None:
        """Record how `source_id`'s re-run ended (and its clone's actual cost, if known)."""
        await self._write(_FINISHED, (source_id, job_id, status, error, time.time(), cost))

    def _require(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the journal is not open; use `async with Journal(path)`")
        return self._db

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        self._require()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((sql, params, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            db = self._require()
            try:
                await self._run(functools.partial(_commit, db, batch))
            except sqlite3.Error as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)


def _commit(db: sqlite3.Connection, batch: list[tuple[str, tuple[Any, ...], Any]]) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, params, _ in batch:
            db.execute(sql, params)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
