"""TokenIndex: finds a clone by the client token in its metadata, reading the newest jobs.

"Not found" means absent only after every job down to the submission's time (less the
clock-skew allowance) was read; a scan cut short raises ScanIncompleteError. One scan
serves every caller that asked before it started. Memory stays flat however many clones
a client makes: the index holds only the tokens being looked for (a token leaves once its
caller has its answer), the newest ids of each scope's last scan, and a bounded number of
scopes (least recently used first out).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .._core import defaults as d
from .._core.queries import Params
from .._core.retry import RetryPolicy
from .._models.jobs import Job
from ..errors import IonQError

__all__ = ["ScanIncompleteError", "ScanOperations", "TokenIndex"]

Now = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
ScopeKey = tuple[str | None, str | None]

MAX_SCOPES = 256
"""Scan scopes (target, session) kept; an evicted one only loses its incremental scans."""
SEEN_KEEP = 10 * d.SCAN_OVERLAP
"""Newest ids kept from a scope's last complete scan: where the next scan meets it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ScanOperations(Protocol):
    """What a token scan needs: the pages of `GET /jobs` (a repeated cursor is an error)."""

    def pages(
        self, params: Params, *, retry: RetryPolicy | None = None
    ) -> AsyncGenerator[list[Job], None]: ...


class ScanIncompleteError(IonQError):
    """A token scan stopped before its horizon: whether the job exists is unknown."""


class _Scope:
    """What the last complete scan under one filter (target, session) read."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.seen: frozenset[str] = frozenset()
        self.floor: datetime | None = None
        self.completed_at: datetime | None = None
        self.horizon: datetime | None = None


class TokenIndex:
    """Maps client tokens to job ids by reading the newest jobs; one scan serves many callers.

    `listing_lag` is how long the job list may take to show a new job: a caller that
    found nothing scans again once that long has passed since its submission.
    """

    def __init__(
        self,
        ops: ScanOperations,
        *,
        retry: RetryPolicy | None = None,
        now: Now | None = None,
        sleep: Sleep | None = None,
        listing_lag: float = d.NOT_FOUND_GRACE,
        scan_limit: int = d.SCAN_LIMIT,
        page_size: int = d.SCAN_PAGE,
    ) -> None:
        if not listing_lag >= 0:
            raise ValueError(f"listing_lag must be >= 0 seconds, got {listing_lag}")
        self._ops = ops
        self._retry = retry
        self._now = now or _utc_now
        self.sleep: Sleep = sleep or (retry.sleep if retry else None) or asyncio.sleep
        self.listing_lag = listing_lag
        self._scan_limit = scan_limit
        self._page_size = page_size
        self._wanted: dict[str, int] = {}
        self._found: dict[str, str] = {}
        self._scopes: OrderedDict[ScopeKey, _Scope] = OrderedDict()
        self.scans = 0

    def now(self) -> datetime:
        """The index's wall clock (UTC)."""
        return self._now()

    @property
    def sizes(self) -> dict[str, int]:
        """What the index holds: tokens looked for, tokens found, scopes, ids seen."""
        seen = sum(len(s.seen) for s in self._scopes.values())
        return {
            "wanted": len(self._wanted),
            "found": len(self._found),
            "scopes": len(self._scopes),
            "seen": seen,
        }

    def note(self, token: str, job_id: str) -> None:
        """Record that `token` belongs to `job_id`, if someone is looking for it."""
        if token in self._wanted:
            self._found[token] = job_id

    def noted(self, job: Job) -> None:
        """Record `job`'s token, if it carries one that someone is looking for."""
        token = (job.metadata or {}).get(d.TOKEN_KEY)
        if token and token in self._wanted:
            self._found[token] = job.id

    @contextlib.contextmanager
    def looking_for(self, token: str) -> Iterator[None]:
        """Keep `token` wanted for the block: every scan that runs meanwhile notes it."""
        self._wanted[token] = self._wanted.get(token, 0) + 1
        try:
            yield
        finally:
            left = self._wanted[token] - 1
            if left:
                self._wanted[token] = left
            else:
                del self._wanted[token]
                self._found.pop(token, None)

    async def find(
        self,
        token: str,
        *,
        since: datetime,
        target: str | None = None,
        session_id: str | None = None,
        fresh_after: datetime | None = None,
    ) -> str | None:
        """The id of the job carrying `token`; None only after a complete scan found none.

        `since` is when the first submission was sent. A scan that started before this
        call (or before `fresh_after`, for a caller inside `looking_for(token)` since before
        then) does not answer it. Raises ScanIncompleteError when the scan stopped early
        (its limit, an error, a cancellation).
        """
        with self.looking_for(token):
            if token in self._found:
                return self._found[token]
            asked_at = self._now() if fresh_after is None else fresh_after
            horizon = since - timedelta(seconds=d.CLOCK_SKEW)
            scope = self._scope((target, session_id))
            async with scope.lock:
                if token in self._found:
                    return self._found[token]
                served = scope.completed_at is not None and scope.completed_at >= asked_at
                if served and scope.horizon is not None and scope.horizon <= horizon:
                    return None
                started = self._now()
                await self._scan(scope, horizon, target, session_id)
                scope.completed_at, scope.horizon = started, horizon
            return self._found.get(token)

    def _scope(self, key: ScopeKey) -> _Scope:
        """The scope of `key`, most recently used; the oldest idle scopes past MAX_SCOPES go."""
        scope = self._scopes.get(key)
        if scope is not None:
            self._scopes.move_to_end(key)
            return scope
        scope = self._scopes[key] = _Scope()
        if len(self._scopes) > MAX_SCOPES:
            idle = [k for k, s in self._scopes.items() if not s.lock.locked()]
            for k in idle[: len(self._scopes) - MAX_SCOPES]:
                del self._scopes[k]
        return scope

    async def _scan(
        self, scope: _Scope, horizon: datetime, target: str | None, session_id: str | None
    ) -> None:
        """Read the newest jobs down to `horizon`, or into what the last complete scan read."""
        self.scans += 1
        base: list[tuple[str, str]] = [("limit", str(self._page_size))]
        if target is not None:
            base.append(("target", target))
        if session_id is not None:
            base.append(("session_id", session_id))
        may_overlap = scope.floor is not None and scope.floor <= horizon
        read = overlap = 0
        newest: list[str] = []
        try:
            async with contextlib.aclosing(self._ops.pages(base, retry=self._retry)) as pages:
                async for jobs in pages:
                    for job in jobs:
                        self.noted(job)
                        read += 1
                        overlap = overlap + 1 if may_overlap and job.id in scope.seen else 0
                        if len(newest) < SEEN_KEEP:
                            newest.append(job.id)
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
        # The next scan meets this one at its newest jobs: those are all it needs to keep.
        scope.seen = frozenset(newest)
        scope.floor = horizon if scope.floor is None else max(scope.floor, horizon)
