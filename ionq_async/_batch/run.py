"""Running a batch for a caller: open its journal, drive the engine, stream or collect outcomes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from attrs import frozen

from .._core.operations import JobOperations
from .._core.queries import id_list
from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import TokenIndex
from .._engine.polling import Poller
from ..errors import IonQError
from .campaign import spend_guard
from .engine import Rerun
from .journal import Journal
from .leaving import CancelMany
from .outcomes import OutcomeColumns
from .types import RerunOptions, RerunOutcome, RerunReport, count_statuses

__all__ = ["Engines", "RerunStream", "rerun", "rerun_all"]

logger = logging.getLogger("ionq_async")


@frozen
class Engines:
    """What a batch is handed: operations, the shared poller and token index, retries, clock.

    `cancel` cancels jobs in bulk (used by `cancel_on_exit`).
    """

    ops: JobOperations
    poller: Poller
    index: TokenIndex
    retry: RetryPolicy
    budget: RetryBudget | None
    clock: Callable[[], float] = time.monotonic
    cancel: CancelMany | None = None


async def _batch(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> tuple[Rerun, list[str], Journal | None]:
    """Open the journal (and load what it knows), build the run; the journal to close after.

    Plain setup and teardown, no async generator: a stream dropped unclosed is closed by
    its own finalizer, never by the event loop's async-generator hooks as well.
    """
    ids = id_list(source_ids, "source_ids", unique=True)
    if options.session_id is not None:
        body = {**body, "session_id": options.session_id}
    journal = options.journal
    book = journal if isinstance(journal, Journal | None) else Journal(journal)
    own_journal = book is not None and not book.is_open
    run = Rerun(
        engines.ops,
        body,
        options,
        poller=engines.poller,
        index=engines.index,
        retry=engines.retry,
        budget=engines.budget,
        journal=book,
        total=len(ids),
        clock=engines.clock,
        cancel=engines.cancel,
    )
    to_close = book if own_journal else None
    try:
        if book is not None:
            if own_journal:
                await book.open()
            run.resume = await book.load()
        if options.max_cost is not None:
            run.guard = await spend_guard(
                engines.ops, engines.retry, ids, body, options, book, run.resume
            )
        run.progress()
    except BaseException:
        if to_close is not None:
            await to_close.close()
        raise
    return run, ids, to_close


_END = object()
"""Queued after the last outcome, when the batch's driver ends (normally or not)."""


class RerunStream:
    """The outcomes of a batch as each source ends: an async iterator and context manager.

    `async with client.jobs.rerun(ids) as outcomes: async for o in outcomes: ...`. Leaving
    the block (break, exception, cancellation), `aclose()`, or dropping the stream unclosed
    stops the batch: no new clone is sent, POSTs in flight settle and are journaled, and
    the clones already made keep running (cancelled with `cancel_on_exit=True`). An error
    of the batch itself is raised from the iterator.
    """

    def __init__(
        self,
        engines: Engines,
        source_ids: Iterable[str],
        body: Mapping[str, Any],
        options: RerunOptions,
    ) -> None:
        self._engines = engines
        self._source_ids: Iterable[str] | None = source_ids
        self._body = body
        self._options = options
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._driver: asyncio.Future[None] | None = None
        self._journal: Journal | None = None
        self._left = 0
        self._started = False
        self._closed: asyncio.Event | None = None

    def __aiter__(self) -> RerunStream:
        return self

    async def __aenter__(self) -> RerunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.aclose()
        except Exception:
            if exc is None:
                raise
            logger.exception("stopping a batch left by an exception failed")

    async def __anext__(self) -> RerunOutcome:
        if self._closed is not None:
            raise StopAsyncIteration
        if not self._started:
            self._started = True
            await self._start()
        driver = self._driver
        assert driver is not None
        if self._left == 0:
            await asyncio.wait([driver])
            await self.aclose()
            if not driver.cancelled():
                driver.result()  # an error of the batch at its very end (its journal closed)
            raise StopAsyncIteration
        try:
            item = await self._queue.get()
            if item is _END:
                if self._closed is not None:
                    raise StopAsyncIteration
                driver.result()
                raise IonQError("the batch stopped before every source was accounted for")
        except BaseException:
            await self.aclose()
            raise
        self._left -= 1
        outcome: RerunOutcome = item
        return outcome

    async def _start(self) -> None:
        assert self._source_ids is not None
        source_ids, self._source_ids = self._source_ids, None
        try:
            run, ids, self._journal = await _batch(
                self._engines, source_ids, self._body, self._options
            )
        except BaseException:
            self._closed = asyncio.Event()
            self._closed.set()
            raise
        self._left = len(ids)
        queue = self._queue
        run.emit = queue.put_nowait
        self._driver = asyncio.ensure_future(run.drive(ids))
        self._driver.add_done_callback(lambda _: queue.put_nowait(_END))

    async def aclose(self) -> None:
        """Stop the batch: no new clone; POSTs in flight settle and are journaled."""
        if self._closed is not None:
            await self._closed.wait()
            return
        self._closed = asyncio.Event()
        driver = self._driver
        try:
            if driver is not None:
                driver.cancel()
                await asyncio.gather(driver, return_exceptions=True)
        finally:
            journal, self._journal = self._journal, None
            try:
                if journal is not None:
                    await journal.close()
            finally:
                self._closed.set()

    def __del__(self) -> None:
        """Collected unclosed: stop the batch in the background (the client's close awaits it)."""
        if not self._started or self._closed is not None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # collected outside its event loop: nothing of it runs any more
            return
        closing = self.aclose()
        try:
            self._engines.poller.spawn(closing)
        except RuntimeError:
            closing.close()


def rerun(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> RerunStream:
    """Each source's outcome as it ends, as a stream to `async with` and `async for`."""
    return RerunStream(engines, source_ids, body, options)


async def rerun_all(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> RerunReport:
    """Run a whole batch; return every outcome in input order."""
    started = engines.clock()
    got = OutcomeColumns()
    run, ids, journal = await _batch(engines, source_ids, body, options)
    try:
        run.emit = got.add
        await run.drive(ids)
    finally:
        if journal is not None:
            await journal.close()
    guard = run.guard
    outcomes = got.in_order(ids)
    return RerunReport(
        outcomes=outcomes,
        counts=count_statuses(outcomes.statuses()),
        duration=engines.clock() - started,
        estimated_cost=None if guard is None else guard.estimated_total,
        actual_cost=None if guard is None else guard.actual_total,
        cost_unit=None if guard is None else guard.unit,
        campaign_cost=None if guard is None else guard.campaign,
        cost_ratio=None if guard is None else guard.ratio,
        max_cost=None if guard is None else guard.max_cost,
    )
