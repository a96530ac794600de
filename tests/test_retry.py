"""Retries against the emulator's faults: what is retried, how long it waits, and what is not."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import time
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import ionq_async
import ionq_async.errors
from ionq_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncIonQ,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
    ServerError,
    SubmissionUnknownError,
)
from ionq_async._core.retry import DEFAULT_RETRY_STATUSES
from ionq_async.testing import FakeIonQ, Fault, FaultPlan

RETRIED = sorted(DEFAULT_RETRY_STATUSES)
UNKNOWN_ID = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


class Sleeps:
    """An injected sleep that records the waits and never really waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(30.0, 30.0, 30.0)) as server:
        yield server


def policy(sleeps: Sleeps, **kw: Any) -> RetryPolicy:
    """A retrying policy without jitter whose sleeps are recorded."""
    return RetryPolicy(sleep=sleeps, jitter=0.0, **kw)


@pytest.fixture
async def client(fake: FakeIonQ, sleeps: Sleeps) -> AsyncIterator[AsyncIonQ]:
    # rate_limit=None: the shared limiter would pause on Retry-After with a real sleep.
    async with fake.client(retry=policy(sleeps), rate_limit=None) as c:
        yield c


def statuses(fake: FakeIonQ) -> list[int | None]:
    return [r.status for r in fake.requests]


# --- Done-when 1: retried statuses, non-retried statuses, Retry-After, deadline ----------------


@pytest.mark.parametrize("status", RETRIED)
@pytest.mark.parametrize("call", ["get", "cancel", "delete"])
async def test_retried_status_then_success(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps, status: int, call: str
) -> None:
    job = fake.add_job()
    route = {"get": "get_job", "cancel": "cancel", "delete": "delete_job"}[call]
    fake.faults.add(route, Fault.http(status), times=2)
    if call == "get":
        assert (await client.jobs.get(job.id)).id == job.id
    elif call == "cancel":
        await client.jobs.cancel(job.id)
        assert fake.status(job.id) == "canceled"
    else:
        await client.jobs.delete(job.id)
        assert job.id not in fake.jobs
    assert statuses(fake) == [status, status, 200]
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.reset(), Fault.truncated(), Fault.html(502), Fault.html(520)],
    ids=["reset", "truncated", "html502", "html520"],
)
async def test_transient_failures_on_get_are_retried(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps, fault: Fault
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", fault)
    assert (await client.jobs.get(job.id)).id == job.id
    assert len(fake.requests) == 2 and fake.requests[0].fault == fault.kind
    assert len(sleeps.waits) == 1


async def test_hang_times_out_and_is_retried(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.hang())
    async with fake.client(retry=policy(sleeps), rate_limit=None, request_timeout=0.2) as c:
        assert (await c.jobs.get(job.id)).id == job.id
    # The emulator logs a hung request only when it lets go of it (at shutdown).
    assert statuses(fake) == [200] and len(sleeps.waits) == 1


async def test_hang_exhausts_attempts_with_timeout_error(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.hang(), times=2)
    retry = policy(sleeps, max_attempts=2)
    async with fake.client(retry=retry, rate_limit=None, request_timeout=0.2) as c:
        with pytest.raises(APITimeoutError):
            await c.jobs.get(job.id)
    assert len(sleeps.waits) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
    ],
)
@pytest.mark.parametrize("call", ["get", "cancel", "delete"])
async def test_client_errors_raised_at_once(
    fake: FakeIonQ,
    client: AsyncIonQ,
    sleeps: Sleeps,
    status: int,
    cls: type[Exception],
    call: str,
) -> None:
    job = fake.add_job()
    route = {"get": "get_job", "cancel": "cancel", "delete": "delete_job"}[call]
    fake.faults.add(route, Fault.http(status))
    with pytest.raises(cls) as err:
        await getattr(client.jobs, call)(job.id)
    assert type(err.value) is cls
    assert statuses(fake) == [status] and sleeps.waits == []


async def test_real_404_raised_at_once(client: AsyncIonQ, fake: FakeIonQ, sleeps: Sleeps) -> None:
    with pytest.raises(NotFoundError):
        await client.jobs.get(UNKNOWN_ID)
    assert statuses(fake) == [404] and sleeps.waits == []


async def test_bad_key_raised_at_once(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    retry = policy(sleeps)
    async with AsyncIonQ("wrong", base_url=fake.base_url, retry=retry, rate_limit=None) as c:
        with pytest.raises(AuthenticationError):
            await c.jobs.get(job.id)
    assert statuses(fake) == [401]


async def test_retry_after_seconds_honoured(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps
) -> None:
    job = fake.add_job()
    fake.faults.sequence("get_job", [Fault.rate_limited(7), Fault.rate_limited(2)])
    await client.jobs.get(job.id)
    assert sleeps.waits == [7.0, 2.0]
    assert statuses(fake) == [429, 429, 200]


async def test_retry_after_http_date_honoured(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(ionq_async.errors, "time", types.SimpleNamespace(time=lambda: now))
    job = fake.add_job()
    fake.faults.add("get_job", Fault.rate_limited(email.utils.formatdate(now + 42, usegmt=True)))
    await client.jobs.get(job.id)
    assert sleeps.waits == [42.0]


async def test_retry_after_above_max_wait_is_honoured(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.rate_limited(30))
    async with fake.client(retry=policy(sleeps, max_wait=2.0), rate_limit=None) as c:
        await c.jobs.get(job.id)
    assert sleeps.waits == [30.0]


async def test_retry_after_above_max_retry_after_raises_at_once(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.rate_limited(61))
    with pytest.raises(RateLimitError) as err:
        await client.jobs.get(job.id)
    assert err.value.retry_after == 61.0
    assert statuses(fake) == [429] and sleeps.waits == []


async def test_backoff_is_exponential_and_capped(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503), times=5)
    retry = policy(sleeps, max_attempts=6, initial_wait=0.5, multiplier=2.0, max_wait=3.0)
    async with fake.client(retry=retry, rate_limit=None) as c:
        await c.jobs.get(job.id)
    assert sleeps.waits == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_jitter_stays_within_bounds(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503), times=3)
    retry = RetryPolicy(sleep=sleeps, initial_wait=0.5, jitter=0.25, max_wait=10.0)
    async with fake.client(retry=retry, rate_limit=None) as c:
        await c.jobs.get(job.id)
    for wait, base in zip(sleeps.waits, [0.5, 1.0, 2.0], strict=True):
        assert base <= wait <= base + 0.25


async def test_deadline_ends_retrying_in_time(fake: FakeIonQ) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503), times=1000)
    retry = RetryPolicy(
        max_attempts=1000, deadline=0.3, initial_wait=0.05, multiplier=1.0, jitter=0.0
    )
    async with fake.client(retry=retry, rate_limit=None) as c:
        started = time.monotonic()
        with pytest.raises(ServerError) as err:
            await c.jobs.get(job.id)
        elapsed = time.monotonic() - started
    assert type(err.value) is ServerError and err.value.status_code == 503
    assert 0.2 <= elapsed < 0.6
    assert 3 <= len(fake.requests) <= 8


async def test_deadline_stops_before_a_long_retry_after(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.rate_limited(5))
    async with fake.client(retry=policy(sleeps, deadline=2.0), rate_limit=None) as c:
        with pytest.raises(RateLimitError):
            await c.jobs.get(job.id)
    assert sleeps.waits == [] and statuses(fake) == [429]


@pytest.mark.parametrize("status", [503, 429])
async def test_exhausted_attempts_raise_the_last_error_itself(
    fake: FakeIonQ, sleeps: Sleeps, status: int
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(status, retry_after=1), times=10)
    async with fake.client(retry=policy(sleeps, max_attempts=3), rate_limit=None) as c:
        with pytest.raises(ServerError if status == 503 else RateLimitError) as err:
            await c.jobs.get(job.id)
    assert err.value.request_id == fake.requests[-1].request_id
    assert len(fake.requests) == 3 and len(sleeps.waits) == 2


async def test_per_call_retry_overrides_the_client_policy(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503))
    with pytest.raises(ServerError):
        await client.jobs.get(job.id, retry=RetryPolicy.none())
    assert statuses(fake) == [503] and sleeps.waits == []

    other = Sleeps()
    fake.faults.add("get_job", Fault.http(502))
    async with fake.client(retry=RetryPolicy.none(), rate_limit=None) as strict:
        await strict.jobs.get(job.id, retry=RetryPolicy(sleep=other, jitter=0.0))
    assert statuses(fake) == [503, 502, 200] and other.waits == [0.5]


@pytest.mark.parametrize("fault", [Fault.http(503), Fault.rate_limited(1), Fault.reset()])
async def test_policy_none_never_retries(fake: FakeIonQ, fault: Fault) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", fault)
    async with fake.client(retry=RetryPolicy.none(), rate_limit=None) as c:
        with pytest.raises((ServerError, RateLimitError, APIConnectionError)):
            await c.jobs.get(job.id)
    assert len(fake.requests) == 1


async def test_on_retry_events_and_log_lines(
    fake: FakeIonQ, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    job = fake.add_job()
    fake.faults.sequence("get_job", [Fault.http(503), Fault.rate_limited(3)])
    events: list[RetryEvent] = []
    retry = policy(sleeps, on_retry=events.append)
    caplog.set_level(logging.INFO, logger="ionq_async")
    async with fake.client(retry=retry, rate_limit=None) as c:
        await c.jobs.get(job.id)
    first, second = fake.requests[0], fake.requests[1]
    path = f"/jobs/{job.id}"
    assert [(e.method, e.path, e.attempt, e.wait, e.status, e.request_id) for e in events] == [
        ("GET", path, 1, 0.5, 503, first.request_id),
        ("GET", path, 2, 3.0, 429, second.request_id),
    ]
    assert isinstance(events[0].error, ServerError)
    lines = [r.getMessage() for r in caplog.records if r.name == "ionq_async"]
    assert len(lines) == 2
    for line, rid, status, wait in zip(
        lines, [first.request_id, second.request_id], [503, 429], ["0.50", "3.00"], strict=True
    ):
        assert "GET" in line and path in line and rid in line
        assert f"status={status}" in line and wait in line
    assert "attempt 1" in lines[0] and "attempt 2" in lines[1]
    assert fake.api_key not in caplog.text


async def test_a_failing_on_retry_callback_does_not_stop_retrying(
    fake: FakeIonQ, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(event: RetryEvent) -> None:
        raise RuntimeError("callback bug")

    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503))
    async with fake.client(retry=policy(sleeps, on_retry=boom), rate_limit=None) as c:
        await c.jobs.get(job.id)
    assert statuses(fake) == [503, 200] and "on_retry callback failed" in caplog.text


# --- Done-when 2: POST never duplicates a job ------------------------------------------------


@pytest.mark.parametrize("status", [None, 503], ids=["reset-after-commit", "503-after-commit"])
async def test_commit_then_fail_on_clone_raises_submission_unknown(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps, status: int | None
) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail(status))
    with pytest.raises(SubmissionUnknownError) as err:
        await client.jobs.clone(src.id, name="retry-me", shots=10)
    assert isinstance(err.value, APIConnectionError) and err.value.request_sent
    assert err.value.request["name"] == "retry-me" and err.value.request["shots"] == 10
    assert err.value.method == "POST" and err.value.url.endswith(f"/jobs/{src.id}/clone")
    assert len(fake.clones_of(src.id)) == 1
    assert len(fake.requests) == 1 and sleeps.waits == []


@pytest.mark.parametrize(
    "fault",
    [Fault.reset(), Fault.http(500), Fault.http(502), Fault.html(502), Fault.truncated()],
    ids=["reset", "500", "502", "html", "truncated"],
)
async def test_ambiguous_clone_failures_are_never_retried(
    fake: FakeIonQ, client: AsyncIonQ, fault: Fault
) -> None:
    src = fake.add_job()
    fake.faults.add("clone", fault)
    with pytest.raises(SubmissionUnknownError):
        await client.jobs.clone(src.id)
    assert len(fake.requests) == 1
    # A reset or 5xx before the handler leaves no job; a truncated answer left exactly one.
    assert len(fake.clones_of(src.id)) == (1 if fault.kind == "truncated" else 0)


async def test_rate_limited_clone_is_retried_once_and_creates_one_job(
    fake: FakeIonQ, client: AsyncIonQ, sleeps: Sleeps
) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.rate_limited(2))
    created = await client.jobs.clone(src.id)
    assert [j.id for j in fake.clones_of(src.id)] == [created.id]
    assert statuses(fake) == [429, 201] and sleeps.waits == [2.0]


async def test_client_errors_on_clone_are_not_retried(fake: FakeIonQ, client: AsyncIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.http(409))
    with pytest.raises(ConflictError):
        await client.jobs.clone(src.id)
    assert len(fake.requests) == 1 and fake.clones_of(src.id) == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_refused_post_is_retried(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v0.4"
    retry = RetryPolicy(max_attempts=2, sleep=sleeps, jitter=0.0)
    async with AsyncIonQ("key", base_url=url, retry=retry, rate_limit=None) as c:
        with pytest.raises(APIConnectionError) as err:
            await c.jobs.clone(UNKNOWN_ID)
    assert type(err.value) is APIConnectionError and not err.value.request_sent
    assert sleeps.waits == [0.5]


# --- budget -----------------------------------------------------------------------------------


def test_budget_spend_refill_and_costs() -> None:
    budget = RetryBudget(12, retry_cost=5, timeout_cost=10, refill=1)
    server = ServerError("down", status_code=503)
    assert budget.try_spend(server) and budget.try_spend(server)
    assert budget.available == 2 and not budget.try_spend(server) and budget.available == 2
    assert budget.try_spend(RateLimitError("slow", retry_after=1.0)) and budget.available == 2
    for _ in range(20):
        budget.on_success()
    assert budget.available == 12
    assert budget.try_spend(APITimeoutError("slow")) and budget.available == 2
    with pytest.raises(ValueError):
        RetryBudget(-1)


async def test_only_retries_that_happen_spend_budget(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503), times=10)
    budget = RetryBudget(100, retry_cost=5, refill=1)
    retry = policy(sleeps, max_attempts=3)
    async with fake.client(retry=retry, rate_limit=None, retry_budget=budget) as c:
        with pytest.raises(ServerError):
            await c.jobs.get(job.id)
    assert budget.available == 90  # two retries; the final failure costs nothing


async def test_empty_budget_raises_at_once_and_success_refills(
    fake: FakeIonQ, sleeps: Sleeps
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.http(503), times=3)
    budget = RetryBudget(5, retry_cost=5, refill=1)
    async with fake.client(retry=policy(sleeps), rate_limit=None, retry_budget=budget) as c:
        with pytest.raises(ServerError):
            await c.jobs.get(job.id)  # one retry empties the bucket
        assert statuses(fake) == [503, 503] and budget.available == 0
        with pytest.raises(ServerError):
            await c.jobs.get(job.id)
        assert len(fake.requests) == 3
        await c.jobs.get(job.id)
        assert budget.available == 1


async def test_rate_limits_do_not_spend_budget(fake: FakeIonQ, sleeps: Sleeps) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.rate_limited(1), times=3)
    budget = RetryBudget(0)
    async with fake.client(retry=policy(sleeps), rate_limit=None, retry_budget=budget) as c:
        await c.jobs.get(job.id)
    assert statuses(fake) == [429, 429, 429, 200] and budget.available == 0


# --- Done-when 4: an outage costs about one extra request per call, then recovers ------------


async def test_outage_is_not_multiplied_by_max_attempts_and_recovers() -> None:
    n = 1000
    async with FakeIonQ(durations=(30.0, 30.0, 30.0)) as fake:
        job = fake.add_job()
        retry = RetryPolicy(max_attempts=5, initial_wait=0.05, max_wait=0.2, jitter=0.05)
        async with fake.client(retry=retry) as c:
            fake.outage(5.0)
            ends = time.time() + 5.0
            results = await asyncio.gather(
                *(c.jobs.get(job.id) for _ in range(n)), return_exceptions=True
            )
            failed = [r for r in results if isinstance(r, BaseException)]
            sent = len(fake.requests)
            print(f"\noutage: {n} calls sent {sent} requests; {len(failed)} raised")
            assert all(isinstance(e, ServerError) for e in failed)
            assert len(failed) > n // 2
            assert n <= sent <= 2 * n  # not 5x: the retry budget emptied
            assert sent <= n + c.retry_budget.capacity // c.retry_budget.retry_cost + 10

            await asyncio.sleep(max(0.0, ends - time.time()) + 0.05)
            before = len(fake.requests)
            after = await asyncio.gather(*(c.jobs.get(job.id) for _ in range(200)))
            assert all(j.id == job.id for j in after)
            assert len(fake.requests) - before == 200
            assert c.retry_budget.available >= 200


# --- Done-when 5: no hand-made retry loop ------------------------------------------------------


def test_no_hand_made_retry_loop_in_the_package() -> None:
    root = Path(ionq_async.__file__).parent
    hits = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "while True" in line:
                hits.append((path.relative_to(root).as_posix(), number))
    # The emulator's k-way merge of job lists is the only `while True`: not a retry.
    assert [p for p, _ in hits if p != "testing/_store.py"] == []
    assert len(hits) <= 1
    retry_src = (root / "_core" / "retry.py").read_text()
    assert "AsyncRetrying(" in retry_src and "RetryError" not in retry_src.replace(
        "never tenacity's `RetryError`", ""
    )


# --- RetryPolicy ------------------------------------------------------------------------------


def test_policy_defaults() -> None:
    p = RetryPolicy()
    assert p.max_attempts == 5 and p.max_retry_after == 60.0 and p.deadline is None
    assert p.retry_statuses == frozenset({429, 500, 502, 503, 504, *range(520, 530)})
    assert RetryPolicy.none().max_attempts == 1
    assert RetryPolicy(retry_statuses=[503]).retry_statuses == frozenset({503})
    with pytest.raises(AttributeError):
        p.max_attempts = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kw", "exc"),
    [
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": True}, TypeError),
        ({"max_attempts": 2.0}, TypeError),
        ({"initial_wait": -1.0}, ValueError),
        ({"max_wait": float("nan")}, ValueError),
        ({"jitter": -0.1}, ValueError),
        ({"max_retry_after": -5.0}, ValueError),
        ({"multiplier": 0.5}, ValueError),
        ({"deadline": 0.0}, ValueError),
        ({"deadline": -1.0}, ValueError),
        ({"retry_statuses": [200]}, ValueError),
        ({"retry_statuses": ["503"]}, ValueError),
    ],
)
def test_policy_validation(kw: dict[str, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        RetryPolicy(**kw)


async def test_transient_2xx_body_on_get_is_retried_then_raised(
    fake: FakeIonQ, sleeps: Sleeps
) -> None:
    job = fake.add_job()
    fake.faults.add("get_job", Fault.truncated(), times=2)
    async with fake.client(retry=policy(sleeps, max_attempts=2), rate_limit=None) as c:
        with pytest.raises(ResponseValidationError):
            await c.jobs.get(job.id)
    assert len(fake.requests) == 2


async def test_retry_after_on_503_is_honoured_up_to_max_retry_after() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    plan = FaultPlan().sequence(
        "get_job", [Fault.http(503, retry_after=3), Fault.http(503, retry_after=500)]
    )
    async with FakeIonQ(faults=plan) as fake:
        src = fake.add_job()
        policy = RetryPolicy(sleep=record, max_retry_after=10.0)
        async with fake.client(rate_limit=None, retry=policy) as client:
            job = await client.jobs.get(src.id)
    assert job.id == src.id
    assert waits == [3.0, 10.0]
