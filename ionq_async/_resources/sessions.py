"""`client.sessions`: create, read, list and end sessions, and a context manager that ends one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import TypedDict, Unpack

from .._core import api
from .._core import defaults as d
from .._core.http import RequestPath
from .._core.paging import each, walk
from .._core.queries import Params, session_job_params, with_cursor
from .._core.retry import RetryPolicy
from .._models.api import Session, check_segment
from .._models.jobs import Job, JobStatus, Money

__all__ = ["SessionLimits", "Sessions"]

logger = logging.getLogger("ionq_async")


class SessionLimits(TypedDict, total=False):
    """The limits of a new session: keyword arguments of `sessions.create()` and `open()`."""

    job_count_limit: int | None
    duration_limit_min: int | None
    cost_limit: Money | float | None


class Sessions:
    """Session operations of one AsyncIonQ client (`client.sessions`)."""

    def __init__(self, http: RequestPath) -> None:
        self._http = http
        self._ending: dict[asyncio.Task[Exception | None], str] = {}

    async def create(
        self, backend: str, *, retry: RetryPolicy | None = None, **limits: Unpack[SessionLimits]
    ) -> Session:
        """Open a session on `backend`; a bare `cost_limit` number is in US dollars.

        The `limits` (SessionLimits) are `job_count_limit`, `duration_limit_min`, `cost_limit`.
        """
        unknown = sorted(limits.keys() - SessionLimits.__optional_keys__)
        if unknown:
            raise TypeError(f"unknown session limit(s): {', '.join(unknown)}")
        return await self._http.send(api.CREATE_SESSION(backend, **limits), retry)

    async def get(self, id: str, *, retry: RetryPolicy | None = None) -> Session:
        """One session by id."""
        return await self._http.send(api.GET_SESSION(id), retry)

    async def list(
        self, active: bool | None = None, *, retry: RetryPolicy | None = None
    ) -> list[Session]:
        """The organization's sessions, newest first; only open (or ended) ones with `active`."""
        return await self._http.send(api.GET_SESSIONS(active), retry)

    async def end(self, id: str, *, retry: RetryPolicy | None = None) -> Session:
        """End a session (ending an ended session is harmless); the session as it is now."""
        return await self._http.send(api.END_SESSION(id), retry)

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
        params = session_job_params(status, limit)
        page_at = functools.partial(_session_jobs_at, id, params)
        return each(walk(self._http, page_at, retry=retry))

    @contextlib.asynccontextmanager
    async def open(
        self, backend: str, *, retry: RetryPolicy | None = None, **limits: Unpack[SessionLimits]
    ) -> AsyncIterator[Session]:
        """`async with client.sessions.open(backend) as session:` ends the session on leaving.

        It takes the arguments of `create()`. It is ended on a normal exit, on an exception
        and on cancellation alike; the end request is shielded from cancellation. When
        ending fails after an exception, the failure is logged as a warning and the original
        exception propagates.
        """
        session = await self.create(backend, retry=retry, **limits)
        try:
            yield session
        except BaseException:
            await self._end_shielded(session.id, retry, quiet=True)
            raise
        await self._end_shielded(session.id, retry, quiet=False)

    async def _end_shielded(
        self, session_id: str, retry: RetryPolicy | None, *, quiet: bool
    ) -> None:
        """End the session in a task of its own, so a cancellation of the caller cannot stop it.

        A caller cancelled while the end is under way leaves it to finish on its own;
        `AsyncIonQ.close()` awaits it (`_close`), and a failure is logged then.
        """
        task = asyncio.ensure_future(self._try_end(session_id, retry))
        self._ending[task] = session_id
        task.add_done_callback(self._ended)
        try:
            error = await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(functools.partial(_log_failure, session_id))
            raise
        if error is not None:
            if not quiet:
                raise error
            _warn(session_id, error)

    def _ended(self, task: asyncio.Task[Exception | None]) -> None:
        self._ending.pop(task, None)

    async def _try_end(self, session_id: str, retry: RetryPolicy | None) -> Exception | None:
        """End the session; the error instead of raising it, so that no failure goes unseen."""
        try:
            await self.end(session_id, retry=retry)
        except Exception as exc:
            return exc
        return None

    async def _close(self) -> None:
        """Await the session ends still under way, for `SESSION_END_WAIT` seconds at most.

        An end still running past that is stopped and logged as a warning with its session.
        """
        pending = dict(self._ending)
        if not pending:
            return
        wait = d.SESSION_END_WAIT
        _, late = await asyncio.wait(pending, timeout=wait)
        for task in late:
            task.cancel()
            logger.warning(
                "session %s was still ending when the client closed (%g s); it may be open",
                pending[task],
                wait,
            )
        if late:
            await asyncio.wait(late)


def _session_jobs_at(
    session_id: str, params: Params, cursor: str | None
) -> api.Request[tuple[list[Job], str | None]]:
    return api.GET_SESSION_JOBS(session_id, with_cursor(params, cursor))


def _warn(session_id: str, error: BaseException) -> None:
    logger.warning("could not end session %s on leaving its block: %s", session_id, error)


def _log_failure(session_id: str, task: asyncio.Task[Exception | None]) -> None:
    if not task.cancelled() and (error := task.result()) is not None:
        _warn(session_id, error)
