"""Text a server sends is shown as text: never read as rich markup, its terminal controls gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _cli import cli_env, run_cli
from aiohttp import web
from aiohttp.test_utils import TestServer

KEY = "sk-UNTRUSTED-TEXT-77"
JOB = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
ESC = "\x1b"
NAME = "[link=http://evil.example]click[/link]\x1b[2J"
FAILURE = {"code": "New\x1b[31mCode", "message": "\x1b]0;pwned\x07 [bold red]boom[/]"}


def _job() -> dict[str, object]:
    return {
        "id": JOB,
        "status": "failed",
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "name": NAME,
        "metadata": {"k": "[red]v[/red]"},
        "failure": FAILURE,
        "submitted_at": "2025-05-28T20:47:05.440Z",
    }


@pytest.fixture
async def hostile() -> AsyncIterator[TestServer]:
    async def get_job(_: web.Request) -> web.Response:
        return web.json_response(_job())

    async def list_jobs(_: web.Request) -> web.Response:
        return web.json_response({"jobs": [_job()], "next": None})

    async def whoami(_: web.Request) -> web.Response:
        return web.json_response({"key_id": "k\x1b[2J", "key_name": "[red]me\x1b]0;t\x07"})

    async def gone(_: web.Request) -> web.Response:
        body = {"statusCode": 404, "error": "Not Found", "message": "no \x1b[2Jjob [b]x[/b]"}
        return web.json_response(body, status=404)

    app = web.Application()
    app.router.add_get(f"/v0.4/jobs/{JOB}", get_job)
    app.router.add_get("/v0.4/jobs", list_jobs)
    app.router.add_get("/v0.4/whoami", whoami)
    app.router.add_get("/v0.4/jobs/{id}", gone)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("get", JOB), ["[link=http://evil.example]click[/link][2J", "[red]v[/red]", "[bold red]"]),
        (("list",), ["[link=http://evil.example]click[/link][2J"]),
        (("wait", JOB), ["New[31mCode: ]0;pwned [bold red]boom[/]"]),
        (("whoami",), ["[red]me]0;t", "k[2J"]),
    ],
)
async def test_server_text_is_printed_as_text(
    hostile: TestServer, args: tuple[str, ...], shown: list[str]
) -> None:
    env = cli_env(IONQ_API_KEY=KEY, IONQ_BASE_URL=str(hostile.make_url("/v0.4")))
    result = await run_cli(*args, env=env)
    assert ESC not in result.out and "\x07" not in result.out, repr(result.out)
    for text in shown:
        assert text in result.out, (text, result.out)


async def test_a_server_error_message_is_printed_without_its_controls(
    hostile: TestServer,
) -> None:
    env = cli_env(IONQ_API_KEY=KEY, IONQ_BASE_URL=str(hostile.make_url("/v0.4")))
    result = await run_cli("get", "0198097d-3888-72ad-8c3c-1f1d0c9e8a78", env=env)
    assert result.code == 1
    assert ESC not in result.err and "no [2Jjob [b]x[/b]" in result.err, repr(result.err)


@pytest.mark.parametrize("columns", ["80", "120", "200"])
async def test_a_long_job_name_never_hides_the_other_columns(columns: str) -> None:
    """A 300-character name took the whole width: status, shots and submitted vanished."""
    job = {**_job(), "status": "completed", "name": "n" * 300, "shots": 1_000_000}

    async def list_jobs(_: web.Request) -> web.Response:
        return web.json_response({"jobs": [job], "next": None})

    app = web.Application()
    app.router.add_get("/v0.4/jobs", list_jobs)
    async with TestServer(app, host="127.0.0.1") as srv:
        env = cli_env(IONQ_API_KEY=KEY, IONQ_BASE_URL=str(srv.make_url("/v0.4")), COLUMNS=columns)
        result = await run_cli("list", env=env)
    assert result.code == 0, result.err
    for text in ("status", "completed", "shots", "1,000,000", "submitted", "05-28 20:47", JOB):
        assert text in result.out, (text, result.out)
    assert all(len(line) <= int(columns) for line in result.out.splitlines())
