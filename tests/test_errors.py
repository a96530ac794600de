"""HTTP error statuses map to typed errors (unit and over real HTTP); the key never leaks."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncIonQ,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IonQError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ResponseValidationError,
    RetryPolicy,
    ServerError,
    SubmissionUnknownError,
)
from ionq_async.errors import error_from_response, parse_retry_after

KEY = "sk-SECRET-123"
SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
RID = "req-7f3a"
HTML = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 800 + "</body></html>"

# status -> (class, body bytes, expected message)
CASES: dict[int, tuple[type[APIStatusError], bytes, str]] = {
    400: (
        BadRequestError,
        json.dumps(
            {
                "statusCode": 400,
                "error": "Bad Request",
                "message": "Invalid request body",
                "validation": {"source": "body", "keys": ["shots", "noise.seed"]},
            }
        ).encode(),
        "Invalid request body",
    ),
    401: (AuthenticationError, b'{"error": "Unauthorized"}', "Unauthorized"),
    403: (PermissionDeniedError, b'{"message": "Forbidden", "error": "x"}', "Forbidden"),
    404: (
        NotFoundError,
        b'{"statusCode": 404, "error": "Not Found", "message": "no job"}',
        "no job",
    ),
    409: (ConflictError, b'{"message": "job cannot be canceled"}', "job cannot be canceled"),
    413: (RequestTooLargeError, b'{"error": "Payload Too Large"}', "Payload Too Large"),
    429: (RateLimitError, b'{"message": "slow down"}', "slow down"),
    500: (ServerError, b'{"error": "Internal Server Error"}', "Internal Server Error"),
    502: (ServerError, HTML.encode(), HTML[:500]),
    503: (ServerError, b'{"message": "maintenance"}', "maintenance"),
    520: (ServerError, b"origin error", "origin error"),
}


@pytest.mark.parametrize("status", sorted(CASES))
def test_error_from_response(status: int) -> None:
    cls, body, message = CASES[status]
    err = error_from_response(status, {"x-request-id": RID, "retry-after": "3"}, body)
    assert type(err) is cls
    assert err.status_code == status
    assert err.message == message
    assert err.request_id == RID
    assert err.body == body.decode()
    assert str(err) == f"HTTP {status}: {message}, request id {RID}"
    if status == 400:
        assert isinstance(err, BadRequestError)
        assert err.validation_keys == ("shots", "noise.seed")
    if status == 429:
        assert isinstance(err, RateLimitError)
        assert err.retry_after == 3.0


def test_html_message_is_first_500_chars() -> None:
    err = error_from_response(502, {}, HTML.encode(), reason="Bad Gateway")
    assert len(err.message) == 500 and err.message == HTML[:500]
    assert err.request_id is None


def test_message_falls_back_to_reason_then_error() -> None:
    assert error_from_response(500, {}, b"", reason="Internal").message == "Internal"
    assert error_from_response(500, {}, b"{}", reason="Internal").message == "Internal"
    assert error_from_response(418, {}, b"").message == "error"
    other = error_from_response(418, {}, b'{"error": "teapot"}')
    assert type(other) is APIStatusError and other.status_code == 418


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    err = error_from_response(429, {"Retry-After": later}, b"{}")
    assert isinstance(err, RateLimitError) and err.retry_after is not None
    assert 0.0 <= err.retry_after <= 30.0


def test_error_tree() -> None:
    for cls, _, _ in CASES.values():
        assert issubclass(cls, APIStatusError) and issubclass(cls, IonQError)
    assert issubclass(APITimeoutError, APIConnectionError) and issubclass(
        APITimeoutError, TimeoutError
    )
    assert issubclass(SubmissionUnknownError, APIConnectionError)
    assert issubclass(ResponseValidationError, IonQError)


# --- end to end over a real local server -----------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[Answer], list[str]]]:
    """A server answering each request with the next queued (status, headers, body)."""
    answers: list[Answer] = []
    auth: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        auth.append(request.headers.get("Authorization", ""))
        status, headers, body = answers.pop(0)
        reason = "Origin Error" if status == 520 else None
        ctype = "text/html" if body.startswith(b"<") else "application/json"
        return web.Response(
            status=status, reason=reason, body=body, headers={"Content-Type": ctype, **headers}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv, answers, auth


def _client(srv: TestServer, **kw: Any) -> AsyncIonQ:
    return AsyncIonQ(KEY, base_url=str(srv.make_url("/v0.4")), rate_limit=None, **kw)


@pytest.mark.parametrize("status", sorted(CASES))
async def test_status_maps_to_error_over_http(
    server: tuple[TestServer, list[Answer], list[str]], status: int
) -> None:
    srv, answers, auth = server
    cls, body, message = CASES[status]
    answers.append((status, {"x-request-id": RID, "Retry-After": "1"}, body))
    async with _client(srv, retry=RetryPolicy.none()) as client:
        with pytest.raises(cls) as info:
            await client.jobs.get(SRC)
        assert repr(client).count(KEY) == 0
    err = info.value
    assert type(err) is cls
    assert (err.status_code, err.message, err.request_id) == (status, message, RID)
    assert err.body == body.decode()
    assert auth == [f"apiKey {KEY}"]
    for text in (str(err), repr(err), err.message, err.body):
        assert KEY not in text
    if status == 400:
        assert isinstance(err, BadRequestError)
        assert err.validation_keys == ("shots", "noise.seed")
    if status == 429:
        assert isinstance(err, RateLimitError)
        assert err.retry_after == 1.0


async def test_rate_limit_http_date_over_http(
    server: tuple[TestServer, list[Answer], list[str]],
) -> None:
    srv, answers, _ = server
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    answers.append((429, {"Retry-After": when, "x-request-id": RID}, b'{"error": "Too Many"}'))
    async with _client(srv, retry=RetryPolicy.none()) as client:
        with pytest.raises(RateLimitError) as info:
            await client.jobs.get(SRC)
    err = info.value
    assert err.message == "Too Many" and err.request_id == RID
    assert err.retry_after is not None and 100 < err.retry_after <= 120


async def test_post_server_error_is_submission_unknown(
    server: tuple[TestServer, list[Answer], list[str]],
) -> None:
    srv, answers, _ = server
    answers.append((503, {"x-request-id": RID}, b'{"message": "maintenance"}'))
    async with _client(srv, retry=RetryPolicy.none()) as client:
        with pytest.raises(SubmissionUnknownError) as info:
            await client.jobs.clone(SRC, shots=10)
    err = info.value
    assert err.request == {"shots": 10}
    assert isinstance(err.__cause__, ServerError) and err.__cause__.request_id == RID
    assert KEY not in str(err) and KEY not in repr(err)


async def test_key_never_in_logs_or_errors_during_retries(
    server: tuple[TestServer, list[Answer], list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    srv, answers, auth = server
    answers += [
        (503, {"x-request-id": "r1"}, b'{"message": "maintenance"}'),
        (429, {"x-request-id": "r2", "Retry-After": "0"}, b'{"message": "slow down"}'),
        (502, {}, HTML.encode()),
        (401, {"x-request-id": "r4"}, b'{"error": "Unauthorized"}'),
    ]
    policy = RetryPolicy(max_attempts=5, initial_wait=0.001, max_wait=0.01, jitter=0)
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG, logger="ionq_async"):
        async with _client(srv, retry=policy) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.jobs.get(SRC)
            errors.append(info.value)
            client_repr = repr(client)
    assert len(auth) == 4 and set(auth) == {f"apiKey {KEY}"}
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 3
    assert "request_id=r1" in retries[0].getMessage()
    assert caplog.text and KEY not in caplog.text
    assert all(KEY not in r.getMessage() and KEY not in str(r.args) for r in caplog.records)
    assert KEY not in client_repr and "***" in client_repr


def _every_error_kind() -> list[BaseException]:
    kinds: list[BaseException] = [
        error_from_response(s, {"x-request-id": RID}, body) for s, (_, body, _) in CASES.items()
    ]
    kinds += [
        APIConnectionError("could not connect", method="GET", url="https://api.ionq.co/v0.4/x"),
        APITimeoutError("no answer", method="GET", url="https://api.ionq.co/v0.4/x"),
        SubmissionUnknownError("lost", url="https://api.ionq.co/v0.4/x", request={"shots": 1}),
        ResponseValidationError("bad json", status_code=200, body="{"),
    ]
    return kinds


async def test_no_error_kind_mentions_the_key() -> None:
    for err in _every_error_kind():
        assert KEY not in str(err) and KEY not in repr(err)
        assert KEY not in repr(vars(err))


async def test_connection_error_over_http_hides_key() -> None:
    # A port nothing listens on: bind a server, note its port, close it.
    async with TestServer(web.Application(), host="127.0.0.1") as srv:
        base = str(srv.make_url("/v0.4"))
    async with AsyncIonQ(KEY, base_url=base, rate_limit=None, retry=RetryPolicy.none()) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.jobs.get(SRC)
    assert info.value.request_sent is False
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_each_status_class_stands_for_its_status_and_subclasses_elsewhere_change_nothing() -> None:
    for status, (cls, _, _) in CASES.items():
        assert cls.status_code == (status if status < 500 else 500)

    class Teapot(APIStatusError, status=418):
        """Defined outside the SDK."""

    class MyNotFound(NotFoundError):
        """Inherits the status of its base."""

    assert Teapot.status_code == 418 and MyNotFound.status_code == 404
    assert type(error_from_response(418, {}, b"")) is APIStatusError
    assert type(error_from_response(404, {}, b"")) is NotFoundError
    assert APIStatusError.status_code == 0 and str(APIStatusError("x")) == "HTTP 0: x"


def test_every_status_error_survives_pickling() -> None:
    for err in _every_error_kind():
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and vars(again) == vars(err)
        assert str(again) == str(err) and again.args == err.args
