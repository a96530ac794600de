"""Sending one source's clone: its intent row first (fsynced), then the POST, then its id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import (
    CloneOperations,
    TokenIndex,
    clone_idempotent,
    new_token,
    tokened,
    with_token,
)
from .._models.jobs import Job
from .journal import Journal
from .leaving import Leaving
from .prefetch import Known

__all__ = ["SendOperations", "Sender"]


class SendOperations(CloneOperations, Protocol):
    """What sending a clone needs: clone, scan, and a source read alone."""

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...


class Sender:
    """Sends a batch's clones (idempotently if asked), recording intent and result."""

    def __init__(
        self,
        ops: SendOperations,
        body: Mapping[str, Any],
        *,
        idempotent: bool,
        index: TokenIndex,
        retry: RetryPolicy,
        budget: RetryBudget | None,
        journal: Journal | None,
        leaving: Leaving,
    ) -> None:
        self.ops = ops
        self.body = body
        self.idempotent = idempotent
        self.index = index
        self.retry = retry
        self.budget = budget
        self.journal = journal
        self.leaving = leaving

    async def clone(
        self,
        source_id: str,
        source: Known | None,
        attempt: int,
        token: str | None,
        sent: datetime | None,
        estimate: float | None = None,
    ) -> str:
        """Clone `source_id`; the new job's id (`estimate`, its price, is journaled with it).

        A `token` from the journal (a complete scan found no job with it) is sent again.
        The intent row is committed (fsynced) before the POST. From the intent until the
        answer is queued for the journal, leaving the batch does not cancel the worker.
        """
        journal = self.journal
        body = self.body
        fresh = token is None
        if self.idempotent or token is not None:
            token = token or new_token()
            if source is not None:  # read ahead: no coroutine needed
                body = with_token(body, source[0], token)
            else:
                body = await tokened(self.ops, source_id, body, token, known=None, retry=self.retry)
        with self.leaving.posting():
            if journal is not None and fresh:
                await journal.intent(source_id, token, attempt, estimate=estimate)
            if token is None:
                created = await self.ops.post_clone(source_id, body, retry=self.retry)
            else:
                created = await clone_idempotent(
                    self.ops,
                    source_id,
                    body,
                    token=token,
                    index=self.index,
                    retry=self.retry,
                    budget=self.budget,
                    since=sent or self.index.now(),
                )
            if journal is not None:
                journal.cloned_soon(source_id, created.id)
        return created.id
