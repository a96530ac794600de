"""JSON and IonQ-shaped error answers shared by every route module."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web

REASONS = {
    400: "Bad Request",
    401: "Unauthorized Error",
    404: "Not Found Error",
    405: "Method Not Allowed",
    409: "Conflict Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
MESSAGES = {
    401: "Invalid key provided. Please check your API key and try again.",
    429: "Too Many Requests. To get a higher rate limit, please reach out to support@ionq.co",
    500: "Internal service outage. Visit https://status.ionq.co/ to track this incident.",
}
INT32_MAX = 2**31 - 1
_JSON_TYPE = {"Content-Type": "application/json"}


class BadRequest(Exception):
    """A 400 with IonQ's ``validation`` details (and an optional machine-readable ``code``)."""

    def __init__(
        self, message: str, keys: list[str], source: str = "payload", *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.keys = keys
        self.source = source
        self.code = code


class NotFound(Exception):
    """A 404 with an IonQ-shaped body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def encode_json(obj: Any) -> bytes:
    """``obj`` as JSON by orjson (UTF-8, compact; non-string keys as strings)."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer serialized once."""
    return raw_json_response(encode_json(obj), status, headers)


def raw_json_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer already encoded (a Content-Type header is cheaper than ``content_type=``)."""
    both = {**headers, **_JSON_TYPE} if headers else _JSON_TYPE
    return web.Response(body=body, status=status, headers=both)


def error_response(
    status: int,
    message: str | None = None,
    *,
    validation: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> web.Response:
    """An IonQ-shaped error body (``statusCode, error, message``; ``validation`` on 400)."""
    body: dict[str, Any] = {
        "statusCode": status,
        "error": REASONS.get(status, "Server Error" if status >= 500 else "Error"),
        "message": message or MESSAGES.get(status, "Service temporarily unavailable."),
    }
    if code is not None:
        body["code"] = code
    if validation is not None:
        body["validation"] = validation
    return json_response(body, status, headers)


def bad_request_response(exc: BadRequest) -> web.Response:
    """The 400 answer of a :class:`BadRequest`."""
    return error_response(
        400, exc.message, validation={"keys": exc.keys, "source": exc.source}, code=exc.code
    )


def query_int(request: web.Request, key: str, default: int, lo: int, hi: int = INT32_MAX) -> int:
    """An integer query parameter within ``[lo, hi]`` (400 otherwise)."""
    raw = request.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f'"{key}" must be an integer', [key], "query") from None
    if not lo <= value <= hi:
        raise BadRequest(f'"{key}" must be between {lo} and {hi}', [key], "query")
    return value


def query_bool(request: web.Request, key: str) -> bool | None:
    """A boolean query parameter (``true``/``false``), None when absent."""
    raw = request.query.get(key)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise BadRequest(f'"{key}" must be a boolean', [key], "query")
    return raw.lower() == "true"


async def read_json(request: web.Request) -> Any:
    """The request body as JSON (``{}`` when empty); 400 on malformed JSON."""
    if not request.can_read_body:
        return {}
    try:
        return json.loads(await request.read())
    except ValueError as exc:
        raise BadRequest("Invalid JSON payload", [], "payload") from exc
