"""The request path every API call takes: retries, a connection slot, the rate limit, one send."""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import time
from typing import Any, TypeVar

import orjson

from ..errors import (
    APIConnectionError,
    ResponseValidationError,
    ServerError,
    SubmissionUnknownError,
    error_from_response,
)
from .declaration import Request
from .defaults import ERROR_BODY_SNIPPET
from .logs import logged_send, requests_logged
from .ratelimit import RateLimiter
from .retry import Kind, RetryBudget, RetryPolicy, by_kind, is_retryable, retry_from
from .transport import RawResponse, Transport

__all__ = ["RequestPath", "submission_unknown"]

T = TypeVar("T")

_EMPTY = b"{}"
_PAUSE_FROM = 16_384
"""An answer this large (a page of jobs) is read with the cyclic collector paused."""
_AS_IS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _decode(body: bytes) -> Any:
    """The JSON `body` read by orjson; what orjson refuses, by `json.loads`.

    orjson reads an API answer 3x faster (a page of 100 jobs: 196 vs 478 us). It refuses
    what `json.loads` still reads: a BOM, UTF-16/32, NaN, 1E400, a lone surrogate; those
    get the standard library's reading and, if invalid, its error.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _encode(data: Any) -> bytes:
    """`data` as a JSON body: the values `json.dumps` writes (its bytes, or orjson's), or its error.

    orjson writes a tokened clone body 8x faster. It writes NaN as null and a UUID or Enum
    as a string, and refuses what `json.dumps` still writes (an int past 64 bits, a non-str
    key, a subclass, a lone surrogate, a cycle): what it refuses, or does not read back as
    `data`, is written by `json.dumps`, so that bytes and errors stay the standard library's.
    """
    try:
        body = orjson.dumps(data, option=_AS_IS)
    except orjson.JSONEncodeError:
        return json.dumps(data).encode()
    if orjson.loads(body) != data:
        return json.dumps(data).encode()
    return body


class RequestPath:
    """Sends one API call through retries, a connection slot and the shared rate limiter."""

    def __init__(
        self,
        transport: Transport,
        *,
        retry: RetryPolicy,
        budget: RetryBudget,
        limiter: RateLimiter,
        max_connections: int,
    ) -> None:
        self.transport = transport
        self.retry = retry
        self.budget = budget
        self.limiter = limiter
        # Requests wait for a connection slot before the limiter, so that the limiter
        # paces actual sends (not calls queued behind the connection pool).
        self._slots = asyncio.Semaphore(max_connections)

    @property
    def base_url(self) -> str:
        """The API's base URL, without a trailing slash."""
        return self.transport.base_url

    async def send(self, request: Request[T], retry: RetryPolicy | None = None) -> T:
        """Send `request` with retries and rate limiting; return its answer, loaded.

        The operation's kind decides what is retried. The loader reads the body inside
        each attempt, so an answer of the wrong shape is retried like an unreadable one
        (and, for a creating operation, is a SubmissionUnknownError).
        """
        data = request.body
        # An empty clone body (every field inherited) is the most common body sent.
        body = None if data is None else _EMPTY if data == {} else _encode(data)
        policy = retry or self.retry
        if policy.max_attempts == 1:
            return await self._attempt(request, body)
        # run_with_retries' fast path, inline: one coroutine and one partial less per call.
        started = time.monotonic()
        op = request.op
        try:
            return await self._attempt(request, body)
        except Exception as exc:
            if not is_retryable(exc, op.kind, policy):
                raise
            first = exc
        # A partial, not a closure: a closure's cells are ~10 more GC-tracked objects per
        # request, and with thousands of requests in flight they set off collections.
        return await retry_from(
            first,
            functools.partial(self._attempt, request, body),
            started,
            method=op.method,
            path=request.path,
            policy=policy,
            budget=self.budget,
            retryable=by_kind(op.kind, policy),
        )

    async def _attempt(self, request: Request[T], body: bytes | None) -> T:
        """One attempt: a rate-limited request in a connection slot, its answer loaded."""
        transport, limiter = self.transport, self.limiter
        op = request.op
        creating = op.kind is Kind.CREATING
        slots = self._slots
        await slots.acquire()
        try:
            sent_at = limiter.free_now()
            if sent_at is None:
                sent_at = await limiter.acquire()
            if requests_logged():
                raw = await logged_send(transport, op.method, request.path, request.params, body)
            else:
                raw = await transport.send(
                    op.method, request.path, params=request.params, body=body
                )
        except APIConnectionError as exc:
            if creating and exc.request_sent:
                raise self._unknown(exc, request) from exc
            raise
        finally:
            slots.release()
        status = raw.status
        if status != 429:
            limiter.on_admitted()
        if 200 <= status < 300:
            self.budget.on_success()
            if len(raw.body) < _PAUSE_FROM or not gc.isenabled():
                return self._read(request, raw)
            # Reading a page of 100 jobs builds ~1,000 containers: a collection would start
            # in the middle, walk them and age the half-built page (later collections walk
            # it again). A light read (sources' metadata, a batch's endings) keeps nothing
            # of the page, so, paused for that synchronous moment, the collector never sees
            # it. Not switched on if the caller had it off.
            gc.disable()
            try:
                return self._read(request, raw)
            finally:
                gc.enable()
        error = error_from_response(status, raw.headers, raw.body, reason=raw.reason)
        if status == 429:
            limiter.on_rate_limited(getattr(error, "retry_after", None), sent_at)
        if creating and isinstance(error, ServerError):
            raise self._unknown(error, request) from error
        raise error

    def _read(self, request: Request[T], raw: RawResponse) -> T:
        """A 2xx answer's body decoded and loaded; a ResponseValidationError if it is not."""
        status = raw.status
        creating = request.op.kind is Kind.CREATING
        try:
            data = _decode(raw.body) if raw.body else None
        except ValueError as exc:
            bad = ResponseValidationError(
                f"HTTP {status} answer is not valid JSON",
                status_code=status,
                request_id=raw.request_id,
                body=raw.body[:ERROR_BODY_SNIPPET].decode("utf-8", "replace"),
            )
            if creating:
                raise self._unknown(bad, request) from exc
            raise bad from exc
        try:
            return request.load(data)
        except ResponseValidationError as exc:
            exc.status_code = status
            exc.request_id = raw.request_id
            exc.body = raw.body[:ERROR_BODY_SNIPPET].decode("utf-8", "replace")
            if creating:
                raise self._unknown(exc, request) from exc
            raise

    def _unknown(self, error: BaseException, request: Request[Any]) -> SubmissionUnknownError:
        return submission_unknown(
            error, request.op.method, self.base_url + request.path, request.body
        )


def submission_unknown(
    error: BaseException, method: str, url: str, body: Any
) -> SubmissionUnknownError:
    """The error for a POST that may have created something: its answer was lost or unreadable."""
    return SubmissionUnknownError(
        f"the outcome of this submission is unknown ({error}); a job may have been created",
        method=method,
        url=url,
        request=body if isinstance(body, dict) else None,
    )
