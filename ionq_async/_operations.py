"""The narrow operations layer: typed job calls that the engines are handed."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from ._http import Params, RequestPath
from ._models import Job, JobCreated
from ._retry import RetryPolicy
from ._serde import load_job, load_job_created, load_jobs
from .errors import ResponseValidationError

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
        """The listed jobs among `ids` (one `GET /jobs?ids=` chunk), or None if `ids` is ignored.

        A job the server does not list is absent from the answer.
        """
        wanted = set(ids)
        found: dict[str, Job] = {}
        params = [*(("ids", i) for i in ids), ("limit", str(len(ids)))]
        page: list[tuple[str, str]] | None = params
        cursors: set[str] = set()
        while page is not None:
            jobs, cursor = await self.page(page, retry=retry)
            for job in jobs:
                if job.id not in wanted:
                    return None
                found[job.id] = job
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
