"""Helpers for the CLI tests: run ``python -m ionq_async.cli`` as a subprocess, asynchronously.

The emulator runs in the test's own event loop, so the subprocess must be awaited with
asyncio (a blocking ``subprocess.run`` would stall the server it talks to).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping

import attrs

from ionq_async.testing import FakeIonQ

CLI = (sys.executable, "-m", "ionq_async.cli")
TIMEOUT = 60.0


@attrs.frozen
class Result:
    """A finished CLI run."""

    code: int
    out: str
    err: str


def cli_env(fake: FakeIonQ | None = None, **extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: the emulator's key and URL, a wide terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("IONQ_API_KEY", "IONQ_BASE_URL")}
    env.update({"COLUMNS": "160", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"})
    if fake is not None:
        env.update({"IONQ_API_KEY": fake.api_key, "IONQ_BASE_URL": fake.base_url})
    env.update(extra)
    return env


async def start_cli(
    *args: str, env: Mapping[str, str], stdin: bool = False
) -> asyncio.subprocess.Process:
    """Start the CLI with piped stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
    )


async def finish(
    proc: asyncio.subprocess.Process, *, stdin: str | None = None, timeout: float = TIMEOUT
) -> Result:
    """Wait for ``proc`` (killing it past ``timeout``) and collect its output."""
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(
            f"CLI still running after {timeout} s; stderr: {err.decode()}"
        ) from None
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def run_cli(
    *args: str,
    fake: FakeIonQ | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = TIMEOUT,
) -> Result:
    """Run the CLI to the end against ``fake`` (or with ``env``)."""
    proc = await start_cli(*args, env=env or cli_env(fake), stdin=stdin is not None)
    return await finish(proc, stdin=stdin, timeout=timeout)


def one_error_line(result: Result) -> str:
    """Assert stderr is exactly one ``ionq-async: error:`` line without a traceback."""
    lines = result.err.strip().splitlines()
    assert "Traceback" not in result.err, result.err
    assert len(lines) == 1, result.err
    assert lines[0].startswith("ionq-async: error: "), result.err
    return lines[0]
