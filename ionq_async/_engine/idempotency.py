"""Idempotent clones: a client token in the job's metadata, found again after a lost answer.

IonQ has no idempotency key. So a clone that must not be duplicated carries a random token
in `metadata[TOKEN_KEY]`; when its answer is lost (SubmissionUnknownError), the newest jobs
are read for that token before anything is sent again. "Not found" means absent only after
every job down to the submission's time (less the clock-skew allowance) was read; a scan
cut short leaves the outcome unknown, and nothing is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .._core import defaults as d
from .._core.queries import Params
from .._core.retry import RetryBudget, RetryPolicy, run_with_retries
from .._models.jobs import Job, JobCreated
from ..errors import IonQError, SubmissionUnknownError

__all__ = [
    "TOKEN_KEY",
    "CloneOperations",
    "ScanIncompleteError",
    "TokenIndex",
    "clone_idempotent",
    "find_clone",
    "new_token",
    "tokened",
    "with_token",
]

logger = logging.getLogger("ionq_async")

TOKEN_KEY = d.TOKEN_KEY
Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    """A fresh client token."""
    return uuid.uuid4().hex


class ScanOperations(Protocol):
    """What a token scan needs: the pages of `GET /jobs` (a repeated cursor is an error)."""

    def pages(
        self, params: Params, *, retry: RetryPolicy | None = None
    ) -> AsyncGenerator[list[Job], None]: ...


class CloneOperations(ScanOperations, Protocol):
    """What an idempotent clone needs: a scan, and posting a clone."""

    async def post_clone(
        self, job_id: str, body: Mapping[str, Any], *, retry: RetryPolicy | None = None
    ) -> JobCreated: ...


class ScanIncompleteError(IonQError):
    """A token scan stopped before its horizon: whether the job exists is unknown."""


class _Scope:
    """What complete scans under one filter have read (the filter: target, session)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.seen: set[str] = set()
        self.floor: datetime | None = None
        self.completed_at: datetime | None = None
        self.horizon: datetime | None = None


class TokenIndex:
    """Maps client tokens to job ids by reading the newest jobs; one scan serves many callers."""

    def __init__(
        self,
        ops: ScanOperations,
        *,
        retry: RetryPolicy | None = None,
        now: Now | None = None,
        scan_limit: int = d.SCAN_LIMIT,
        page_size: int = d.SCAN_PAGE,
    ) -> None:
        self._ops = ops
        self._retry = retry
        self._now = now or _utc_now
        self._scan_limit = scan_limit
        self._page_size = page_size
        self._known: dict[str, str] = {}
        self._scopes: dict[tuple[str | None, str | None], _Scope] = {}
        self.scans = 0

    def now(self) -> datetime:
        """The index's wall clock (UTC)."""
        return self._now()

    def note(self, token: str, job_id: str) -> None:
        """Remember a token whose job id is already known."""
        self._known[token] = job_id

    def noted(self, job: Job) -> None:
        """Remember `job`'s token, if it carries one."""
        token = (job.metadata or {}).get(TOKEN_KEY)
        if token:
            self._known[token] = job.id

    async def find(
        self,
        token: str,
        *,
        since: datetime,
        target: str | None = None,
        session_id: str | None = None,
    ) -> str | None:
        """The id of the job carrying `token`; None only after a complete scan found none.

        `since` is when the first submission was sent. Raises ScanIncompleteError when the
        scan stopped early (its limit, an error, a cancellation).
        """
        if token in self._known:
            return self._known[token]
        asked_at = self._now()
        horizon = since - timedelta(seconds=d.CLOCK_SKEW)
        scope = self._scopes.setdefault((target, session_id), _Scope())
        async with scope.lock:
            if token in self._known:
                return self._known[token]
            served = scope.completed_at is not None and scope.completed_at >= asked_at
            if served and scope.horizon is not None and scope.horizon <= horizon:
                return None
            started = self._now()
            await self._scan(scope, horizon, target, session_id)
            scope.completed_at, scope.horizon = started, horizon
        return self._known.get(token)

    async def _scan(
        self, scope: _Scope, horizon: datetime, target: str | None, session_id: str | None
    ) -> None:
        """Read the newest jobs down to `horizon`, or into what complete scans have read."""
        self.scans += 1
        base: list[tuple[str, str]] = [("limit", str(self._page_size))]
        if target is not None:
            base.append(("target", target))
        if session_id is not None:
            base.append(("session_id", session_id))
        may_overlap = scope.floor is not None and scope.floor <= horizon
        read = overlap = 0
        seen: set[str] = set()
        try:
            async with contextlib.aclosing(self._ops.pages(base, retry=self._retry)) as pages:
                async for jobs in pages:
                    for job in jobs:
                        self.noted(job)
                        read += 1
                        overlap = overlap + 1 if may_overlap and job.id in scope.seen else 0
                        seen.add(job.id)
                        old = job.submitted_at is not None and job.submitted_at < horizon
                        if old or overlap >= d.SCAN_OVERLAP:
                            break
                        if read >= self._scan_limit:
                            raise ScanIncompleteError(
                                f"the token scan stopped after {read} jobs, before its horizon"
                            )
                    else:
                        continue
                    break
        except ScanIncompleteError:
            raise
        except (IonQError, ValueError) as exc:
            raise ScanIncompleteError(f"the token scan failed: {exc}") from exc
        self._complete(scope, seen, horizon)

    @staticmethod
    def _complete(scope: _Scope, seen: set[str], horizon: datetime) -> None:
        scope.seen |= seen
        scope.floor = horizon if scope.floor is None else max(scope.floor, horizon)


def with_token(
    body: Mapping[str, Any], source_metadata: Mapping[str, str] | None, token: str
) -> dict[str, Any]:
    """A clone body with the token merged into its metadata (or the source's, to keep it)."""
    base = body.get("metadata", source_metadata or {})
    return {**body, "metadata": {**base, TOKEN_KEY: token}}


class SourceOperations(Protocol):
    """What preparing a tokened clone may need: the source job, for its metadata."""

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...


async def tokened(
    ops: SourceOperations,
    source_id: str,
    body: Mapping[str, Any],
    token: str,
    *,
    known: tuple[dict[str, str] | None] | None,
    retry: RetryPolicy | None,
) -> dict[str, Any]:
    """The clone body carrying `token`: in the metadata the body sets, else in the source's.

    The source's metadata is `known` (boxed, as read ahead) or read now.
    """
    if "metadata" in body:
        return with_token(body, None, token)
    metadata = known[0] if known is not None else (await ops.get(source_id, retry=retry)).metadata
    return with_token(body, metadata, token)


class _Absent(SubmissionUnknownError):
    """A lost clone whose token a complete scan did not find: it may be sent again."""


def _is_absent(error: BaseException) -> bool:
    return isinstance(error, _Absent)


async def clone_idempotent(
    ops: CloneOperations,
    source_id: str,
    body: Mapping[str, Any],
    *,
    token: str,
    index: TokenIndex,
    retry: RetryPolicy,
    budget: RetryBudget | None = None,
    since: datetime | None = None,
) -> JobCreated:
    """Clone with `body` (which carries `token`); never create a second job for it.

    After a lost answer the token is looked up. Only when a complete scan finds no job is
    the clone sent again, on `retry`'s schedule and within its attempts and `budget`
    (`RetryPolicy.none()`: one submission). Otherwise SubmissionUnknownError carries
    the token: the job may exist.
    """
    started = since or index.now()
    try:
        return await _send(ops, source_id, body, token, index, retry)
    except SubmissionUnknownError as exc:
        first = exc
    # Apart from the first send, so that a clone whose answer arrives builds no closure.
    return await _after_lost_answer(
        first,
        ops,
        source_id,
        body,
        token=token,
        index=index,
        retry=retry,
        budget=budget,
        started=started,
    )


async def _after_lost_answer(
    first: SubmissionUnknownError,
    ops: CloneOperations,
    source_id: str,
    body: Mapping[str, Any],
    *,
    token: str,
    index: TokenIndex,
    retry: RetryPolicy,
    budget: RetryBudget | None,
    started: datetime,
) -> JobCreated:
    """Find the lost clone by its token; send again only after a complete scan found none."""
    scope = {"target": body.get("backend"), "session_id": body.get("session_id")}
    sends = 1
    lost: SubmissionUnknownError | None = first

    async def attempt() -> JobCreated:
        nonlocal sends, lost
        if lost is None:
            found = await _lookup(index, token, started, scope, source_id, None)
            if found is not None:
                return found
            sends += 1
            try:
                return await _send(ops, source_id, body, token, index, retry)
            except SubmissionUnknownError as exc:
                lost = exc
        error, lost = lost, None
        found = await _lookup(index, token, started, scope, source_id, error)
        if found is not None:
            logger.info("clone of %s was created despite a lost answer: %s", source_id, found.id)
            return found
        raise _Absent(
            f"clone of {source_id}: {sends} submission(s) lost, and no job carries its token",
            url=error.url,
            request=error.request,
            source_id=source_id,
            token=token,
        ) from error

    return await run_with_retries(
        attempt,
        method="POST",
        path=f"/jobs/{source_id}/clone",
        policy=retry,
        budget=budget,
        retryable=_is_absent,
    )


async def _send(
    ops: CloneOperations,
    source_id: str,
    body: Mapping[str, Any],
    token: str,
    index: TokenIndex,
    retry: RetryPolicy,
) -> JobCreated:
    """Post the clone once and note its token; a lost answer names the source and token."""
    try:
        created = await ops.post_clone(source_id, body, retry=retry)
    except SubmissionUnknownError as exc:
        exc.source_id, exc.token = source_id, token
        raise
    index.note(token, created.id)
    return created


async def _lookup(
    index: TokenIndex,
    token: str,
    since: datetime,
    scope: dict[str, Any],
    source_id: str,
    lost: SubmissionUnknownError | None,
) -> JobCreated | None:
    """The job carrying `token`, None if a complete scan found none; else unknown (raised)."""
    try:
        found = await index.find(token, since=since, **scope)
    except ScanIncompleteError as exc:
        error = SubmissionUnknownError(
            f"clone of {source_id}: its answer was lost and the search for its token did "
            f"not finish ({exc}); a job may exist",
            url=lost.url if lost else "",
            request=lost.request if lost else None,
            source_id=source_id,
            token=token,
        )
        raise error from exc
    return None if found is None else JobCreated(id=found)


async def find_clone(
    index: TokenIndex, token: str, since: datetime, source_id: str
) -> JobCreated | None:
    """The clone an earlier run made with `token`, None if absent; unknown is raised."""
    return await _lookup(index, token, since, {}, source_id, None)
