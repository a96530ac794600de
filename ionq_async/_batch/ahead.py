"""Intents written ahead: a chunk of fresh sources gets its tokens and intent rows in one commit.

A batch with tokens and a journal would otherwise wait for an fsynced commit before each
POST: one commit round trip per clone, which held each of `concurrency` workers idle for
about as long as its POST took. Written ahead, a chunk's intents are on disk before any
of its sources is handed to a worker, and the POSTs wait for nothing.
"""

from __future__ import annotations

from collections.abc import Container

from .._engine.idempotency import new_token
from .journal import Journal
from .resume import is_id

__all__ = ["IntentsAhead"]


class IntentsAhead:
    """Tokens of fresh sources whose intents are journaled, until a worker takes them."""

    def __init__(self, journal: Journal, resume: Container[str]) -> None:
        self._journal = journal
        self._resume = resume
        self._tokens: dict[str, str] = {}

    async def write(self, chunk: list[str]) -> None:
        """Journal the intents of the chunk's fresh sources (one fsynced commit)."""
        rows = [(i, new_token()) for i in chunk if i not in self._resume and is_id(i)]
        if rows:
            # Kept before the commit: if it is cancelled but lands, forget() still undoes it.
            self._tokens.update(rows)
            await self._journal.intents_ahead(rows)

    def take(self, source_id: str) -> str | None:
        """The token journaled for `source_id`, which is about to be sent; None if none."""
        return self._tokens.pop(source_id, None)

    def forget(self) -> None:
        """Undo the intents of sources never taken (a batch left early).

        A process killed first leaves them to the resume, which finds no job with their
        tokens and clones them.
        """
        tokens, self._tokens = self._tokens, {}
        if tokens and self._journal.is_open:
            self._journal.unsent(list(tokens.items()))
