"""A source's end journaled, then emitted; no worker waits, so a round's ends share a commit."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from ..errors import JournalClosedError
from .journal import End, Journal
from .types import RerunOutcome

__all__ = ["JournaledEnds"]

logger = logging.getLogger("ionq_async")


def end_of(outcome: RerunOutcome) -> End:
    """What the journal keeps of `outcome`: why a source ended so is its reason, or its error."""
    error = outcome.error
    why = outcome.reason if error is None else f"{type(error).__name__}: {error}"
    return End(outcome.source_id, outcome.status, outcome.job_id, why, outcome.cost)


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
            self._journal.ended(end_of(outcome), functools.partial(self._journaled, outcome))
        except JournalClosedError as exc:
            self._fail(exc)

    def _journaled(self, outcome: RerunOutcome, error: BaseException | None) -> None:
        if isinstance(error, JournalClosedError):
            self._fail(error)
            return
        if error is not None:
            logger.warning(
                "could not journal the end of %s: %s", outcome.source_id, error, exc_info=error
            )
        self._emit(outcome)
