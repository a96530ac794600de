"""A resumable record of a batch re-run in SQLite: intent -> cloned -> final status.

The intent (with its client token) is committed before a clone is sent, and the job id as
soon as it is known, so a run killed at any point can be resumed without cloning a source
twice. SQLite runs in the journal's own thread, off the event loop; queued writes share
one transaction (group commit), and the thread wakes the loop once per commit. A write
someone waits for (an intent, an end whose outcome is emitted once committed) is handed
over at the end of its turn of the loop; a clone's id, which nobody waits for, within
`PACE` seconds (it shares the next commit). A batch with tokens writes the intents of a
chunk of sources ahead, in one commit, so that its POSTs wait for no commit.
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
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import JournalClosedError
from . import journal_sql as sql
from .journal_sql import End, JournalEntry
from .worker import Worker

__all__ = ["End", "Journal", "JournalClosedError", "JournalEntry", "Then"]

logger = logging.getLogger("ionq_async")

PACE = 0.05
"""Seconds a write nobody waits for (a clone's id) may wait to share a commit."""

Then = Callable[[BaseException | None], None]
"""Called in the loop once a write is committed (with None) or could not be (with why)."""
_Write = tuple[str, tuple[Any, ...], "asyncio.Future[None] | Then | None"]
"""A queued write: its SQL, its parameters, and who is answered (None: nobody; logged if lost)."""


class Journal:
    """A batch re-run journal at `path`; use `async with Journal(path) as journal:`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._here: sqlite3.Connection | None = None
        """A second connection, used in the loop for commits that need no fsync."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker = Worker("ionq_async-journal")
        self._pending: list[_Write] = []
        self._urgent = False
        """A queued write has a writer waiting: hand it over at the end of this turn."""
        self._busy = False
        """A group is being committed in the thread."""
        self._soon = False
        self._timer: asyncio.TimerHandle | None = None
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
            self._here = await self._worker.run(functools.partial(sql.connect_here, self.path))
        except BaseException:
            db, self._db = self._db, None
            if db is not None:  # half open is not open
                db.close()
            self._worker.stop()
            raise

    def _connect(self) -> sqlite3.Connection:
        return sql.connect(self.path)

    async def close(self) -> None:
        """Commit the writes already queued, refuse later ones, and close; idempotent.

        Cancelled, it still closes: writes not yet handed to the thread are refused, the
        database is closed after the commit in progress, and the thread ends on its own.
        """
        self._closing = True
        try:
            if self._busy or self._pending:
                if self._drained is None:
                    self._drained = asyncio.get_running_loop().create_future()
                self._schedule()  # closing: what is queued goes now, not at its pace
                await asyncio.wait([self._drained])
            self._answer(self._take_pending(), self._closed())
            self._close_here()
            if self._db is not None:
                db, self._db = self._db, None
                await self._worker.run(functools.partial(sql.close, db))
            self._worker.stop()
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._answer(self._take_pending(), self._closed())
            self._close_here()
            if self._db is not None:
                db, self._db = self._db, None
                self._worker.submit(db.close)
            self._worker.stop(wait=False)

    def _close_here(self) -> None:
        if self._here is not None:
            here, self._here = self._here, None
            here.close()

    async def load(self) -> dict[str, JournalEntry]:
        """Every source the journal knows, by source id."""
        db = self._require()
        rows = await self._worker.run(lambda: db.execute(sql.SELECT).fetchall())
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
        await self._write(sql.RATIO, (ratio,))

    async def priced(self, source_id: str, cost: float | None, estimate: float | None) -> None:
        """Record what IonQ says a clone an earlier run made costs (its estimate, if unknown)."""
        await self._write(sql.PRICED, (estimate, cost, source_id))

    async def intent(
        self, source_id: str, token: str | None, attempt: int, *, estimate: float | None = None
    ) -> None:
        """Record, durably, that `source_id` is about to be cloned with `token` (at `estimate`)."""
        now = time.time()
        await self._write(sql.INTENT, (source_id, token, attempt, now, now, estimate))

    async def intents_ahead(self, tokens: Sequence[tuple[str, str]]) -> None:
        """Record, durably and in one commit, sources about to be cloned with these tokens.

        Written ahead of their POSTs, with no send time: a resume treats such a clone as
        sent at the latest just before that run stopped (see `JournalEntry.sent`).
        """
        assert self._loop is not None
        done: asyncio.Future[None] = self._loop.create_future()
        now = time.time()
        for source_id, token in tokens:
            self._enqueue(sql.INTENT, (source_id, token, 1, now, None, None), done)
        await done

    def unsent(self, tokens: Sequence[tuple[str, str]]) -> None:
        """Queue the removal of intents written ahead whose clones were never sent."""
        for source_id, token in tokens:
            self._enqueue(sql.UNSENT, (source_id, token), None, paced=True)

    async def cloned(self, source_id: str, job_id: str) -> None:
        """Record the id of the clone of `source_id`."""
        await self._write(sql.CLONED, (source_id, job_id, time.time()))

    def cloned_soon(self, source_id: str, job_id: str) -> None:
        """Queue the id of the clone of `source_id` for the next commit, without waiting.

        Writes commit in order, so a later write for the source lands with or after it;
        close() commits it. A failure to commit is logged.
        """
        self._enqueue(sql.CLONED, (source_id, job_id, time.time()), None, paced=True)

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
        await self._write(sql.FINISHED, sql.end_row(End(source_id, status, job_id, error, cost)))

    def ended(self, end: End, then: Then) -> None:
        """Queue `end` for the next commit; `then` is called once it is committed (or is not)."""
        self._enqueue(sql.FINISHED, sql.end_row(end), then)

    def _require(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the journal is not open; use `async with Journal(path)`")
        return self._db

    def _closed(self) -> JournalClosedError:
        return JournalClosedError(f"the journal is not open: {self.path} was closed")

    async def _write(self, statement: str, params: tuple[Any, ...]) -> None:
        """Queue one write for the next group commit; return once it is committed.

        A cancelled writer's write still commits: it is in the queue, not in the future.
        """
        assert self._loop is not None
        done: asyncio.Future[None] = self._loop.create_future()
        self._enqueue(statement, params, done)
        await done

    def _enqueue(
        self,
        statement: str,
        params: tuple[Any, ...],
        done: asyncio.Future[None] | Then | None,
        *,
        paced: bool = False,
    ) -> None:
        """Queue one write: for the end of this turn of the loop, or (`paced`) within PACE s."""
        if self._db is None or self._closing:
            raise self._closed()
        self._pending.append((statement, params, done))
        self._urgent = self._urgent or not paced
        self._schedule()

    def _schedule(self) -> None:
        """Plan the next hand-over of what is queued, unless a group is in the thread."""
        if self._busy or not self._pending:
            return
        assert self._loop is not None
        if self._urgent or self._closing:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._soon:
                self._soon = True
                self._loop.call_soon(self._hand_over)
        elif self._timer is None and not self._soon:
            self._timer = self._loop.call_later(PACE, self._hand_over)

    def _take_pending(self) -> list[_Write]:
        batch, self._pending = self._pending, []
        self._urgent = False
        return batch

    def _hand_over(self) -> None:
        """Give the writes queued so far to the thread, one transaction."""
        self._soon = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._busy:
            return
        batch = self._take_pending()
        db = self._db
        if batch and db is not None:
            batch = self._commit_here(batch)
            if not batch:
                self._idle()
                return
            self._busy = True
            self._worker.submit(functools.partial(self._commit_in_thread, db, batch))
            return
        self._answer(batch, self._closed())
        self._idle()

    def _commit_here(self, batch: list[_Write]) -> list[_Write]:
        """Commit in the loop what needs no fsync (all but intents); what is left for the thread.

        A commit without fsync is a few writes to the WAL in the page cache: cheaper than
        a hand-over, whose thread then waits for the GIL behind a busy loop, and it lets
        an outcome be emitted in the same turn. If the thread holds the write lock, the
        thread commits the whole group, in order.
        """
        here = self._here
        if here is None:
            return batch
        slow = [w for w in batch if w[0] is sql.INTENT]
        quick = [w for w in batch if w[0] is not sql.INTENT] if slow else batch
        if not quick:
            return batch
        try:
            sql.commit(here, quick)
        except sqlite3.Error:  # the write lock held by the thread, or worse: the thread reports
            return batch
        self._answer(quick, None)
        return slow

    def _idle(self) -> None:
        """Nothing queued, nothing in the thread: tell a waiting close()."""
        if self._drained is not None and not self._pending and not self._busy:
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
        """In the loop: answer a group's writers, then plan what queued meanwhile."""
        self._busy = False
        self._answer(batch, error)
        self._schedule()
        self._idle()

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
        level = "FULL" if any(write[0] is sql.INTENT for write in batch) else "NORMAL"
        if level != self._synchronous:
            db.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level
        sql.commit(db, batch)
