"""AsyncIonQ configuration: key and URL sources, http refusal, sessions, lifecycle, retry policy."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import DEFAULT_BASE_URL, AsyncIonQ, RetryPolicy
from ionq_async._core.transport import user_agent

KEY = "sk-SECRET-123"
SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    monkeypatch.delenv("IONQ_BASE_URL", raising=False)


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def get_job(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"id": request.match_info["id"], "status": "ready"})

    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", get_job)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv, seen


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_is_a_clear_error(key: str | None) -> None:
    with pytest.raises(ValueError, match="IONQ_API_KEY"):
        AsyncIonQ(key)


@pytest.mark.usefixtures("no_env")
async def test_missing_key_raises_before_any_request(
    server: tuple[TestServer, list[dict[str, str]]],
) -> None:
    srv, seen = server
    with pytest.raises(ValueError, match="API key"):
        AsyncIonQ(base_url=str(srv.make_url("/v0.4")))
    assert seen == []


@pytest.mark.usefixtures("no_env")
async def test_env_key_and_base_url_are_honoured(
    server: tuple[TestServer, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv, seen = server
    monkeypatch.setenv("IONQ_API_KEY", KEY)
    monkeypatch.setenv("IONQ_BASE_URL", str(srv.make_url("/v0.4/")))
    async with AsyncIonQ(rate_limit=None) as client:
        assert client.base_url == str(srv.make_url("/v0.4"))
        job = await client.jobs.get(SRC)
    assert job.id == SRC
    [headers] = seen
    assert headers["Authorization"] == f"apiKey {KEY}"
    assert headers["User-Agent"] == user_agent()
    assert re.match(r"^ionq-async/\S+ aiohttp/\S+ \w+/\d+\.\d+", headers["User-Agent"])


@pytest.mark.usefixtures("no_env")
def test_explicit_arguments_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IONQ_API_KEY", "env-key")
    monkeypatch.setenv("IONQ_BASE_URL", "https://env.example.com/v0.4")
    client = AsyncIonQ("arg-key", base_url="https://arg.example.com/v0.4")
    assert client.base_url == "https://arg.example.com/v0.4"
    assert client._transport._headers["Authorization"] == "apiKey arg-key"


@pytest.mark.usefixtures("no_env")
def test_default_base_url() -> None:
    assert AsyncIonQ(KEY).base_url == DEFAULT_BASE_URL == "https://api.ionq.co/v0.4"


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize(
    "url",
    [
        "http://api.ionq.co/v0.4",
        "http://10.0.0.5:8000/v0.4",
        "http://localhost.evil.com/v0.4",
        "ftp://127.0.0.1/v0.4",
        "api.ionq.co/v0.4",
        "https://api.ionq.co/v0.4?x=1",
    ],
)
def test_bad_base_urls_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AsyncIonQ(KEY, base_url=url)
    monkeypatch.setenv("IONQ_BASE_URL", url)
    with pytest.raises(ValueError, match="base_url"):
        AsyncIonQ(KEY)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.ionq.co/v0.4/", "https://api.ionq.co/v0.4"),
        ("https://eu.example.com:8443/v0.4", "https://eu.example.com:8443/v0.4"),
        ("http://127.0.0.1:8000/v0.4", "http://127.0.0.1:8000/v0.4"),
        ("http://localhost/v0.4", "http://localhost/v0.4"),
        ("http://[::1]:9000/v0.4", "http://[::1]:9000/v0.4"),
    ],
)
def test_https_and_loopback_http_are_accepted(url: str, expected: str) -> None:
    assert AsyncIonQ(KEY, base_url=url).base_url == expected


def test_repr_hides_key() -> None:
    client = AsyncIonQ(KEY)
    assert KEY not in repr(client) and KEY not in str(client)
    assert "***" in repr(client)


@pytest.mark.parametrize(
    ("kw", "name"), [({"request_timeout": 0}, "request_timeout"), ({"max_connections": 0}, "max")]
)
def test_bad_client_settings(kw: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        AsyncIonQ(KEY, **kw)  # type: ignore[arg-type]


async def test_callers_session_is_used_and_not_closed_by_close(
    server: tuple[TestServer, list[dict[str, str]]],
) -> None:
    srv, seen = server
    async with aiohttp.ClientSession(headers={"X-Mine": "yes"}) as session:
        client = AsyncIonQ(KEY, base_url=str(srv.make_url("/v0.4")), session=session)
        await client.jobs.get(SRC)
        await client.close()
        assert client.closed
        assert not session.closed
        assert seen[0]["X-Mine"] == "yes"  # the request went through the caller's session
        async with session.get(srv.make_url(f"/v0.4/jobs/{SRC}")) as resp:  # still usable
            assert resp.status == 200
    assert session.closed


async def test_callers_session_survives_async_with(
    server: tuple[TestServer, list[dict[str, str]]],
) -> None:
    srv, seen = server
    async with aiohttp.ClientSession(headers={"X-Mine": "yes"}) as session:
        async with AsyncIonQ(KEY, base_url=str(srv.make_url("/v0.4")), session=session) as c:
            await c.jobs.get(SRC)
        assert not session.closed
        assert seen[0]["X-Mine"] == "yes"


async def test_async_with_closes_own_session(
    server: tuple[TestServer, list[dict[str, str]]],
) -> None:
    srv, _ = server
    async with AsyncIonQ(KEY, base_url=str(srv.make_url("/v0.4"))) as client:
        await client.jobs.get(SRC)
        own = client._transport._session
        assert own is not None and not own.closed
    assert own.closed and client.closed
    await client.close()  # idempotent
    del own, client
    gc.collect()  # an unclosed session would warn here, and -W error makes that fail


async def test_closed_client_refuses_requests_and_reentry(
    server: tuple[TestServer, list[dict[str, str]]],
) -> None:
    srv, seen = server
    client = AsyncIonQ(KEY, base_url=str(srv.make_url("/v0.4")))
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.jobs.get(SRC)
    with pytest.raises(RuntimeError, match="closed"):
        async with client:
            pass
    assert seen == []


def test_retry_policy_validation() -> None:
    assert RetryPolicy.none().max_attempts == 1
    assert RetryPolicy(retry_statuses=[500]).retry_statuses == frozenset({500})
    for kw, err in [
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": True}, TypeError),
        ({"max_attempts": 2.0}, TypeError),
        ({"initial_wait": -1}, ValueError),
        ({"max_wait": -0.1}, ValueError),
        ({"jitter": -1}, ValueError),
        ({"max_retry_after": -1}, ValueError),
        ({"multiplier": 0.5}, ValueError),
        ({"deadline": 0}, ValueError),
    ]:
        with pytest.raises(err, match=next(iter(kw))):
            RetryPolicy(**kw)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize("userinfo", ["user:hunter2@", "user@", ":hunter2@"])
async def test_a_base_url_with_credentials_is_refused_before_any_request(
    server: tuple[TestServer, list[dict[str, str]]], userinfo: str
) -> None:
    """aiohttp would refuse it on the first request, untyped; the password would show in repr."""
    srv, seen = server
    url = str(srv.make_url("/v0.4")).replace("://", f"://{userinfo}", 1)
    with pytest.raises(ValueError, match="must not carry a user or password") as got:
        AsyncIonQ(KEY, base_url=url)
    assert "hunter2" not in str(got.value)
    assert seen == []


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize(
    ("kw", "kind", "message"),
    [
        ({"api_key": "sk-abc\r\nX-Injected: 1"}, ValueError, "control character"),
        ({"api_key": "sk-abc\tdef"}, ValueError, "control character"),
        ({"api_key": 12345678}, TypeError, "api_key must be a str, not int"),
        ({"request_timeout": float("nan")}, ValueError, "request_timeout must be > 0"),
        ({"request_timeout": float("inf")}, ValueError, "request_timeout must be > 0"),
        ({"request_timeout": "30"}, TypeError, "request_timeout must be a number"),
        ({"max_connections": 1.5}, TypeError, "max_connections must be an int, not 1.5"),
        ({"max_connections": "4"}, TypeError, "max_connections must be an int"),
        ({"retry": 5}, TypeError, "retry must be a RetryPolicy or None, not int"),
        ({"retry_budget": 5}, TypeError, "retry_budget must be a RetryBudget or None, not int"),
    ],
)
async def test_bad_settings_are_refused_before_any_request(
    server: tuple[TestServer, list[dict[str, str]]],
    kw: dict[str, object],
    kind: type[Exception],
    message: str,
) -> None:
    """Each was taken, then failed on the first request untyped (OverflowError, aiohttp's
    header-injection ValueError, AttributeError), or never (a nan timeout, 1.5 connections)."""
    srv, seen = server
    kw.setdefault("api_key", KEY)
    with pytest.raises(kind, match=message) as got:
        AsyncIonQ(base_url=str(srv.make_url("/v0.4")), **kw)  # type: ignore[arg-type]
    assert "sk-abc" not in str(got.value)
    assert seen == []
