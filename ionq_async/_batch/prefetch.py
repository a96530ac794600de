"""Fresh sources of a batch in input order, their jobs read ahead in chunks of `GET /jobs?ids=`."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Container, Iterator, Mapping, Sequence
from typing import Protocol

from .._core import defaults as d
from .._core.loaders import JobState
from .._core.retry import RetryPolicy
from ..errors import IonQError, ResponseValidationError
from .resume import is_id

__all__ = ["Known", "Sources", "read_known"]

logger = logging.getLogger("ionq_async")

Known = tuple[dict[str, str] | None]
"""A source's metadata as read ahead (boxed: a source read with no metadata is `(None,)`)."""
Read = Callable[[list[str]], Awaitable[Mapping[str, Known]]]


class Sources:
    """Fresh sources in input order, with their jobs read ahead in chunks of `GET /jobs?ids=`."""

    def __init__(self, ids: Iterator[str], read: Read | None) -> None:
        self._ids = ids
        self._read = read
        self._ready: collections.deque[tuple[str, Known | None]] = collections.deque()
        self._pending: asyncio.Task[None] | None = None
        self._exhausted = False

    async def next(self) -> tuple[str, Known | None] | None:
        """The next source and its job (None if it must be read alone), or None at the end."""
        while not self._ready and not (self._exhausted and self._pending is None):
            self._prefetch()
            if self._pending is not None:
                await asyncio.shield(self._pending)
        if not self._ready:
            return None
        item = self._ready.popleft()
        if len(self._ready) < d.CHUNK_IDS // 2:
            self._prefetch()
        return item

    def _prefetch(self) -> None:
        if self._pending is None and not self._exhausted:
            self._pending = asyncio.ensure_future(self._fill())

    async def _fill(self) -> None:
        try:
            chunk = [i for _, i in zip(range(d.CHUNK_IDS), self._ids, strict=False)]
            if len(chunk) < d.CHUNK_IDS:
                self._exhausted = True
            found: Mapping[str, Known | None] = {}
            if chunk and self._read is not None:
                found = await self._read(chunk)
            self._ready.extend((i, found.get(i)) for i in chunk)
        finally:
            self._pending = None

    def close(self) -> None:
        """Stop reading ahead."""
        if self._pending is not None:
            self._pending.cancel()


class StateReads(Protocol):
    """Reads many jobs' states in one request (`GET /jobs?ids=`)."""

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobState] | None: ...


async def read_known(
    ops: StateReads, retry: RetryPolicy, resume: Container[str], chunk: list[str]
) -> Mapping[str, Known]:
    """The metadata of a chunk's sources that need a clone, in one request where it can."""
    wanted = [i for i in chunk if i not in resume and is_id(i)]
    if not wanted:
        return {}
    try:
        found = await ops.read_states(wanted, retry=retry)
    except IonQError as exc:
        logger.info("could not read %d source jobs at once (%s); reading each", len(wanted), exc)
        return {}
    known: dict[str, Known] = {}
    for source_id, state in (found or {}).items():
        try:
            known[source_id] = (state.metadata(),)
        except ResponseValidationError:
            continue  # read alone, where the error is the source's own
    return known
