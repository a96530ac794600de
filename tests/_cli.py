"""Helpers for the CLI tests: run ``python -m ionq_async.cli`` as a subprocess, asynchronously.

The emulator runs in the test's own event loop, so the subprocess must be awaited with
asyncio (a blocking ``subprocess.run`` would stall the server it talks to).

Every run is checked for the key (issue 13): ``finish`` fails the test if the API key the
CLI was given, by ``--api-key`` or ``IONQ_API_KEY``, appears in its stdout or stderr.
"""

from __future__ import annotations

import asyncio
import os
import sys
import weakref
from collections.abc import Iterable, Mapping, Sequence

import attrs

from ionq_async.testing import FakeIonQ

CLI = (sys.executable, "-m", "ionq_async.cli")
TIMEOUT = 60.0
# A key short enough to occur in ordinary output would make the check meaningless.
MIN_KEY = 8

_KEYS: weakref.WeakKeyDictionary[asyncio.subprocess.Process, tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


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


def keys_of(args: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """The API keys a CLI run is given: ``--api-key K``, ``--api-key=K`` and IONQ_API_KEY.

    The ``emulator`` command's own ``--api-key`` is the fake key it serves and prints.
    """
    if "emulator" in args:
        return ()
    keys = [env.get("IONQ_API_KEY", "")]
    for i, word in enumerate(args):
        if word.startswith("--api-key="):
            keys.append(word.partition("=")[2])
        elif word == "--api-key" and i + 1 < len(args):
            keys.append(args[i + 1])
    return tuple(k for k in keys if k)


def watch_keys(proc: asyncio.subprocess.Process, keys: Iterable[str]) -> None:
    """Have ``finish`` check that none of ``keys`` appears in ``proc``'s output."""
    keys = tuple(keys)
    for key in keys:
        assert len(key) >= MIN_KEY, f"use a distinctive test key (>= {MIN_KEY} chars): {key!r}"
    _KEYS[proc] = keys


async def start_cli(
    *args: str, env: Mapping[str, str], stdin: bool = False
) -> asyncio.subprocess.Process:
    """Start the CLI with piped stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
    )
    watch_keys(proc, keys_of(args, env))
    return proc


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
    result = Result(proc.returncode, out.decode(), err.decode())
    for key in _KEYS.get(proc, ()):
        assert key not in result.out, f"the API key is in the CLI's stdout:\n{result.out}"
        assert key not in result.err, f"the API key is in the CLI's stderr:\n{result.err}"
    return result


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
