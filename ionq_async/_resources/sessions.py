"""`client.sessions`: create, read, list and end sessions, and a context manager that ends one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

from .._core.http import RequestPath
from .._core.retry import RetryPolicy
from .._core.serde import load_jobs, structure
from .._models.api import Session, check_segment
from .._models.jobs import Job, JobStatus, Money
from ..errors import ResponseValidationError

_Params = list[tuple[str, str]]

__all__ = ["Sessions"]

logger = logging.getLogger("ionq_async")

_INT32_MAX = 2**31 - 1
_MAX_JOB_PAGE = 25


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= value <= _INT32_MAX:
        raise ValueError(f"{name} must be between 1 and {_INT32_MAX:,}, got {value:,}")
    return value


def _cost_limit(value: object) -> dict[str, Any]:
    """`{unit, value}` from a Money or a bare number of US dollars."""
    if isinstance(value, Money):
        amount, unit = value.value, value.unit
    elif isinstance(value, int | float) and not isinstance(value, bool):
        amount, unit = value, "usd"
    else:
        raise TypeError(f"cost_limit must be a Money or a number, not {type(value).__name__}")
    if not isinstance(unit, str) or not unit:
        raise ValueError(f"cost_limit unit must be a non-empty str, got {unit!r}")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"cost_limit value must be a number, not {type(amount).__name__}")
    if not (math.isfinite(amount) and amount > 0):
        raise ValueError(f"cost_limit must be a positive amount, got {amount!r}")
    return {"unit": unit, "value": amount}


def create_body(
    backend: str,
    job_count_limit: int | None,
    duration_limit_min: int | None,
    cost_limit: Money | float | None,
) -> dict[str, Any]:
    """The `POST /sessions` body: the backend, and only the limits that were set."""
    check_segment(backend, "backend")
    settings: dict[str, Any] = {}
    if job_count_limit is not None:
        settings["job_count_limit"] = _positive_int(job_count_limit, "job_count_limit")
    if duration_limit_min is not None:
        settings["duration_limit_min"] = _positive_int(duration_limit_min, "duration_limit_min")
    if cost_limit is not None:
        settings["cost_limit"] = _cost_limit(cost_limit)
    return {"backend": backend, "settings": settings} if settings else {"backend": backend}


def _load_session(data: Any) -> Session:
    return structure(data, Session)


def _load_named(session_id: str, data: Any) -> Session:
    session = _load_session(data)
    if session.id != session_id:
        raise ResponseValidationError(
            f"asked for session {session_id}, the server answered session {session.id}"
        )
    return session


def _load_sessions(data: Any) -> list[Session]:
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
        raise ResponseValidationError("unexpected session list in response: no `sessions` array")
    return [_load_session(item) for item in data["sessions"]]


class Sessions:
    """Session operations of one AsyncIonQ client (`client.sessions`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http
        self._ending: set[asyncio.Task[Exception | None]] = set()

    async def create(
        self,
        backend: str,
        *,
        job_count_limit: int | None = None,
        duration_limit_min: int | None = None,
        cost_limit: Money | float | None = None,
        retry: RetryPolicy | None = None,
    ) -> Session:
        """Open a session on `backend`; a bare `cost_limit` number is in US dollars."""
        body = create_body(backend, job_count_limit, duration_limit_min, cost_limit)
        session: Session = await self._http.request(
            "POST", "/sessions", json_body=body, retry=retry, load=_load_session
        )
        return session

    async def get(self, id: str, *, retry: RetryPolicy | None = None) -> Session:
        """One session by id."""
        check_segment(id, "id")
        session: Session = await self._http.request(
            "GET", f"/sessions/{id}", retry=retry, load=functools.partial(_load_named, id)
        )
        return session

    async def list(
        self, active: bool | None = None, *, retry: RetryPolicy | None = None
    ) -> list[Session]:
        """The organization's sessions, newest first; only open (or ended) ones with `active`."""
        params = []
        if active is not None:
            if not isinstance(active, bool):
                raise TypeError(f"active must be a bool or None, not {type(active).__name__}")
            params.append(("active", "true" if active else "false"))
        sessions: list[Session] = await self._http.request(
            "GET", "/sessions", params=params or None, retry=retry, load=_load_sessions
        )
        return sessions

    async def end(self, id: str, *, retry: RetryPolicy | None = None) -> Session:
        """End a session (ending an ended session is harmless); the session as it is now."""
        check_segment(id, "id")
        session: Session = await self._http.request(
            "POST", f"/sessions/{id}/end", retry=retry, load=functools.partial(_load_named, id)
        )
        return session

    def jobs(
        self,
        id: str,
        *,
        status: JobStatus | str | None = None,
        limit: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[Job]:
        """Every job of session `id`, newest first, following `next` across pages.

        `limit` is the page size, not a cap on the total.
        """
        check_segment(id, "id")
        params: _Params = []
        if status is not None:
            params.append(("status", str(JobStatus(status))))
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"limit must be an int, not {type(limit).__name__}")
            if not 1 <= limit <= _MAX_JOB_PAGE:
                raise ValueError(f"limit must be a page size in 1..{_MAX_JOB_PAGE}, got {limit}")
            params.append(("limit", str(limit)))
        return self._job_pages(id, params, retry)

    async def _job_pages(
        self, session_id: str, params: _Params, retry: RetryPolicy | None
    ) -> AsyncIterator[Job]:
        cursors: set[str] = set()
        page: _Params | None = params
        while page is not None:
            jobs, cursor = await self._http.request(
                "GET", f"/sessions/{session_id}/jobs", params=page, retry=retry, load=load_jobs
            )
            for job in jobs:
                yield job
            if cursor in cursors:
                raise ResponseValidationError(f"the server repeated the page cursor {cursor!r}")
            if cursor is not None:
                cursors.add(cursor)
            page = None if cursor is None else [*params, ("next", cursor)]

    @contextlib.asynccontextmanager
    async def open(
        self,
        backend: str,
        *,
        job_count_limit: int | None = None,
        duration_limit_min: int | None = None,
        cost_limit: Money | float | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[Session]:
        """`async with client.sessions.open(backend) as session:` ends the session on leaving.

        It is ended on a normal exit, on an exception and on cancellation alike; the end
        request is shielded from cancellation. When ending fails after an exception, the
        failure is logged as a warning and the original exception propagates.
        """
        session = await self.create(
            backend,
            job_count_limit=job_count_limit,
            duration_limit_min=duration_limit_min,
            cost_limit=cost_limit,
            retry=retry,
        )
        try:
            yield session
        except BaseException:
            await self._end_shielded(session.id, retry, quiet=True)
            raise
        await self._end_shielded(session.id, retry, quiet=False)

    async def _end_shielded(
        self, session_id: str, retry: RetryPolicy | None, *, quiet: bool
    ) -> None:
        """End the session in a task of its own, so a cancellation of the caller cannot stop it."""
        task = asyncio.ensure_future(self._try_end(session_id, retry))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)
        try:
            error = await asyncio.shield(task)
        except asyncio.CancelledError:
            # Cancelled while ending: the end goes on; its failure can only be logged now.
            task.add_done_callback(functools.partial(_log_failure, session_id))
            raise
        if error is not None:
            if not quiet:
                raise error
            _warn(session_id, error)

    async def _try_end(self, session_id: str, retry: RetryPolicy | None) -> Exception | None:
        """End the session; the error instead of raising it, so that no failure goes unseen."""
        try:
            await self.end(session_id, retry=retry)
        except Exception as exc:
            return exc
        return None


def _warn(session_id: str, error: BaseException) -> None:
    logger.warning("could not end session %s on leaving its block: %s", session_id, error)


def _log_failure(session_id: str, task: asyncio.Task[Exception | None]) -> None:
    if not task.cancelled() and (error := task.result()) is not None:
        _warn(session_id, error)
