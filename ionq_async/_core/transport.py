"""One HTTP attempt over an aiohttp session, with aiohttp's errors translated to ours."""

from __future__ import annotations

import asyncio
import ipaddress
import platform
from collections.abc import Mapping
from typing import NamedTuple

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._version import __version__
from ..errors import APIConnectionError, APITimeoutError
from .queries import Params

__all__ = ["RawResponse", "Transport", "check_base_url", "user_agent"]

# aiohttp 3.10 added ConnectionTimeoutError; before it a connect timeout was a plain
# (Server)TimeoutError, read below as "may have been sent", the safe side for a POST.
_CONNECT_TIMEOUT: tuple[type[Exception], ...] = (
    (aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()
)


def user_agent() -> str:
    """The User-Agent sent with every request."""
    return (
        f"ionq-async/{__version__} aiohttp/{aiohttp.__version__} "
        f"{platform.python_implementation()}/{platform.python_version()}"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; plain http only for loopback hosts."""
    url = URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.raw_user is not None or url.raw_password is not None:
        # Not echoed: the URL holds a password. The API key is the only credential sent.
        raise ValueError("base_url must not carry a user or password (user:password@host)")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(
            f"base_url {base_url!r} uses plain http: the API key would travel unencrypted; "
            "use https (plain http is allowed only for loopback hosts such as 127.0.0.1)"
        )
    if url.query_string or url.fragment:
        raise ValueError(f"base_url must not carry a query or fragment, got {base_url!r}")
    return str(url).rstrip("/")


class RawResponse(NamedTuple):
    """What one attempt got back: status, headers and the whole body."""

    status: int
    headers: CIMultiDictProxy[str] | Mapping[str, str]
    body: bytes
    reason: str = ""

    @property
    def request_id(self) -> str | None:
        """The server's `x-request-id`, if it sent one."""
        return self.headers.get("x-request-id")


class Transport:
    """Sends single requests; owns its aiohttp session unless the caller passed one."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        request_timeout: float,
        max_connections: int,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url
        # Each request's URL is the base URL with its path replaced, marked as already
        # encoded: every path segment the API declarations fill in is checked or quoted,
        # and yarl would otherwise parse and re-encode the whole URL string per request.
        self._base = URL(base_url)
        self._base_path = self._base.raw_path.rstrip("/")
        # Multidicts, not dicts: aiohttp converts a dict to one on every request.
        self._headers = CIMultiDict(headers)
        self._json_headers = CIMultiDict(self._headers)
        self._json_headers["Content-Type"] = "application/json"
        self._secret = _secret_of(self._headers.get("Authorization", ""))
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the client is closed; create a new AsyncIonQ")
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
            # aiohttp resends an idempotent request once, unseen, when the server drops
            # the connection; retries belong to RetryPolicy (budget, logging, none()).
            # aiohttp's own test client turns this off the same way.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def send(
        self, method: str, path: str, *, params: Params | None = None, body: bytes | None = None
    ) -> RawResponse:
        """Send one request to `base_url + path`; raise APIConnectionError if no answer.

        The status is never raised here, whatever the session's `raise_for_status`: the
        request path maps every status itself.
        """
        session = self._get_session()
        headers = self._headers if body is None else self._json_headers
        try:
            # The API never redirects; following one would resend the key (and a POST body)
            # elsewhere. A 3xx comes back as is and the request path raises it.
            async with session.request(
                method,
                self._base.with_path(self._base_path + path, encoded=True),
                params=params,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                raise_for_status=False,
            ) as resp:
                data = await resp.read()
                status = resp.status
                # An error answer may echo the key ("invalid key sk-..."); its body becomes
                # the error's message and body, which are logged and printed.
                if status >= 300 and self._secret and self._secret in data:
                    data = data.replace(self._secret, b"***")
                return RawResponse(status, resp.headers, data, resp.reason or "")
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = self._translate(exc, method, self.base_url + path)
            if not _carries_request(exc):
                raise error from exc
        # Raised outside the handler: an aiohttp error that carries the request (its
        # headers hold the key) is neither the cause nor the context of ours.
        raise error

    def _translate(self, exc: BaseException, method: str, url: str) -> APIConnectionError:
        """Our error for an aiohttp failure: a timeout, or a connection that gave no answer."""
        if isinstance(exc, _CONNECT_TIMEOUT):
            return APITimeoutError(
                "timed out connecting", method=method, url=url, request_sent=False
            )
        if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
            return APITimeoutError(
                f"no answer within {self._timeout.total:g} s", method=method, url=url
            )
        if isinstance(exc, aiohttp.ClientConnectorError):
            return APIConnectionError(
                f"could not connect: {exc.os_error}", method=method, url=url, request_sent=False
            )
        if isinstance(exc, aiohttp.ClientPayloadError):
            return APIConnectionError(
                f"response body cut short: {exc}", method=method, url=url, request_sent=True
            )
        reason = type(exc).__name__ if _carries_request(exc) else str(exc) or type(exc).__name__
        return APIConnectionError(f"connection failed: {reason}", method=method, url=url)

    async def close(self) -> None:
        """Close the session if this transport created it; idempotent."""
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()
        await asyncio.sleep(0)


def _secret_of(authorization: str) -> bytes:
    """The credential in an `Authorization: <scheme> <credential>` value (b"" if none)."""
    return authorization.partition(" ")[2].strip().encode()


def _carries_request(error: BaseException) -> bool:
    """Whether `error` or anything chained to it holds the request (and so its headers)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if hasattr(current, "request_info"):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
