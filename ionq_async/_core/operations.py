"""The job operations the engines are handed: declarations bound to one request path."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from .._models.answers import CostEstimate
from .._models.jobs import Job, JobCost, JobCreated
from . import api
from .http import RequestPath
from .loaders import (
    JobMetadata,
    JobState,
    Polled,
    load_job_ends,
    load_job_metadata,
    load_job_states,
)
from .paging import PageAt, walk
from .queries import Params, with_cursor
from .retry import RetryPolicy

__all__ = ["JobMetadata", "JobOperations", "JobState", "Page"]


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T")
Item = TypeVar("Item", bound=_Identified)
PageOf = tuple[list[T], str | None]
Page = PageOf[Job]
_GET_JOB_STATES = api.GET_JOBS.reading(load_job_states)
_GET_JOB_METADATA = api.GET_JOBS.reading(load_job_metadata)
_GET_JOB_ENDS = api.GET_JOBS.reading(load_job_ends)


class JobOperations:
    """Read one job, pages of jobs or many by id, a cost or an estimate; post a clone."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job:
        """One job; an answer naming another job is a ResponseValidationError (retried)."""
        return await self._http.send(api.GET_JOB(job_id), retry)

    async def page(self, params: Params, *, retry: RetryPolicy | None = None) -> Page:
        """One page of `GET /jobs` with `params`: its jobs and the `next` cursor."""
        return await self._http.send(api.GET_JOBS(params), retry)

    def pages(
        self, params: Params, *, retry: RetryPolicy | None = None, cursor: str | None = None
    ) -> AsyncGenerator[list[Job], None]:
        """Each page of `GET /jobs` with `params` from `cursor` on, following `next`."""
        return walk(self._http, _page_at(api.GET_JOBS, params), retry=retry, cursor=cursor)

    async def read_many(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Job] | None:
        """The listed jobs among `ids` (`GET /jobs?ids=`), or None if the server ignores `ids`.

        A job the server does not list is absent from the answer.
        """
        states = await self.read_states(ids, retry=retry)
        if states is None:
            return None
        return {job_id: state.job() for job_id, state in states.items()}

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobState] | None:
        """Like `read_many`, read lightly: each listed job's JobState."""
        return await self._read_by_ids(_GET_JOB_STATES, ids, retry)

    async def read_ends(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Polled] | None:
        """Like `read_states`, an ended job read into its `Ending` alone (a batch's waits)."""
        return await self._read_by_ids(_GET_JOB_ENDS, ids, retry)

    async def read_metadata(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobMetadata] | None:
        """Like `read_many`, each listed job's metadata alone (a tokened clone's sources)."""
        return await self._read_by_ids(_GET_JOB_METADATA, ids, retry)

    async def _read_by_ids(
        self,
        op: api.Operation[[Params], PageOf[Item]],
        ids: Sequence[str],
        retry: RetryPolicy | None,
    ) -> dict[str, Item] | None:
        """The jobs of `ids` the server lists, read by `op`; None if it lists another."""
        wanted = set(ids)
        found: dict[str, Item] = {}
        params = [*(("ids", i) for i in ids), ("limit", str(len(ids)))]
        pages = walk(self._http, _page_at(op, params), retry=retry)
        async for items in pages:
            for item in items:
                if item.id not in wanted:
                    await pages.aclose()
                    return None
                found[item.id] = item
            if len(found) >= len(wanted):
                await pages.aclose()
                break
        return found

    async def post_clone(
        self, job_id: str, body: Mapping[str, Any], *, retry: RetryPolicy | None = None
    ) -> JobCreated:
        """POST a ready clone body; an unreadable 2xx is a SubmissionUnknownError."""
        return await self._http.send(api.CLONE_JOB(job_id, body), retry)

    async def estimate(
        self, params: Sequence[tuple[str, str]], *, retry: RetryPolicy | None = None
    ) -> CostEstimate:
        """`GET /jobs/estimate` with checked `params`."""
        return await self._http.send(api.ESTIMATE_JOB_COST(params), retry)

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost:
        """A job's estimated and, once known, actual cost (read inside the attempt)."""
        return await self._http.send(api.GET_JOB_COST(job_id), retry)


def _page_at(op: api.Operation[[Params], PageOf[T]], params: Params) -> PageAt[T]:
    return functools.partial(_at_cursor, op, params)


def _at_cursor(
    op: api.Operation[[Params], PageOf[T]], params: Params, cursor: str | None
) -> api.Request[PageOf[T]]:
    return op(with_cursor(params, cursor))
