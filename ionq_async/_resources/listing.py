"""`jobs.list()`: a listing that is iterated across every page, or awaited for one page."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable
from typing import Any

from .._core import defaults as d
from .._core.operations import JobOperations
from .._core.retry import RetryPolicy
from .._models.answers import JobPage
from .._models.jobs import Job, JobStatus, check_job_id
from ..errors import ResponseValidationError

__all__ = ["JobListing", "job_ids", "list_params"]

_Params = list[tuple[str, str]]


def job_ids(job_ids: Iterable[str], name: str = "job_ids") -> list[str]:
    """`job_ids` as a list, each checked to be a canonical UUID."""
    if isinstance(job_ids, str):
        raise TypeError(f"{name} must be a list of job ids, not a single string")
    ids = list(job_ids)
    for i, job_id in enumerate(ids):
        check_job_id(job_id, f"{name}[{i}]")
    return ids


def list_params(
    *,
    status: JobStatus | str | None,
    limit: int | None,
    ids: Iterable[str] | None,
    target: str | Iterable[str] | None,
    session_id: str | None,
    parent_job_id: str | None,
    submitter_id: str | None,
) -> _Params:
    """The query of `GET /jobs` for these filters, validated."""
    params: _Params = []
    if ids is not None:
        params += [("ids", i) for i in job_ids(ids, "ids")]
    if status is not None:
        params.append(("status", str(JobStatus(status))))
    if target is not None:
        params.append(("target", target if isinstance(target, str) else ",".join(target)))
    if session_id is not None:
        params.append(("session_id", session_id))
    if parent_job_id is not None:
        params.append(("parent_job_id", check_job_id(parent_job_id, "parent_job_id")))
    if submitter_id is not None:
        params.append(("submitter_id", submitter_id))
    if limit is not None:
        top = d.MAX_PAGE
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= top:
            raise ValueError(f"limit must be an int page size in 1..{top}, got {limit!r}")
        params.append(("limit", str(limit)))
    return params


class JobListing:
    """The jobs of a listing: `async for` walks every page; `await` reads one JobPage.

    Both start at `cursor` (the first page when None); a page's `next` given back as
    `cursor` resumes the listing there.
    """

    def __init__(
        self,
        ops: JobOperations,
        params: _Params,
        *,
        cursor: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if cursor is not None and (not isinstance(cursor, str) or not cursor):
            raise ValueError(f"cursor must be a non-empty string, got {cursor!r}")
        self._ops = ops
        self._params = params
        self._cursor = cursor
        self._retry = retry
        self._pages: AsyncGenerator[Job, None] | None = None

    def _query(self, cursor: str | None) -> _Params:
        return self._params if cursor is None else [*self._params, ("next", cursor)]

    async def page(self) -> JobPage:
        """The one page at the listing's cursor, with the cursor of the page after it."""
        jobs, cursor = await self._ops.page(self._query(self._cursor), retry=self._retry)
        return JobPage(jobs=tuple(jobs), next=cursor)

    def __await__(self) -> Generator[Any, None, JobPage]:
        return self.page().__await__()

    def __aiter__(self) -> JobListing:
        return self

    async def __anext__(self) -> Job:
        if self._pages is None:
            self._pages = self._walk()
        return await anext(self._pages)

    async def aclose(self) -> None:
        """Stop the walk across pages (for `contextlib.aclosing`)."""
        if self._pages is not None:
            await self._pages.aclose()

    async def _walk(self) -> AsyncGenerator[Job, None]:
        seen_cursors = {self._cursor} if self._cursor is not None else set()
        query: _Params | None = self._query(self._cursor)
        while query is not None:
            jobs, cursor = await self._ops.page(query, retry=self._retry)
            for job in jobs:
                yield job
            if cursor in seen_cursors:
                raise ResponseValidationError(f"the server repeated the page cursor {cursor!r}")
            if cursor is not None:
                seen_cursors.add(cursor)
            query = None if cursor is None else self._query(cursor)
