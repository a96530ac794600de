"""`jobs.list()`: a listing that is iterated across every page, or awaited for one page."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextlib import aclosing
from typing import Any

from .._core import defaults as d
from .._core.operations import JobOperations
from .._core.paging import each
from .._core.queries import Params, with_cursor
from .._core.retry import RetryPolicy
from .._models.answers import JobPage
from .._models.jobs import Job

__all__ = ["JobListing"]

_SPLIT = (
    "{n} ids are listed 100 at a time, in separate listings, and {what}: "
    "iterate with `async for`, or list at most 100 ids"
)


class JobListing:
    """The jobs of a listing: `async for` walks every page; `await` reads one JobPage.

    Both start at `cursor` (the first page when None); a page's `next` given back as
    `cursor` resumes the listing there. More than 100 `ids` are walked 100 at a time
    (each a listing of its own, newest first), so that no request carries a URL longer
    than servers take; `await` and `cursor` then have no single page to name, and raise.
    """

    def __init__(
        self,
        ops: JobOperations,
        params: Params,
        *,
        cursor: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if cursor is not None and (not isinstance(cursor, str) or not cursor):
            raise ValueError(f"cursor must be a non-empty string, got {cursor!r}")
        ids = [value for key, value in params if key == "ids"]
        rest = [(key, value) for key, value in params if key != "ids"]
        size = d.CHUNK_IDS
        self._queries = [
            [*(("ids", i) for i in ids[start : start + size]), *rest]
            for start in range(0, len(ids), size)
        ] or [list(params)]
        self._split = len(ids) if len(self._queries) > 1 else 0
        """How many ids are listed in several listings (0: one listing)."""
        if cursor is not None and self._split:
            raise ValueError(_SPLIT.format(n=self._split, what="a cursor names a page of one"))
        self._ops = ops
        self._params = params
        self._cursor = cursor
        self._retry = retry
        self._jobs: AsyncGenerator[Job, None] | None = None

    async def page(self) -> JobPage:
        """The one page at the listing's cursor, with the cursor of the page after it."""
        if self._split:
            raise ValueError(_SPLIT.format(n=self._split, what="one page holds one of them"))
        query = with_cursor(self._params, self._cursor)
        jobs, cursor = await self._ops.page(query, retry=self._retry)
        return JobPage(jobs=tuple(jobs), next=cursor)

    def __await__(self) -> Generator[Any, None, JobPage]:
        return self.page().__await__()

    def __aiter__(self) -> JobListing:
        return self

    async def __anext__(self) -> Job:
        if self._jobs is None:
            self._jobs = self._walk()
        return await anext(self._jobs)

    async def aclose(self) -> None:
        """Stop the walk across pages (for `contextlib.aclosing`)."""
        if self._jobs is not None:
            await self._jobs.aclose()

    async def _walk(self) -> AsyncGenerator[Job, None]:
        for query in self._queries:
            pages = self._ops.pages(query, retry=self._retry, cursor=self._cursor)
            async with aclosing(each(pages)) as jobs:
                async for job in jobs:
                    yield job
