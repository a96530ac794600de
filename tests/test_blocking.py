"""The blocking client IonQ: its twins, a running caller loop, threads, iterators, with blocks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import inspect
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _emu_thread import EmulatorThread, emulator_thread

import ionq_async
from ionq_async import AsyncIonQ, IonQ, IonQError, NotFoundError, PollPolicy
from ionq_async._blocking import resources as blocking_resources
from ionq_async._blocking.bridge import BlockingContext, BlockingIterator
from ionq_async._resources import listing

FAST = PollPolicy(initial=0.01, factor=1.0, max_interval=0.01, jitter=0.0)
LOOP_THREAD = "ionq-async-blocking-"


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    with emulator_thread(durations=(0.0, 0.0, 0.0)) as emu:
        yield emu


@pytest.fixture
def client(emu: EmulatorThread) -> Iterator[IonQ]:
    with IonQ(emu.fake.api_key, base_url=emu.fake.base_url) as client:
        yield client


def _loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(LOOP_THREAD)]


# -- every async method has a blocking twin with its parameters ------------------------------


def _methods(cls: type) -> dict[str, Any]:
    """The public methods of `cls` (properties and data left out)."""
    return {
        name: value
        for name in dir(cls)
        if not name.startswith("_")
        and inspect.isfunction(value := inspect.getattr_static(cls, name))
    }


def _mismatches(async_obj: object, blocking_obj: object) -> list[str]:
    """Each public async method without a blocking twin of the same parameters and docstring."""
    problems = []
    for name in _methods(type(async_obj)):
        twin = getattr(blocking_obj, name, None)
        if twin is None or not callable(twin):
            problems.append(f"{type(async_obj).__name__}.{name}: no blocking twin")
            continue
        theirs = inspect.signature(getattr(async_obj, name)).parameters
        if inspect.signature(twin).parameters != theirs:
            problems.append(f"{type(async_obj).__name__}.{name}: parameters differ")
        if twin.__doc__ != getattr(async_obj, name).__doc__:
            problems.append(f"{type(async_obj).__name__}.{name}: docstring differs")
    return problems


def _pairs(blocking: IonQ) -> list[tuple[object, object]]:
    """(async object, its blocking view): the client and each resource it has."""
    async_client = blocking._twin
    pairs: list[tuple[object, object]] = [(async_client, blocking)]
    for name, value in vars(async_client).items():
        if type(value).__module__.startswith("ionq_async._resources"):
            assert hasattr(blocking, name), f"IonQ has no resource {name!r}"
            pairs.append((value, getattr(blocking, name)))
    return pairs


def test_every_async_method_has_a_blocking_twin() -> None:
    client = IonQ("key-for-signatures", base_url="http://127.0.0.1:9")
    try:
        pairs = _pairs(client)
        assert {type(a).__name__ for a, _ in pairs} >= {
            "AsyncIonQ",
            "Jobs",
            "Sessions",
            "Backends",
            "Schemas",
        }
        problems = [p for a, b in pairs for p in _mismatches(a, b)]
        listing_twin = blocking_resources.JobListing.page
        problems += [] if "page" in _methods(blocking_resources.JobListing) else ["no page()"]
        assert listing_twin.__doc__ == listing.JobListing.page.__doc__
        assert problems == []
    finally:
        client.close()
    assert _loop_threads() == []  # never used: no thread was started


def test_the_twin_check_finds_a_missing_or_different_method() -> None:
    class Async:
        async def get(self, job_id: str, *, retry: int | None = None) -> int:
            """Read."""
            return 1

        async def gone(self) -> None:
            """Only async."""

    class Blocking:
        def get(self, job_id: str, *, retry: int = 0) -> int:
            """Read."""
            return 1

    assert _mismatches(Async(), Blocking()) == [
        "Async.get: parameters differ",
        "Async.gone: no blocking twin",
    ]


def test_constructor_and_properties_match_the_async_client() -> None:
    ours = inspect.signature(IonQ.__init__).parameters
    assert ours == inspect.signature(AsyncIonQ.__init__).parameters
    client = IonQ("secret-key-123456", base_url="http://127.0.0.1:9/v0.4/")
    assert "secret-key-123456" not in repr(client) and "***" in repr(client)
    assert client.base_url == "http://127.0.0.1:9/v0.4"
    assert client.retry is client._twin.retry
    assert client.rate_limiter is client._twin.rate_limiter
    assert client.retry_budget is client._twin.retry_budget
    client.close()
    client.close()
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        client.whoami()
    with pytest.raises(RuntimeError, match="closed"), client:
        pass


def test_no_key_fails_as_the_async_client_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IONQ_API_KEY", raising=False)
    with pytest.raises(ValueError, match="no IonQ API key"):
        IonQ()
    with pytest.raises(ValueError, match="plain http"):
        IonQ("k", base_url="http://example.com")


def test_exported_from_the_package() -> None:
    assert "IonQ" in ionq_async.__all__ and ionq_async.IonQ is IonQ


# -- in a notebook, from threads ------------------------------------------------------------


async def test_works_while_an_event_loop_runs_in_the_calling_thread(emu: EmulatorThread) -> None:
    """As in Jupyter: the caller's own loop is running; asyncio.run() would refuse."""
    source = emu.add_job(name="bell", status="completed", shots=100)
    caller_loop = asyncio.get_running_loop()
    with IonQ(emu.fake.api_key, base_url=emu.fake.base_url) as client:
        created = client.jobs.clone(source, shots=200, name="nb")
        job = client.jobs.wait(created.id, poll=FAST)
        probabilities = client.jobs.probabilities(job.id)
        listed = [j.id for j in client.jobs.list(limit=1)]
        page = client.jobs.list(limit=1).page()
        [loop_thread] = _loop_threads()
    assert (job.status, job.shots, job.name) == ("completed", 200, "nb")
    assert probabilities == {"0": 0.5, "3": 0.5}
    assert sorted(listed) == sorted([source, created.id]) and len(page.jobs) == 1
    assert loop_thread is not threading.current_thread()
    assert asyncio.get_running_loop() is caller_loop
    await asyncio.sleep(0)  # the caller's loop still runs
    assert _loop_threads() == []


def test_eight_threads_share_one_client_and_one_loop(emu: EmulatorThread, client: IonQ) -> None:
    sources = [emu.add_job(name=f"s{i}", status="completed", shots=100) for i in range(8)]
    start = threading.Barrier(8)

    def work(source: str) -> tuple[str, str, int, dict[str, float], int]:
        start.wait()
        created = client.jobs.clone(source, shots=300, idempotent=True)
        job = client.jobs.wait(created.id, poll=FAST)
        probabilities = client.jobs.probabilities(job.id)
        listed = len(list(client.jobs.list(ids=[source, job.id])))
        return job.id, str(job.status), job.shots or 0, probabilities, listed

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, sources))
    assert len({job_id for job_id, *_ in results}) == 8
    assert all(r[1:] == ("completed", 300, {"0": 0.5, "3": 0.5}, 2) for r in results)
    assert len(_loop_threads()) == 1
    clones = emu.call(lambda: [j for j in emu.fake.jobs.values() if j.cloned_from])
    assert sorted(j.cloned_from for j in clones) == sorted(sources)


def test_a_call_from_the_loop_thread_raises_instead_of_deadlocking(
    emu: EmulatorThread, client: IonQ
) -> None:
    source = emu.add_job(status="completed")
    seen: list[BaseException] = []

    def on_status(job: Any) -> None:
        try:
            client.jobs.get(job.id)  # on the client's loop thread: would wait for itself
        except RuntimeError as exc:
            seen.append(exc)

    client.jobs.wait(source, poll=FAST, on_status=on_status)
    assert len(seen) == 1 and "own event loop thread" in str(seen[0])
    assert client.jobs.get(source).id == source  # the client goes on


# -- iterators and with blocks --------------------------------------------------------------


def test_iterators_and_context_managers(emu: EmulatorThread, client: IonQ) -> None:
    ids = [emu.add_job(status="completed") for _ in range(3)]
    done = client.jobs.wait_many(ids, poll=FAST)
    assert isinstance(done, BlockingIterator)
    assert sorted(job.id for job in done) == sorted(ids)
    assert list(done) == []  # exhausted stays exhausted
    characterizations = list(client.backends.characterizations("qpu.forte-1"))
    assert characterizations and all(c.backend == "qpu.forte-1" for c in characterizations)
    opened = client.sessions.open("simulator", job_count_limit=2)
    assert isinstance(opened, BlockingContext)
    with opened as session:
        created = client.jobs.clone(ids[0], session_id=session.id)
        in_session = [job.id for job in client.sessions.jobs(session.id)]
    assert in_session == [created.id]
    assert client.sessions.get(session.id).status == "ended"


def test_a_session_block_ends_the_session_on_any_exit(emu: EmulatorThread, client: IonQ) -> None:
    with pytest.raises(ValueError, match="boom"), client.sessions.open("simulator") as first:
        raise ValueError("boom")
    with pytest.raises(KeyboardInterrupt), client.sessions.open("simulator") as second:
        raise KeyboardInterrupt
    assert client.sessions.get(first.id).status == "ended"
    assert client.sessions.get(second.id).status == "ended"  # the loop thread survived it
    assert len(_loop_threads()) == 1


def test_leaving_a_rerun_block_early_stops_cloning(emu: EmulatorThread, client: IonQ) -> None:
    sources = [emu.add_job(status="completed") for _ in range(50)]
    with client.jobs.rerun(sources, concurrency=1, wait=False) as outcomes:
        first = next(outcomes)
    assert first.status == "submitted"

    def clones() -> int:
        return emu.call(lambda: sum(1 for j in emu.fake.jobs.values() if j.cloned_from))

    at_exit = clones()
    client.whoami()  # a round trip on the loop: anything still scheduled would run by now
    # Nothing is sent after leaving; the one clone request in flight then may still land.
    assert 1 <= at_exit <= clones() <= at_exit + 1 < len(sources)
    with pytest.raises(StopIteration):
        next(outcomes)


def test_a_forgotten_client_is_closed_when_collected(emu: EmulatorThread) -> None:
    client = IonQ(emu.fake.api_key, base_url=emu.fake.base_url)
    client.whoami()
    async_client = client._twin
    assert len(_loop_threads()) == 1
    del client
    gc.collect()
    assert _loop_threads() == [] and async_client.closed


def test_closing_while_another_thread_waits_ends_that_wait(emu: EmulatorThread) -> None:
    job_id = emu.add_job(durations=(3600.0, 3600.0, 3600.0))
    client = IonQ(emu.fake.api_key, base_url=emu.fake.base_url)
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            client.jobs.wait(job_id, poll=FAST)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    while sum(method == "GET" for method, _ in emu.routes()) < 2:  # it is polling
        time.sleep(0.005)
    client.close()
    thread.join(30)
    assert not thread.is_alive()
    [error] = errors
    assert isinstance(error, IonQError) and "closed" in str(error)
    assert _loop_threads() == []


def test_errors_come_back_as_they_are(emu: EmulatorThread, client: IonQ) -> None:
    with pytest.raises(NotFoundError):
        client.jobs.get("0198097d-3888-72ad-8c3c-1f1d0c9e8a77")
    with pytest.raises(ValueError, match="UUID"):
        client.jobs.get("not-a-job-id")
    with pytest.raises(ValueError, match="limit"):
        client.jobs.list(limit=0)  # made on the loop thread, raised here
    with pytest.raises(TypeError):
        client.jobs.get()  # wrong arguments fail here, as in the async call
    assert client.whoami().key_name  # none of it hurt the client


def test_closing_an_iterator_early_stops_its_work(emu: EmulatorThread, client: IonQ) -> None:
    slow = [emu.add_job(durations=(3600.0, 3600.0, 3600.0)) for _ in range(3)]
    done = emu.add_job(status="completed")

    async def watched() -> int:
        return client._twin.jobs._poller.watched

    with client.jobs.wait_many([done, *slow], poll=FAST) as jobs:
        assert next(jobs).id == done
        assert client._loop.run(watched()) == 3
    assert client._loop.run(watched()) == 0
    jobs.close()  # twice is harmless
    assert list(jobs) == []


def test_the_constructor_takes_and_checks_the_async_clients_arguments() -> None:
    assert inspect.signature(IonQ) == inspect.signature(AsyncIonQ)
    with pytest.raises(TypeError, match=r"^IonQ\(\): got an unexpected keyword argument 'base_ur'"):
        IonQ("key", base_ur="http://127.0.0.1:9")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="request_timeout"):
        IonQ("key", base_url="http://127.0.0.1:9", request_timeout=0)
    with pytest.raises(TypeError, match=r"^IonQ\(\): too many positional arguments"):
        IonQ("key", "http://127.0.0.1:9")  # type: ignore[misc]
    client = IonQ("key", base_url="http://127.0.0.1:9/v0.4/", listing_lag=0.0)
    assert client.base_url == "http://127.0.0.1:9/v0.4" and client.jobs._twin._listing_lag == 0.0
    client.close()
    assert _loop_threads() == []
