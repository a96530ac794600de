"""Idempotent clones: a client token in the job's metadata, found again after a lost answer.

IonQ has no idempotency key. So a clone that must not be duplicated carries a random token
in `metadata[TOKEN_KEY]`; when its answer is lost (SubmissionUnknownError), the newest jobs
are read for that token (TokenIndex) before anything is sent again. A scan that finds
nothing is repeated once `listing_lag` seconds have passed since the lost submission, as a
new job may be listed late. A scan cut short leaves the outcome unknown: nothing is sent
again. `RetryPolicy.max_attempts` bounds the POSTs of one clone, lookups included.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from .._core import defaults as d
from .._core.retry import Kind, RetryBudget, RetryPolicy, is_retryable, run_with_retries
from .._models.jobs import Job, JobCreated
from ..errors import IonQError, SubmissionUnknownError
from .token_index import ScanIncompleteError, ScanOperations, Sleep, TokenIndex

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
_ONCE = RetryPolicy.none()
"""Each POST is sent once: the clone's own loop is the only one that retries it."""


_TOKENS_AT_ONCE = 64
_tokens: list[str] = []
os.register_at_fork(after_in_child=_tokens.clear)  # a forked child draws its own


def new_token() -> str:
    """A fresh client token: 32 random hex digits (a version-4 UUID's hex).

    Drawn from os.urandom 64 at a time: a system call and a UUID per token were a visible
    share of a batch's CPU.
    """
    try:
        return _tokens.pop()
    except IndexError:  # another thread may empty the pool too: draw from a fresh batch
        fresh = _fresh_tokens()
        token = fresh.pop()
        _tokens.extend(fresh)
        return token


def _fresh_tokens() -> list[str]:
    raw = bytearray(os.urandom(16 * _TOKENS_AT_ONCE))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # the RFC 4122 variant
    digits = raw.hex()
    return [digits[i : i + 32] for i in range(0, len(digits), 32)]


class CloneOperations(ScanOperations, Protocol):
    """What an idempotent clone needs: a scan, and posting a clone."""

    async def post_clone(
        self, job_id: str, body: Mapping[str, Any], *, retry: RetryPolicy | None = None
    ) -> JobCreated: ...


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
    """A lost clone whose token complete scans did not find: it may be sent again.

    Never seen by a caller: past the last attempt it becomes a SubmissionUnknownError.
    """


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

    Each POST is sent once; `retry` bounds them all (`max_attempts` POSTs at most, on its
    schedule and within `budget`). A refusal that created nothing (a 429, a connection
    never made) is sent again; a lost answer first looks the token up, and only when
    complete scans (one after `index.listing_lag`) find no job is the clone sent again.
    Past the last attempt SubmissionUnknownError carries the token: the job may exist.
    """
    started = since or index.now()
    try:
        return await _send(ops, source_id, body, token)
    except IonQError as exc:
        first = exc
    scope = {"target": body.get("backend"), "session_id": body.get("session_id")}
    sleep = retry.sleep or index.sleep
    sends = 1
    pending: IonQError | None = first

    def retryable(error: BaseException) -> bool:
        return isinstance(error, _Absent) or is_retryable(error, Kind.CREATING, retry)

    async def attempt() -> JobCreated:
        """One POST (the first, already sent, is replayed), then a lookup if its answer was lost."""
        nonlocal sends, pending
        if pending is not None:
            error, pending = pending, None
        else:
            sends += 1
            try:
                return await _send(ops, source_id, body, token)
            except SubmissionUnknownError as exc:
                error = exc
        if not isinstance(error, SubmissionUnknownError):
            raise error
        # A rescan after the listing lag is needed only before another POST.
        lost_at = index.now() if sends < retry.max_attempts else None
        found = await _lookup(index, token, started, scope, source_id, error, lost_at, sleep)
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

    if not (retryable(first) or isinstance(first, SubmissionUnknownError)):
        raise first
    try:
        return await run_with_retries(
            attempt,
            method="POST",
            path=f"/jobs/{source_id}/clone",
            policy=retry,
            budget=budget,
            retryable=retryable,
        )
    except _Absent as exc:
        raise SubmissionUnknownError(
            str(exc), url=exc.url, request=exc.request, source_id=source_id, token=token
        ) from exc.__cause__


async def _send(
    ops: CloneOperations, source_id: str, body: Mapping[str, Any], token: str
) -> JobCreated:
    """Post the clone once; a lost answer names the source and token."""
    try:
        return await ops.post_clone(source_id, body, retry=_ONCE)
    except SubmissionUnknownError as exc:
        exc.source_id, exc.token = source_id, token
        raise


async def _lookup(
    index: TokenIndex,
    token: str,
    since: datetime,
    scope: dict[str, Any],
    source_id: str,
    lost: SubmissionUnknownError | None,
    lost_at: datetime | None,
    sleep: Sleep,
) -> JobCreated | None:
    """The job carrying `token`, None if complete scans found none; else unknown (raised).

    A scan that finds nothing before `index.listing_lag` has passed since `lost_at` (when
    the submission's answer was lost; None: no rescan) is repeated once it has: the list
    may show a new job late.
    """
    try:
        with index.looking_for(token):
            found = await index.find(token, since=since, **scope)
            if found is not None or lost_at is None:
                return None if found is None else JobCreated(id=found)
            listed_by = lost_at + timedelta(seconds=index.listing_lag)
            wait = (listed_by - index.now()).total_seconds()
            if wait > 0:
                await sleep(wait)
                found = await index.find(token, since=since, fresh_after=listed_by, **scope)
    except ScanIncompleteError as exc:
        error = SubmissionUnknownError(
            f"clone of {source_id}: its answer was lost and the search for its token did "
            f"not finish ({exc}); a job may exist",
            url=lost.url if lost else "",
            request=lost.request if lost else None,
            source_id=source_id,
            token=token,
        )
        raise error from exc.__cause__
    return None if found is None else JobCreated(id=found)


async def find_clone(
    index: TokenIndex, token: str, since: datetime, source_id: str, sent_by: datetime | None = None
) -> JobCreated | None:
    """The clone an earlier run made with `token`, None if absent; else raised.

    It was sent at `since`, or (`sent_by`) at some time between the two: a scan that finds
    nothing is repeated once `listing_lag` has passed since the later.
    """
    lost_at = since if sent_by is None else max(since, sent_by)
    return await _lookup(index, token, since, {}, source_id, None, lost_at, index.sleep)
