"""Logging: a DEBUG record per request, INFO per retry and pause, WARNING to act on, IONQ_LOG."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ionq_async import (
    AsyncIonQ,
    IonQError,
    Journal,
    PollPolicy,
    RetryBudget,
    RetryPolicy,
)
from ionq_async._batch.journal import End, Then
from ionq_async._batch.spend import SpendGuard
from ionq_async._core import logs
from ionq_async._core.ratelimit import RateLimiter
from ionq_async.testing import FakeIonQ, Fault, FaultPlan

FAST = PollPolicy(initial=0.01, factor=1.0, max_interval=0.01, jitter=0.0)
HTTP = "ionq_async.http"


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def _policy(max_attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts, sleep=_no_sleep)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        yield fake


def _http_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == HTTP]


def _fields(record: logging.LogRecord) -> tuple[object, ...]:
    """(method, path, status, attempt, request id) of an `ionq_async.http` record."""
    names = ("http_method", "path", "status", "attempt", "request_id")
    return tuple(getattr(record, name) for name in names)


# -- DEBUG: one record per request ----------------------------------------------------------


async def test_each_request_is_a_debug_record_with_its_fields(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    job = fake.add_job(status="completed")
    fake.faults.add("get_job", Fault.http(503))
    caplog.set_level(logging.DEBUG, logger="ionq_async")
    async with fake.client(retry=_policy(), rate_limit=None) as client:
        await client.jobs.get(job.id)
        await client.whoami()
    first, second, third = _http_records(caplog)
    path = f"/jobs/{job.id}"
    ids = [sent.request_id for sent in fake.requests]
    assert [_fields(r) for r in (first, second, third)] == [
        ("GET", path, 503, 1, ids[0]),
        ("GET", path, 200, 2, ids[1]),
        ("GET", "/whoami", 200, 1, ids[2]),  # the attempt number does not leak to the next one
    ]
    for record in (first, second, third):
        assert record.levelno == logging.DEBUG
        assert vars(record)["elapsed_ms"] >= 0
        assert _fields(record)[4] in record.getMessage()
    assert first.getMessage().startswith(f"GET {path} -> 503 (attempt 1, ")
    assert second.getMessage().startswith(f"GET {path} -> 200 (attempt 2, ")


async def test_a_request_without_an_answer_is_logged_too(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    job = fake.add_job(status="completed")
    fake.faults.add("get_job", Fault.reset())
    caplog.set_level(logging.DEBUG, logger="ionq_async")
    async with fake.client(retry=_policy(), rate_limit=None) as client:
        await client.jobs.get(job.id)
    lost, ok = _http_records(caplog)
    assert _fields(lost) == ("GET", f"/jobs/{job.id}", None, 1, None)
    assert "-> APIConnectionError (attempt 1, " in lost.getMessage()
    assert _fields(ok)[2:4] == (200, 2)


async def test_no_request_record_is_made_above_debug(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    job = fake.add_job(status="completed")
    caplog.set_level(logging.INFO, logger="ionq_async")
    assert not logs.requests_logged()
    async with fake.client() as client:
        await client.jobs.get(job.id)
    assert caplog.records == []
    caplog.set_level(logging.DEBUG, logger="ionq_async")
    assert logs.requests_logged()


# -- INFO: retries and Retry-After pauses ---------------------------------------------------


async def test_a_retry_is_an_info_record(fake: FakeIonQ, caplog: pytest.LogCaptureFixture) -> None:
    job = fake.add_job(status="completed")
    fake.faults.add("get_job", Fault.http(502))
    caplog.set_level(logging.INFO, logger="ionq_async")
    async with fake.client(retry=_policy(), rate_limit=None) as client:
        await client.jobs.get(job.id)
    [record] = caplog.records
    assert (record.name, record.levelno) == ("ionq_async", logging.INFO)
    assert record.getMessage().startswith(f"retrying GET /jobs/{job.id} after attempt 1 in ")


def test_a_retry_after_pause_is_an_info_record(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limiter = RateLimiter("adaptive", clock=lambda: now[0], sleep=_no_sleep)
    caplog.set_level(logging.INFO, logger="ionq_async")
    limiter.on_rate_limited(2.5)
    limiter.on_rate_limited(1.0)  # inside the pause already set: no new pause
    limiter.on_rate_limited(None)  # a 429 without Retry-After: slows down, no pause
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == "rate limited: pausing every request for 2.50 s (Retry-After)"
    RateLimiter(None).on_rate_limited(5.0)  # the limiter off: no pause, no record
    assert len(caplog.records) == 1


# -- WARNING: what a user must act on -------------------------------------------------------


def test_a_cost_above_its_estimate_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    guard = SpendGuard({"a": 1.0, "b": 1.0, "c": 1.0}, max_cost=10.0, unit="usd")
    caplog.set_level(logging.INFO, logger="ionq_async")
    assert guard.admit("a") is None and guard.admit("b") is None and guard.admit("c") is None
    guard.settle("a", 1.0)  # as estimated: no record
    guard.settle("b", 1.75)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "IonQ billed the clone of b at 1.75x its estimate: later clones are priced at 1.75x"
    )
    guard.settle("c", 1.5)  # above its estimate, below the drift already learnt: no new record
    assert len(caplog.records) == 1


async def test_a_failed_journal_write_is_a_warning(
    fake: FakeIonQ,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = fake.add_job(status="completed").id

    def broken(self: Journal, end: End, then: Then) -> None:
        asyncio.get_running_loop().call_soon(then, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(Journal, "ended", broken)  # every end's write
    caplog.set_level(logging.INFO, logger="ionq_async")
    async with fake.client() as client:
        report = await client.jobs.rerun_all(
            [source], journal=str(tmp_path / "j.sqlite"), poll=FAST
        )
    assert report.counts["completed"] == 1
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING and record.exc_info is not None
    assert record.getMessage() == f"could not journal the end of {source}: disk I/O error"


# -- the key never appears ------------------------------------------------------------------


async def test_the_key_is_in_no_record_of_a_run_with_faults(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    faults = FaultPlan.random(0.3, seed=7).sequence("create_session", [None])
    faults.add("end_session", Fault.http(500), times=20)  # past every retry of the end
    key = "sk-live-" + "7f3a9c" * 6
    errors: list[str] = []
    caplog.set_level(logging.DEBUG, logger="ionq_async")
    async with FakeIonQ(faults=faults, durations=(0.0, 0.0, 0.0), api_key=key) as fake:
        sources = [fake.add_job(status="completed").id for _ in range(6)]
        retry = _policy(max_attempts=8)
        budget = RetryBudget(capacity=10_000)
        async with fake.client(retry=retry, rate_limit=None, retry_budget=budget) as client:
            steps = [
                client.jobs.get(sources[0]),
                client.jobs.clone(sources[0], shots=10, idempotent=True),
                client.jobs.rerun_all(sources, journal=str(tmp_path / "j.sqlite"), poll=FAST),
                client.jobs.probabilities(sources[1]),
                client.jobs.cost(sources[1]),
                client.sessions.list(),
                client.whoami(),
                client.backends.list(),
                client.jobs.cancel(sources[2]),
            ]
            for step in steps:
                try:
                    await step
                except IonQError as exc:
                    errors.append(f"{exc!s} {exc!r}")
            with pytest.raises((LookupError, IonQError)):
                async with client.sessions.open("simulator") as session:
                    await client.jobs.clone(sources[3], session_id=session.id)
                    raise LookupError("leaving the block on an error")
        async with AsyncIonQ("wrong-key-" + key, base_url=fake.base_url) as stranger:
            with pytest.raises(IonQError) as info:
                await stranger.jobs.get(sources[0])
            errors.append(f"{info.value!s} {info.value!r}")
    records = caplog.records
    assert sum(r.name == HTTP for r in records) >= 40
    assert any(r.levelno == logging.INFO and "retrying" in r.getMessage() for r in records)
    assert any(r.levelno == logging.WARNING and "could not end" in r.getMessage() for r in records)
    formatter = logging.Formatter("%(message)s")
    for record in records:
        text = formatter.format(record) + repr(record.args) + repr(vars(record))
        assert key not in text, record
    assert all(key not in error for error in errors)


# -- IONQ_LOG -------------------------------------------------------------------------------


async def _run(program: str, log: str | None, *args: str) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != logs.ENV_VAR}
    if log is not None:
        env[logs.ENV_VAR] = log
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        program,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode(), err.decode()


GET_PROGRAM = """
import asyncio, logging, sys
import ionq_async
from ionq_async import AsyncIonQ, RetryPolicy
from ionq_async._core import logs

logs.configure_from_env()  # a second call adds no second handler
print(len(logging.getLogger("ionq_async").handlers))

async def main(key, url, job_id):
    retry = RetryPolicy(initial_wait=0.001, max_wait=0.001, jitter=0)
    async with AsyncIonQ(key, base_url=url, retry=retry) as client:
        await client.jobs.get(job_id)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("level", ["debug", "DEBUG", "info"])
async def test_ionq_log_logs_to_stderr(level: str) -> None:
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        job = fake.add_job(status="completed")
        fake.faults.add("get_job", Fault.http(503))
        out, err = await _run(GET_PROGRAM, level, fake.api_key, fake.base_url, job.id)
    assert out.split() == ["1"]
    lines = err.splitlines()
    retry = [line for line in lines if " INFO ionq_async: retrying GET /jobs/" in line]
    debug = [line for line in lines if " DEBUG ionq_async.http: GET /jobs/" in line]
    assert len(retry) == 1
    if level.lower() == "debug":
        assert len(debug) == 2 and "-> 503 (attempt 1," in debug[0]
        assert "-> 200 (attempt 2," in debug[1]
    else:
        assert debug == [] and " DEBUG " not in err
    assert fake.api_key not in err


@pytest.mark.parametrize("value", [None, "", "verbose", "warning"])
async def test_without_ionq_log_nothing_is_installed(value: str | None) -> None:
    async with FakeIonQ(durations=(0.0, 0.0, 0.0)) as fake:
        job = fake.add_job(status="completed")
        fake.faults.add("get_job", Fault.http(503))
        out, err = await _run(GET_PROGRAM, value, fake.api_key, fake.base_url, job.id)
    assert out.split() == ["0"] and err == ""
