"""Fresh sources of a batch in input order, their jobs read ahead in chunks of `GET /jobs?ids=`."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Container, Iterator, Mapping, Sequence
from typing import Protocol

from .._core import defaults as d
from .._core.loaders import JobMetadata
from .._core.retry import RetryPolicy
from ..errors import IonQError
from .resume import is_id

__all__ = ["Known", "Sources", "read_known"]

logger = logging.getLogger("ionq_async")

Known = tuple[dict[str, str] | None]
"""A source's metadata as read ahead (boxed: a source read with no metadata is `(None,)`)."""
Read = Callable[[list[str]], Awaitable[Mapping[str, Known]]]
Ahead = Callable[[list[str]], Awaitable[None]]
"""Work done for a chunk before any of its sources is handed out (its intents journaled)."""


class Sources:
    """Fresh sources in input order, with their jobs read ahead in chunks of `GET /jobs?ids=`.

    Up to `depth` chunks are read (and their intents journaled) at once, so that workers
    are not left waiting on one chunk's round trips while the sources in hand run out.
    """

    def __init__(
        self, ids: Iterator[str], read: Read | None, ahead: Ahead | None = None, depth: int = 3
    ) -> None:
        self._ids = ids
        self._read = read
        self._ahead = ahead
        self._depth = depth
        self._ready: collections.deque[tuple[str, Known | None]] = collections.deque()
        self._chunks: collections.deque[asyncio.Task[list[tuple[str, Known | None]]]] = (
            collections.deque()
        )
        self._exhausted = False

    async def next(self) -> tuple[str, Known | None] | None:
        """The next source and its job (None if it must be read alone), or None at the end."""
        while not self._ready:
            self._top_up()
            if self._ready:
                break
            if not self._chunks:
                return None
            head = self._chunks[0]
            items = await asyncio.shield(head)
            if self._chunks and self._chunks[0] is head:  # the first of its waiters
                self._chunks.popleft()
                self._ready.extend(items)
        item = self._ready.popleft()
        self._top_up()
        return item

    def _top_up(self) -> None:
        """Start reading chunks until `depth` chunks' worth of sources are in hand or coming."""
        size = d.CHUNK_IDS
        while not self._exhausted and (
            len(self._ready) + len(self._chunks) * size < self._depth * size
        ):
            chunk = [i for _, i in zip(range(size), self._ids, strict=False)]
            if len(chunk) < size:
                self._exhausted = True
            if not chunk:
                return
            if self._read is None and self._ahead is None:
                self._ready.extend((i, None) for i in chunk)
            else:
                self._chunks.append(asyncio.ensure_future(self._fill(chunk)))

    async def _fill(self, chunk: list[str]) -> list[tuple[str, Known | None]]:
        found: Mapping[str, Known | None] = {}
        if self._read is not None:
            found = await self._read(chunk)
        if self._ahead is not None:
            await self._ahead(chunk)
        return [(i, found.get(i)) for i in chunk]

    def close(self) -> None:
        """Stop reading ahead."""
        for task in self._chunks:
            task.cancel()
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the batch is already ending
        self._chunks.clear()


class MetadataReads(Protocol):
    """Reads many jobs' metadata in one request (`GET /jobs?ids=`)."""

    async def read_metadata(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobMetadata] | None: ...


async def read_known(
    ops: MetadataReads, retry: RetryPolicy, resume: Container[str], chunk: list[str]
) -> Mapping[str, Known]:
    """The metadata of a chunk's sources that need a clone, in one request where it can."""
    wanted = [i for i in chunk if i not in resume and is_id(i)]
    if not wanted:
        return {}
    try:
        found = await ops.read_metadata(wanted, retry=retry)
    except IonQError as exc:
        logger.info("could not read %d source jobs at once (%s); reading each", len(wanted), exc)
        return {}
    # A source whose metadata is unreadable is read alone, where the error is its own.
    return {i: (read.metadata,) for i, read in (found or {}).items() if read.readable}
