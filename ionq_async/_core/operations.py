"""The narrow operations layer: typed job calls that the engines are handed."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from .._models.answers import CostEstimate
from .._models.jobs import Job, JobCost, JobCreated
from ..errors import ResponseValidationError
from .estimates import load_estimate
from .http import Params, RequestPath
from .retry import RetryPolicy
from .serde import load_job, load_job_cost, load_job_created, load_job_states, load_jobs

__all__ = ["JobOperations", "Page"]

Page = tuple[list[Job], str | None]


def _load_job_named(job_id: str, data: Any) -> Job:
    job = load_job(data)
    if job.id != job_id:
        raise ResponseValidationError(f"asked for job {job_id}, the server answered job {job.id}")
    return job


class JobOperations:
    """Read one job, read a page or many jobs by id, post a clone: nothing more."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job:
        """One job; an answer naming another job is a ResponseValidationError (retried)."""
        job: Job = await self._http.request(
            "GET", f"/jobs/{job_id}", retry=retry, load=functools.partial(_load_job_named, job_id)
        )
        return job

    async def page(self, params: Params, *, retry: RetryPolicy | None = None) -> Page:
        """One page of `GET /jobs` with `params`: its jobs and the `next` cursor."""
        page: Page = await self._http.request(
            "GET", "/jobs", params=params, retry=retry, load=load_jobs
        )
        return page

    async def read_many(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Job] | None:
        """The listed jobs among `ids` (`GET /jobs?ids=`), or None if the server ignores `ids`.

        A job the server does not list is absent from the answer.
        """
        states = await self.read_states(ids, retry=retry)
        if states is None:
            return None
        return {job_id: load_job(raw) for job_id, (_, raw) in states.items()}

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, tuple[str, dict[str, Any]]] | None:
        """Like `read_many`, read lightly: each listed job's status and raw body."""
        wanted = set(ids)
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        params = [*(("ids", i) for i in ids), ("limit", str(len(ids)))]
        page: list[tuple[str, str]] | None = params
        cursors: set[str] = set()
        while page is not None:
            states, cursor = await self._http.request(
                "GET", "/jobs", params=page, retry=retry, load=load_job_states
            )
            for job_id, status, raw in states:
                if job_id not in wanted:
                    return None
                found[job_id] = (status, raw)
            if cursor is None or len(found) >= len(wanted) or cursor in cursors:
                break
            cursors.add(cursor)
            page = [*params, ("next", cursor)]
        return found

    async def post_clone(
        self,
        job_id: str,
        body: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        action: str = "clone",
    ) -> JobCreated:
        """POST a ready clone (or move) body; an unreadable 2xx is a SubmissionUnknownError."""
        created: JobCreated = await self._http.request(
            "POST", f"/jobs/{job_id}/{action}", json_body=body, retry=retry, load=load_job_created
        )
        return created

    async def estimate(
        self, params: Sequence[tuple[str, str]], *, retry: RetryPolicy | None = None
    ) -> CostEstimate:
        """`GET /jobs/estimate` with checked `params`."""
        estimate: CostEstimate = await self._http.request(
            "GET", "/jobs/estimate", params=params, retry=retry, load=load_estimate
        )
        return estimate

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost:
        """A job's estimated and, once known, actual cost."""
        cost: JobCost = await self._http.request(
            "GET", f"/jobs/{job_id}/cost", retry=retry, load=load_job_cost
        )
        return cost
