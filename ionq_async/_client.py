"""AsyncIonQ: configuration, lifecycle, and the request path every API call goes through."""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import aiohttp

from ._jobs import Jobs
from ._ratelimit import RateLimiter, RateLimitSetting
from ._retry import RetryBudget, RetryPolicy, run_with_retries
from ._transport import Transport, check_base_url, user_agent
from .errors import (
    APIConnectionError,
    ResponseValidationError,
    ServerError,
    SubmissionUnknownError,
    error_from_response,
)

__all__ = ["DEFAULT_BASE_URL", "AsyncIonQ"]

DEFAULT_BASE_URL = "https://api.ionq.co/v0.4"
DEFAULT_REQUEST_TIMEOUT = 60.0
DEFAULT_MAX_CONNECTIONS = 100
_SNIPPET = 500


class AsyncIonQ:
    """An async client of the IonQ v0.4 API; use it as `async with AsyncIonQ() as client:`.

    The key comes from `api_key` or `IONQ_API_KEY`, the URL from `base_url` or
    `IONQ_BASE_URL`. `request_timeout` bounds one HTTP attempt; `retry` is the default
    RetryPolicy (every `client.jobs.*` call also takes `retry=`); `rate_limit` paces all
    requests of this client: None, a fixed rate in requests/s, or "adaptive" (on 429s).
    A `session` passed in is used as is and never closed by the client.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitSetting = "adaptive",
        retry_budget: RetryBudget | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("IONQ_API_KEY")
        if not key or not key.strip():
            raise ValueError(
                "no IonQ API key: pass AsyncIonQ(api_key=...) or set the IONQ_API_KEY "
                "environment variable"
            )
        if request_timeout <= 0:
            raise ValueError(f"request_timeout must be > 0 seconds, got {request_timeout}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        url = base_url or os.environ.get("IONQ_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_base_url(url)
        self.retry = retry if retry is not None else RetryPolicy()
        self.rate_limiter = RateLimiter(rate_limit)
        # Requests wait for a connection slot before the limiter, so that the limiter
        # paces actual sends (not calls queued behind the connection pool).
        self._slots = asyncio.Semaphore(max_connections)
        self.retry_budget = retry_budget if retry_budget is not None else RetryBudget()
        self._transport = Transport(
            self.base_url,
            {"Authorization": f"apiKey {key.strip()}", "User-Agent": user_agent()},
            request_timeout=request_timeout,
            max_connections=max_connections,
            session=session,
        )
        self.jobs = Jobs(self)
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncIonQ(base_url={self.base_url!r}, api_key='***')"

    async def __aenter__(self) -> AsyncIonQ:
        if self._closed:
            raise RuntimeError("this AsyncIonQ is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop background work and close the HTTP session this client created."""
        if self._closed:
            return
        self._closed = True
        await self.jobs._close()
        await self._transport.close()

    @property
    def closed(self) -> bool:
        """True once `close()` has run."""
        return self._closed

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send a request with retries and rate limiting; return its decoded JSON body."""
        body = None if json_body is None else json.dumps(json_body).encode()
        # A partial, not a closure: a closure's cells are ~10 more GC-tracked objects per
        # request, and with thousands of requests in flight they set off collections.
        attempt = functools.partial(self._attempt, method, path, params, body, json_body)
        return await run_with_retries(
            attempt, method=method, path=path, policy=retry or self.retry, budget=self.retry_budget
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] | None,
        body: bytes | None,
        json_body: Any,
    ) -> Any:
        """One attempt: a rate-limited request in a connection slot, its answer decoded."""
        transport, limiter = self._transport, self.rate_limiter
        is_post = method == "POST"
        async with self._slots:
            sent_at = await limiter.acquire()
            try:
                raw = await transport.send(method, path, params=params, body=body)
            except APIConnectionError as exc:
                if is_post and exc.request_sent:
                    raise _unknown(exc, method, transport.base_url + path, json_body) from exc
                raise
        status = raw.status
        if status != 429:
            limiter.on_admitted()
        if 200 <= status < 300:
            self.retry_budget.on_success()
            try:
                return json.loads(raw.body) if raw.body else None
            except ValueError as exc:
                bad = ResponseValidationError(
                    f"HTTP {status} answer is not valid JSON",
                    status_code=status,
                    request_id=raw.request_id,
                    body=raw.body[:_SNIPPET].decode("utf-8", "replace"),
                )
                if is_post:
                    raise _unknown(bad, method, transport.base_url + path, json_body) from exc
                raise bad from exc
        error = error_from_response(status, raw.headers, raw.body, reason=raw.reason)
        if status == 429:
            limiter.on_rate_limited(getattr(error, "retry_after", None), sent_at)
        if is_post and isinstance(error, ServerError):
            raise _unknown(error, method, transport.base_url + path, json_body) from error
        raise error


def _unknown(error: Exception, method: str, url: str, body: Any) -> SubmissionUnknownError:
    return SubmissionUnknownError(
        f"the outcome of this submission is unknown ({error}); a job may have been created",
        method=method,
        url=url,
        request=body if isinstance(body, dict) else None,
    )
