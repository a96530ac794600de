"""A source's end journaled, then emitted; no worker waits, so a round's ends share a commit."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from ..errors import JournalClosedError
from .journal import Journal
from .types import RerunOutcome

__all__ = ["JournaledEnds", "journal_error"]

logger = logging.getLogger("ionq_async")


def journal_error(outcome: RerunOutcome) -> str | None:
    """What the journal keeps of why a source ended so: its reason, or its error."""
    error = outcome.error
    return outcome.reason if error is None else f"{type(error).__name__}: {error}"


class JournaledEnds:
    """Each outcome's row queued for the next group commit; `emit` once it is committed.

    A journal closed under the batch calls `fail` (the batch ends with that error); any
    other failure to write is logged and the outcome emitted all the same.
    """

    def __init__(
        self,
        journal: Journal,
        emit: Callable[[RerunOutcome], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        self._journal = journal
        self._emit = emit
        self._fail = fail

    def add(self, outcome: RerunOutcome) -> None:
        """Journal `outcome`, then emit it."""
        try:
            done = self._journal.finished_soon(
                outcome.source_id,
                outcome.status,
                job_id=outcome.job_id,
                error=journal_error(outcome),
                cost=outcome.cost,
            )
        except JournalClosedError as exc:
            self._fail(exc)
            return
        done.add_done_callback(functools.partial(self._journaled, outcome))

    def _journaled(self, outcome: RerunOutcome, done: asyncio.Future[None]) -> None:
        error = None if done.cancelled() else done.exception()
        if isinstance(error, JournalClosedError):
            self._fail(error)
            return
        if error is not None:
            logger.warning(
                "could not journal the end of %s: %s", outcome.source_id, error, exc_info=error
            )
        self._emit(outcome)
