"""Idempotent clones: a client token in the job's metadata, found again after a lost answer.

IonQ has no idempotency key. So a clone that must not be duplicated carries a random token
in `metadata[TOKEN_KEY]`; when its answer is lost (SubmissionUnknownError), the newest jobs
are scanned for that token before anything is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import tenacity
from tenacity import AsyncRetrying

from ._models import JobCreated
from ._retry import RetryPolicy
from .errors import SubmissionUnknownError

if TYPE_CHECKING:
    from ._jobs import Jobs

__all__ = ["TOKEN_KEY", "TokenIndex", "clone_idempotent", "new_token", "with_token"]

logger = logging.getLogger("ionq_async")

TOKEN_KEY = "ionq_async_token"
SCAN_LIMIT = 2000
_PAGE = 100
_CLOCK_SKEW = timedelta(minutes=2)
_SUBMIT_ATTEMPTS = 3


def new_token() -> str:
    """A fresh client token."""
    return uuid.uuid4().hex


class TokenIndex:
    """Maps client tokens to job ids by scanning the newest jobs; one scan serves many callers."""

    def __init__(self, jobs: Jobs, *, scan_limit: int = SCAN_LIMIT) -> None:
        self._jobs = jobs
        self._scan_limit = scan_limit
        self._known: dict[str, str] = {}
        self._seen: set[str] = set()
        self._lock = asyncio.Lock()
        self._scanned_at = datetime.min.replace(tzinfo=UTC)
        self.scans = 0

    def note(self, token: str, job_id: str) -> None:
        """Remember a token whose job id is already known."""
        self._known[token] = job_id

    async def find(self, token: str, *, since: datetime) -> str | None:
        """The id of the job carrying `token`, submitted after `since`, if any exists now."""
        if token in self._known:
            return self._known[token]
        asked_at = datetime.now(UTC)
        async with self._lock:
            if token in self._known or self._scanned_at >= asked_at:
                return self._known.get(token)
            self._scanned_at = datetime.now(UTC)
            await self._scan(since - _CLOCK_SKEW)
        return self._known.get(token)

    async def _scan(self, horizon: datetime) -> None:
        """Read the newest jobs down to `horizon`, or a page into what earlier scans read."""
        self.scans += 1
        read = overlap = 0
        async with aclosing(self._jobs.list(limit=_PAGE)) as newest:
            async for job in newest:
                token = (job.metadata or {}).get(TOKEN_KEY)
                if token:
                    self._known[token] = job.id
                read += 1
                overlap = overlap + 1 if job.id in self._seen else 0
                self._seen.add(job.id)
                old = job.submitted_at is not None and job.submitted_at < horizon
                if old or overlap >= _PAGE or read >= self._scan_limit:
                    break


def with_token(
    body: Mapping[str, Any], source_metadata: Mapping[str, str] | None, token: str
) -> dict[str, Any]:
    """A clone body with the token merged into its metadata (or the source's, to keep it)."""
    base = body.get("metadata", source_metadata or {})
    return {**body, "metadata": {**base, TOKEN_KEY: token}}


async def clone_idempotent(
    jobs: Jobs,
    source_id: str,
    body: Mapping[str, Any],
    *,
    token: str,
    index: TokenIndex,
    retry: RetryPolicy | None = None,
    since: datetime | None = None,
) -> JobCreated:
    """Clone with `body` (which carries `token`); never create a second job for it.

    After a lost answer the token is looked up; only if no job carries it is the clone sent
    again (up to the policy's `max_attempts` submissions, at least three). If every answer
    is lost and no job is found, the last SubmissionUnknownError is raised: the job may
    still appear later.
    """
    started = since or datetime.now(UTC)
    try:
        return await _post(jobs, source_id, body, token=token, index=index, retry=retry)
    except SubmissionUnknownError as exc:
        lost = exc
    return await _after_lost_answer(
        lost, jobs, source_id, body, token=token, index=index, retry=retry, started=started
    )


async def _post(
    jobs: Jobs,
    source_id: str,
    body: Mapping[str, Any],
    *,
    token: str,
    index: TokenIndex,
    retry: RetryPolicy | None,
) -> JobCreated:
    """Send the clone once; remember its token's job, or name the source in a lost answer."""
    try:
        created = await jobs._post_clone(source_id, body, retry)
    except SubmissionUnknownError as exc:
        exc.source_id = source_id
        raise
    index.note(token, created.id)
    return created


async def _after_lost_answer(
    lost: SubmissionUnknownError,
    jobs: Jobs,
    source_id: str,
    body: Mapping[str, Any],
    *,
    token: str,
    index: TokenIndex,
    retry: RetryPolicy | None,
    started: datetime,
) -> JobCreated:
    """Look the token up, then submit again on tenacity's schedule until a job is known."""
    # Apart from clone_idempotent so that a clone whose answer arrives builds no tenacity
    # objects: the first submission's loss is replayed to tenacity as its attempt 1.
    policy = retry or jobs._client.retry
    replay: SubmissionUnknownError | None = lost

    async def attempt() -> JobCreated:
        nonlocal replay
        if replay is None:
            found = await index.find(token, since=started)
            if found is not None:
                return JobCreated(id=found)
            try:
                return await _post(jobs, source_id, body, token=token, index=index, retry=retry)
            except SubmissionUnknownError as exc:
                error = exc
        else:
            error, replay = replay, None
        found = await index.find(token, since=started)
        if found is not None:
            logger.info("clone of %s was created despite a lost answer: %s", source_id, found)
            return JobCreated(id=found)
        raise error

    retrying = AsyncRetrying(
        sleep=policy.sleep or asyncio.sleep,
        stop=tenacity.stop_after_attempt(max(policy.max_attempts, _SUBMIT_ATTEMPTS)),
        wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=5.0, jitter=0.5),
        retry=tenacity.retry_if_exception_type(SubmissionUnknownError),
        reraise=True,
    )
    return await retrying(attempt)
