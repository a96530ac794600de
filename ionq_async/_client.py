"""AsyncIonQ: configuration and lifecycle; it builds the request path and the resources."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._core import api
from ._core import defaults as d
from ._core.http import RequestPath
from ._core.loaders import load_raw
from ._core.queries import GroupBy, Modality
from ._core.ratelimit import RateLimiter, RateLimitSetting
from ._core.retry import RetryBudget, RetryPolicy
from ._core.transport import Transport, check_base_url, user_agent
from ._models.api import Usage, Whoami
from ._resources.account import Schemas
from ._resources.backends import Backends
from ._resources.jobs import Jobs
from ._resources.sessions import Sessions

if TYPE_CHECKING:
    import aiohttp

__all__ = ["DEFAULT_BASE_URL", "AsyncIonQ"]

DEFAULT_BASE_URL = d.BASE_URL
"""https://api.ionq.co/v0.4, used when neither base_url nor IONQ_BASE_URL is given."""


class AsyncIonQ:
    """An async client of the IonQ v0.4 API; use it as `async with AsyncIonQ() as client:`.

    The key comes from `api_key` or `IONQ_API_KEY`, the URL from `base_url` or
    `IONQ_BASE_URL`. `request_timeout` bounds one HTTP attempt; `retry` is the default
    RetryPolicy (every call on the client and its resources also takes `retry=`);
    `rate_limit` paces all requests of this client: None, a fixed rate in requests/s, or
    "adaptive" (on 429s). `listing_lag` is how long (s) the job list may take to show a new
    job: a lost idempotent clone is looked up again after it, and a 404 is waited through.
    A `session` passed in is used as is and never closed by the client.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        request_timeout: float = d.REQUEST_TIMEOUT,
        max_connections: int = d.MAX_CONNECTIONS,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitSetting = "adaptive",
        retry_budget: RetryBudget | None = None,
        listing_lag: float = d.NOT_FOUND_GRACE,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("IONQ_API_KEY")
        key = _check_settings(key, request_timeout, max_connections, retry, retry_budget)
        if not listing_lag >= 0:
            raise ValueError(f"listing_lag must be >= 0 seconds, got {listing_lag}")
        url = base_url or os.environ.get("IONQ_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = check_base_url(url)
        self.retry = retry if retry is not None else RetryPolicy()
        self.rate_limiter = RateLimiter(rate_limit)
        self.retry_budget = retry_budget if retry_budget is not None else RetryBudget()
        self._transport = Transport(
            self.base_url,
            {"Authorization": f"apiKey {key}", "User-Agent": user_agent()},
            request_timeout=request_timeout,
            max_connections=max_connections,
            session=session,
        )
        self._http = RequestPath(
            self._transport,
            retry=self.retry,
            budget=self.retry_budget,
            limiter=self.rate_limiter,
            max_connections=max_connections,
        )
        self.jobs = Jobs(self._http, listing_lag=listing_lag)
        self.backends = Backends(self._http)
        self.sessions = Sessions(self._http)
        self.schemas = Schemas(self._http)
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncIonQ(base_url={self.base_url!r}, api_key='***')"

    async def __aenter__(self) -> AsyncIonQ:
        if self._closed:
            raise RuntimeError("this AsyncIonQ is closed; create a new one")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop background work and close the HTTP session this client created.

        Session ends still under way (a `sessions.open()` block left by cancellation) are
        awaited first, for a bounded time; one that fails is logged with its session id.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self.sessions._close()
        finally:
            await self.jobs._close()
            await self._transport.close()

    async def whoami(self, *, retry: RetryPolicy | None = None) -> Whoami:
        """The API key this client authenticates with: its id, name and project."""
        return await self._http.send(api.GET_WHOAMI(), retry)

    async def usage(
        self,
        organization_id: str,
        *,
        start_date: dt.date | str,
        end_date: dt.date | str,
        group_by: GroupBy = "project",
        modality: Modality = "daily",
        retry: RetryPolicy | None = None,
    ) -> Usage:
        """An organization's QPU usage and cost from `start_date` to `end_date` (exclusive).

        `group_by` is "job", "project" or "user"; `modality` is "daily", "weekly" or "monthly".
        """
        request = api.GET_USAGE(organization_id, start_date, end_date, group_by, modality)
        return await self._http.send(request, retry)

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
        """Send a call of a declared operation by method and path; its decoded JSON body."""
        op = api.find(method, path).reading(load_raw)
        return await self._http.send(api.Request(op, path, params, json_body, None), retry)


def _check_settings(
    key: object, request_timeout: object, max_connections: object, retry: object, budget: object
) -> str:
    """The API key, stripped, once it and the settings are checked (else they fail late)."""
    if key is not None and not isinstance(key, str):
        raise TypeError(f"api_key must be a str, not {type(key).__name__}")
    if not key or not key.strip():
        raise ValueError(
            "no IonQ API key: pass api_key=... or set the IONQ_API_KEY environment variable"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in key.strip()):
        # Not echoed: it is the key. aiohttp refused it only on the first request.
        raise ValueError("the API key contains a control character (a newline, a tab...)")
    if isinstance(request_timeout, bool) or not isinstance(request_timeout, int | float):
        raise TypeError(f"request_timeout must be a number of seconds, not {request_timeout!r}")
    if not 0 < request_timeout < math.inf:
        raise ValueError(f"request_timeout must be > 0 seconds and finite, got {request_timeout}")
    if isinstance(max_connections, bool) or not isinstance(max_connections, int):
        raise TypeError(f"max_connections must be an int, not {max_connections!r}")
    if max_connections < 1:
        raise ValueError(f"max_connections must be >= 1, got {max_connections}")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry must be a RetryPolicy or None, not {type(retry).__name__}")
    if budget is not None and not isinstance(budget, RetryBudget):
        raise TypeError(f"retry_budget must be a RetryBudget or None, not {type(budget).__name__}")
    return key.strip()
