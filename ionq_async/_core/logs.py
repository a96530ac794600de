"""The SDK's logging: the `ionq_async` logger tree, `IONQ_LOG`, and one DEBUG line per request.

Levels: DEBUG for every HTTP attempt (logger `ionq_async.http`), INFO for each retry and
each pause on Retry-After, WARNING for what a user must act on. Nothing logged here
carries a header, so the API key never reaches a record.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from contextvars import ContextVar

from ..errors import APIConnectionError
from .queries import Params
from .transport import RawResponse, Transport

__all__ = [
    "ATTEMPT",
    "ENV_VAR",
    "configure_from_env",
    "cost_drift",
    "logged_send",
    "logger",
    "rate_limit_pause",
    "requests_logged",
]

logger = logging.getLogger("ionq_async")
_http = logging.getLogger("ionq_async.http")

ENV_VAR = "IONQ_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

ATTEMPT: ContextVar[int] = ContextVar("ionq_async_attempt", default=1)
"""The number of the HTTP attempt being sent (the retry loop sets it from the second on)."""


def requests_logged() -> bool:
    """Whether each request is logged (checked once per request: cheap when it is not)."""
    return _http.isEnabledFor(logging.DEBUG)


async def logged_send(
    transport: Transport, method: str, path: str, params: Params | None, body: bytes | None
) -> RawResponse:
    """`transport.send`, with a DEBUG record of its status, attempt, milliseconds, request id."""
    started = time.perf_counter()
    attempt = ATTEMPT.get()
    try:
        raw = await transport.send(method, path, params=params, body=body)
    except APIConnectionError as exc:
        ms = (time.perf_counter() - started) * 1000
        _http.debug(
            "%s %s -> %s (attempt %d, %.1f ms)",
            method,
            path,
            type(exc).__name__,
            attempt,
            ms,
            extra=_fields(method, path, None, attempt, ms, None),
        )
        raise
    ms = (time.perf_counter() - started) * 1000
    _http.debug(
        "%s %s -> %d (attempt %d, %.1f ms, request_id=%s)",
        method,
        path,
        raw.status,
        attempt,
        ms,
        raw.request_id,
        extra=_fields(method, path, raw.status, attempt, ms, raw.request_id),
    )
    return raw


def _fields(
    method: str, path: str, status: int | None, attempt: int, ms: float, request_id: str | None
) -> dict[str, object]:
    """The request's fields as record attributes, for structured handlers."""
    return {
        "http_method": method,
        "path": path,
        "status": status,
        "attempt": attempt,
        "elapsed_ms": ms,
        "request_id": request_id,
    }


def rate_limit_pause(seconds: float) -> None:
    """INFO: every request of the client pauses on a 429's Retry-After."""
    logger.info("rate limited: pausing every request for %.2f s (Retry-After)", seconds)


def cost_drift(subject: str, ratio: float) -> None:
    """WARNING: IonQ billed more than it estimated; later clones are priced at the ratio."""
    logger.warning(
        "IonQ billed %s at %.2fx its estimate: later clones are priced at %.2fx",
        subject,
        ratio,
        ratio,
    )


def configure_from_env() -> None:
    """With `IONQ_LOG=debug` or `info`, log `ionq_async` to stderr at that level (once)."""
    level = _LEVELS.get(os.environ.get(ENV_VAR, "").strip().lower())
    if level is None:
        return
    if not any(getattr(h, "_ionq_log", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._ionq_log = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
