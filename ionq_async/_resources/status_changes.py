"""Cancel and delete, of one job or many, with the API's typed answers."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from .._core.http import RequestPath
from .._core.retry import RetryPolicy
from .._core.serde import structure
from .._models.answers import JobsStatusChange, JobStatusChange

__all__ = ["change_many", "change_one"]

_ONE = {"cancel": ("PUT", "/jobs/{}/status/cancel"), "delete": ("DELETE", "/jobs/{}")}
_MANY = {"cancel": ("PUT", "/jobs/status/cancel"), "delete": ("DELETE", "/jobs")}
_STATUS = {"cancel": "canceled", "delete": "deleted"}


def _load_one(job_id: str, status: str, data: Any) -> JobStatusChange:
    """`{id, status}`; a field the answer leaves out is the request's own (the call succeeded)."""
    given = data if isinstance(data, dict) else {}
    merged = {"id": job_id, "status": status} | {k: v for k, v in given.items() if v is not None}
    return structure(merged, JobStatusChange, what="status change")


def _load_many(ids: Sequence[str], status: str, data: Any) -> JobsStatusChange:
    """`{ids, status}`; a field the answer leaves out is the request's own."""
    given = data if isinstance(data, dict) else {}
    merged = {"ids": list(ids), "status": status} | {
        k: v for k, v in given.items() if v is not None
    }
    return structure(merged, JobsStatusChange, what="status change")


async def change_one(
    http: RequestPath, action: str, job_id: str, *, retry: RetryPolicy | None
) -> JobStatusChange:
    """`action` ("cancel" or "delete") one job; the answer as a JobStatusChange."""
    method, path = _ONE[action]
    load = functools.partial(_load_one, job_id, _STATUS[action])
    answer: JobStatusChange = await http.request(
        method, path.format(job_id), retry=retry, load=load
    )
    return answer


async def change_many(
    http: RequestPath, action: str, ids: Sequence[str], *, retry: RetryPolicy | None
) -> JobsStatusChange:
    """`action` several jobs in one request; no ids send nothing and answer no ids."""
    status = _STATUS[action]
    if not ids:
        return JobsStatusChange(ids=(), status=status)
    method, path = _MANY[action]
    load = functools.partial(_load_many, ids, status)
    answer: JobsStatusChange = await http.request(
        method, path, json_body={"ids": list(ids)}, retry=retry, load=load
    )
    return answer
