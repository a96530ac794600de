"""A resumable record of a batch re-run in SQLite: intent -> cloned -> final status.

The intent (with its client token) is committed before a clone is sent, and the job id as
soon as it is known, so a run killed at any point can be resumed without cloning a source
twice. SQLite runs in the journal's own thread, off the event loop; writes queued in one
turn of the loop, or while a commit runs, share the next transaction (group commit), and
the thread wakes the loop once per commit. Only an intent's writer waits for its commit;
clone ids and ends are queued without a future (an end's callback runs once committed).
WAL: a commit holding an intent runs with synchronous=FULL (fsynced before its writers are
answered), so an intent row is on disk, across a power cut, before its POST is sent, and
one fsync covers every intent of a group commit and every commit before it. Other commits
(clone ids, final statuses) run with synchronous=NORMAL: a power cut may lose the last of
them, and a resume finds those clones by their tokens.

Under a budget an intent carries IonQ's estimate of the clone and an end its actual cost,
and the `campaign` table keeps the largest actual/estimate ratio seen, so every run on one
journal spends from one budget and prices its clones at the drift already seen.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import operator
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from attrs import frozen

from ..errors import JournalClosedError
from .worker import Worker

__all__ = ["End", "Journal", "JournalClosedError", "JournalEntry", "Then"]

logger = logging.getLogger("ionq_async")

Then = Callable[[BaseException | None], None]
"""Called in the loop once a write is committed (with None) or could not be (with why)."""
_Write = tuple[str, tuple[Any, ...], "asyncio.Future[None] | Then | None"]
"""A queued write: its SQL, its parameters, and who is answered (None: nobody; logged if lost)."""

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
    "INSERT INTO rerun (source_id, status, job_id, error, cost, updated) VALUES (?, ?, ?, ?, ?, ?)"
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


class End(NamedTuple):
    """How one source's re-run ended, as the journal records it."""

    source_id: str
    status: str
    job_id: str | None = None
    error: str | None = None
    cost: float | None = None
    """The actual cost of the source's clone, if known."""


class Journal:
    """A batch re-run journal at `path`; use `async with Journal(path) as journal:`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker = Worker("ionq_async-journal")
        self._pending: list[_Write] = []
        self._flushing = False
        """A group is being committed, or its hand-over is scheduled."""
        self._drained: asyncio.Future[None] | None = None
        self._closing = False
        self._synchronous = "FULL"

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

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._db is not None and not self._closing

    async def open(self) -> None:
        """Create or open the database."""
        if self._db is not None:
            return
        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._worker.start()
        try:
            self._db = await self._worker.run(self._connect)
        except BaseException:
            self._worker.stop()
            raise

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(_SCHEMA)
        db.execute(_CAMPAIGN)
        columns = {row[1] for row in db.execute("PRAGMA table_info(rerun)")}
        for name, kind in _COLUMNS.items():
            if name not in columns:  # a journal written before the column was recorded
                db.execute(f"ALTER TABLE rerun ADD COLUMN {name} {kind}")
        return db

    async def close(self) -> None:
        """Commit the writes already queued, refuse later ones, and close; idempotent.

        Cancelled, it still closes: writes not yet handed to the thread are refused, the
        database is closed after the commit in progress, and the thread ends on its own.
        """
        self._closing = True
        try:
            if self._flushing:
                if self._drained is None:
                    self._drained = asyncio.get_running_loop().create_future()
                await asyncio.wait([self._drained])
            self._answer(self._take_pending(), self._closed())
            if self._db is not None:
                db, self._db = self._db, None
                await self._worker.run(db.close)
            self._worker.stop()
        finally:
            self._answer(self._take_pending(), self._closed())
            if self._db is not None:
                db, self._db = self._db, None
                self._worker.submit(db.close)
            self._worker.stop(wait=False)

    async def load(self) -> dict[str, JournalEntry]:
        """Every source the journal knows, by source id."""
        db = self._require()
        rows = await self._worker.run(
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
        row = await self._worker.run(
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

    def cloned_soon(self, source_id: str, job_id: str) -> None:
        """Queue the id of the clone of `source_id` for the next commit, without waiting.

        Writes commit in order, so a later write for the source lands with or after it;
        close() commits it. A failure to commit is logged.
        """
        self._enqueue(_CLONED, (job_id, time.time(), source_id), None)

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
        await self._write(_FINISHED, _end_row(End(source_id, status, job_id, error, cost)))

    def ended(self, end: End, then: Then) -> None:
        """Queue `end` for the next commit; `then` is called once it is committed (or is not)."""
        self._enqueue(_FINISHED, _end_row(end), then)

    def _require(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the journal is not open; use `async with Journal(path)`")
        return self._db

    def _closed(self) -> JournalClosedError:
        return JournalClosedError(f"the journal is not open: {self.path} was closed")

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Queue one write for the next group commit; return once it is committed.

        A cancelled writer's write still commits: it is in the queue, not in the future.
        """
        assert self._loop is not None
        done: asyncio.Future[None] = self._loop.create_future()
        self._enqueue(sql, params, done)
        await done

    def _enqueue(
        self, sql: str, params: tuple[Any, ...], done: asyncio.Future[None] | Then | None
    ) -> None:
        """Queue one write; the group of this turn of the loop is handed over at its end."""
        if self._db is None or self._closing:
            raise self._closed()
        self._pending.append((sql, params, done))
        if not self._flushing:
            self._flushing = True
            assert self._loop is not None
            self._loop.call_soon(self._hand_over)

    def _take_pending(self) -> list[_Write]:
        batch, self._pending = self._pending, []
        return batch

    def _hand_over(self) -> None:
        """Give the writes queued so far to the thread, one transaction; none: idle."""
        batch = self._take_pending()
        db = self._db
        if batch and db is not None:
            self._worker.submit(functools.partial(self._commit_in_thread, db, batch))
            return
        self._answer(batch, self._closed())
        self._flushing = False
        if self._drained is not None:
            drained, self._drained = self._drained, None
            if not drained.done():
                drained.set_result(None)

    def _commit_in_thread(self, db: sqlite3.Connection, batch: list[_Write]) -> None:
        error: Exception | None = None
        try:
            self._commit(db, batch)
        except Exception as exc:
            error = exc
        self._worker.reply(self._committed, batch, error)

    def _committed(self, batch: list[_Write], error: BaseException | None) -> None:
        """In the loop: answer a group's writers, then hand over what queued meanwhile."""
        self._answer(batch, error)
        self._hand_over()

    @staticmethod
    def _answer(batch: list[_Write], error: BaseException | None) -> None:
        for _, params, done in batch:
            if done is None:
                if error is not None:
                    logger.error("could not journal %s: %s", params, error, exc_info=error)
            elif isinstance(done, asyncio.Future):
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
                    done.exception()  # seen: its writer may have been cancelled meanwhile
            else:
                try:
                    done(error)
                except Exception:
                    logger.exception("a journal write's callback raised")

    def _commit(self, db: sqlite3.Connection, batch: list[_Write]) -> None:
        """One transaction (in the journal's thread); fsynced if it holds an intent."""
        level = "FULL" if any(sql is _INTENT for sql, _, _ in batch) else "NORMAL"
        if level != self._synchronous:
            db.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level
        _commit(db, batch)


def _commit(db: sqlite3.Connection, batch: list[_Write]) -> None:
    """One transaction; each run of writes with the same SQL in one executemany, in order."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, run in itertools.groupby(batch, key=operator.itemgetter(0)):
            db.executemany(sql, [params for _, params, _ in run])
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _end_row(end: End) -> tuple[Any, ...]:
    """The parameters of `_FINISHED` for `end`."""
    return (*end, time.time())
