"""Leaving a `rerun()` stream stops its batch; a journal closed mid-run ends it; intents first.

Over real HTTP on the emulator: the batch is left by `break`, an exception, cancellation,
`aclose()` or a dropped stream, and each time no clone is sent after it returns, every
clone made is journaled, and the clones keep running unless `cancel_on_exit=True`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ionq_async import (
    IonQError,
    Journal,
    JournalClosedError,
    PollPolicy,
    RerunOptions,
    RerunProgress,
    RerunStream,
)
from ionq_async._engine.idempotency import TOKEN_KEY
from ionq_async.testing import FakeIonQ, Job

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.1)
QUICK = (0.02, 0.02, 0.05)
SLOW = (5.0, 5.0, 5.0)
LEFT_AT_FIRST_OUTCOME = 2 * 5 + 2
"""Clones made by 5 workers when the first outcome is read: the POSTs in flight when it was
emitted, at most one more each before the consumer ran, and a little slack; of 50 sources."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=QUICK) as server:
        yield server


def _clone_posts(fake: FakeIonQ) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/clone"))


def _clones(fake: FakeIonQ, ids: list[str]) -> dict[str, str]:
    """Every clone the emulator made, by source id (failing if a source was cloned twice)."""
    made = {}
    for source_id in ids:
        clones = fake.clones_of(source_id)
        assert len(clones) <= 1, f"{source_id} cloned {len(clones)} times"
        if clones:
            made[source_id] = clones[0].id
    return made


def _journaled(path: Path) -> dict[str, str | None]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT source_id, job_id FROM rerun").fetchall())


def _batch_tasks() -> list[asyncio.Task[object]]:
    """Tasks still running batch code (workers, drivers, a stream's close)."""
    names = ("Rerun.", "RerunStream.")
    return [
        t
        for t in asyncio.all_tasks()
        if any(n in getattr(t.get_coro(), "__qualname__", "") for n in names)
    ]


async def _assert_stopped(fake: FakeIonQ, ids: list[str], path: Path) -> dict[str, str]:
    """No batch task left, no clone sent any more, and every clone made journaled."""
    assert not _batch_tasks()
    posts = _clone_posts(fake)
    await asyncio.sleep(0.2)
    assert _clone_posts(fake) == posts, "a clone was sent after the batch was left"
    made = _clones(fake, ids)
    journal = _journaled(path)
    for source_id, job_id in made.items():
        assert journal.get(source_id) == job_id, f"the clone of {source_id} is not journaled"
    return made


async def test_break_after_the_first_outcome_stops_submitting(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(50)]
    path = tmp_path / "j.sqlite"
    fake.durations = SLOW
    async with fake.client(rate_limit=None) as client:
        async with client.jobs.rerun(
            ids, journal=path, concurrency=5, wait=False, poll=POLL
        ) as outcomes:
            async for outcome in outcomes:
                first = outcome
                break
        made = await _assert_stopped(fake, ids, path)
        assert first.status == "submitted"
        assert 1 <= len(made) <= LEFT_AT_FIRST_OUTCOME, f"{len(made)} clones at concurrency 5"
        statuses = {(await client.jobs.get(job_id)).status for job_id in made.values()}
    assert "canceled" not in statuses, "clones already made keep running"


async def test_an_exception_in_the_block_propagates_unchanged(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(30)]
    path = tmp_path / "j.sqlite"
    boom = LookupError("the consumer's own error")
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(LookupError) as caught:
            async with client.jobs.rerun(ids, journal=path, concurrency=4, wait=False) as outcomes:
                async for _ in outcomes:
                    raise boom
        made = await _assert_stopped(fake, ids, path)
    assert caught.value is boom
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert len(made) < len(ids)


async def test_cancelling_the_consumer_stops_the_batch(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = [fake.add_job().id for _ in range(40)]
    path = tmp_path / "j.sqlite"
    fake.durations = SLOW
    cloned = asyncio.Event()

    def progress(p: RerunProgress) -> None:
        if p.cloned >= 3:
            cloned.set()

    async with fake.client(rate_limit=None) as client:

        async def consume() -> None:
            async with client.jobs.rerun(
                ids, journal=path, concurrency=4, poll=POLL, on_progress=progress
            ) as outcomes:
                async for _ in outcomes:
                    raise AssertionError("no clone ends within the test")

        task = asyncio.create_task(consume())
        await cloned.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        made = await _assert_stopped(fake, ids, path)
        assert 3 <= len(made) < len(ids)
        assert client.jobs._poller.watched == 0


async def test_cancel_on_exit_cancels_the_clones_left_running(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(12)]
    quick = ids[0]
    path = tmp_path / "j.sqlite"
    fake.durations = SLOW

    def quick_first(job: Job) -> None:
        if job.cloned_from == quick:
            job.durations = (0.0, 0.0, 0.0)

    fake.fate_for = quick_first
    async with fake.client(rate_limit=None) as client:
        async with client.jobs.rerun(
            ids, journal=path, concurrency=12, poll=POLL, cancel_on_exit=True
        ) as outcomes:
            async for outcome in outcomes:
                first = outcome
                break
        made = await _assert_stopped(fake, ids, path)
        assert (first.source_id, first.status) == (quick, "completed")
        assert len(made) >= 2
        for source_id, job_id in made.items():
            status = (await client.jobs.get(job_id)).status
            assert status == ("completed" if source_id == quick else "canceled"), source_id
    cancels = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/cancel")]
    assert len(cancels) == 1, "one bulk cancel for every clone left"


async def test_aclose_stops_the_batch(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = [fake.add_job().id for _ in range(30)]
    path = tmp_path / "j.sqlite"
    fake.durations = SLOW
    async with fake.client(rate_limit=None) as client:
        stream = client.jobs.rerun(ids, journal=path, concurrency=3, wait=False)
        assert isinstance(stream, RerunStream)
        first = await anext(stream)
        await stream.aclose()
        await stream.aclose()
        made = await _assert_stopped(fake, ids, path)
        assert first.status == "submitted" and len(made) < len(ids)
        with pytest.raises(StopAsyncIteration):
            await anext(stream)


@pytest.mark.parametrize("held", [True, False], ids=["held-then-dropped", "never-held"])
async def test_a_dropped_stream_stops_its_batch_when_collected(
    fake: FakeIonQ, tmp_path: Path, caplog: pytest.LogCaptureFixture, held: bool
) -> None:
    ids = [fake.add_job().id for _ in range(50)]
    path = tmp_path / "j.sqlite"
    fake.durations = SLOW
    caplog.set_level(logging.DEBUG, logger="asyncio")
    async with fake.client(rate_limit=None) as client:
        if held:
            stream = client.jobs.rerun(ids, journal=path, concurrency=5, wait=False)
            async for _ in stream:
                break
            del stream
        else:
            async for _ in client.jobs.rerun(ids, journal=path, concurrency=5, wait=False):
                break
        gc.collect()
    # The client's close awaited the stream's stop: its POSTs settled, its journal closed.
    made = await _assert_stopped(fake, ids, path)
    assert 1 <= len(made) <= LEFT_AT_FIRST_OUTCOME
    assert "destroyed but it is pending" not in caplog.text
    assert "never retrieved" not in caplog.text


async def test_a_finished_stream_and_an_unstarted_one_need_no_close(fake: FakeIonQ) -> None:
    ids = [fake.add_job().id for _ in range(3)]
    async with fake.client(rate_limit=None) as client:
        unstarted = client.jobs.rerun(ids)
        del unstarted
        gc.collect()
        async with client.jobs.rerun(ids, poll=POLL) as outcomes:
            got = [o.status async for o in outcomes]
        assert got == ["completed"] * 3
        assert [o.status async for o in outcomes] == []
    assert _clone_posts(fake) == 3


def test_cancel_on_exit_is_a_bool() -> None:
    assert RerunOptions().cancel_on_exit is False
    with pytest.raises(TypeError, match="cancel_on_exit"):
        RerunOptions(cancel_on_exit="yes")  # type: ignore[arg-type]


# --- the journal closed under a batch ------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 2, 8, 32])
async def test_a_journal_closed_mid_run_ends_the_batch_with_a_clear_error(
    fake: FakeIonQ, tmp_path: Path, concurrency: int
) -> None:
    ids = [fake.add_job().id for _ in range(80)]
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    closing: list[asyncio.Task[None]] = []
    seen = 0
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(JournalClosedError, match="journal is not open") as caught:
            async with asyncio.timeout(1.0):
                async with client.jobs.rerun(
                    ids, journal=journal, concurrency=concurrency, wait=False
                ) as outcomes:
                    async for _ in outcomes:
                        seen += 1
                        if seen == 2:  # closed by another task, while writes are queued
                            closing.append(asyncio.create_task(journal.close()))
        await asyncio.gather(*closing)
        assert not _batch_tasks()
    assert isinstance(caught.value, IonQError) and isinstance(caught.value, RuntimeError)
    assert "sources not accounted for" in str(caught.value)


async def test_every_queued_write_is_answered_when_the_journal_closes(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    written = 0
    busy = asyncio.Event()

    async def writer(n: int) -> None:
        nonlocal written
        for attempt in range(1, 1000):
            await journal.intent(f"source-{n}", f"token-{n}-{attempt}", attempt)
            written += 1
            if written == 100:
                busy.set()

    writers = [asyncio.create_task(writer(n)) for n in range(16)]
    await busy.wait()
    await journal.close()
    async with asyncio.timeout(5.0):
        results = await asyncio.gather(*writers, return_exceptions=True)
    assert all(isinstance(r, JournalClosedError) for r in results), results
    with pytest.raises(JournalClosedError):
        await journal.finished("source-0", "completed")
    async with Journal(journal.path) as again:
        entries = await again.load()
    assert set(entries) == {f"source-{n}" for n in range(16)}


# --- durability: an intent row is on disk before its POST ----------------------------------


async def test_the_intent_row_is_committed_before_its_post_is_received(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(40)]
    path = tmp_path / "j.sqlite"
    seen: dict[str, str | None] = {}

    def check(job: Job) -> None:
        source_id = job.cloned_from
        metadata = job.metadata or {}
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT token FROM rerun WHERE source_id = ?", (source_id,))
            found = row.fetchone()
        assert source_id is not None
        seen[source_id] = None if found is None or found[0] != metadata.get(TOKEN_KEY) else "ok"

    fake.fate_for = check
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, journal=path, concurrency=8, poll=POLL)
    assert report.counts["completed"] == 40
    assert seen == dict.fromkeys(ids, "ok"), "a POST arrived before its intent row was committed"


async def test_without_tokens_the_intent_row_is_committed_before_its_post_too(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(20)]
    path = tmp_path / "j.sqlite"
    seen: list[bool] = []

    def check(job: Job) -> None:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT count(*) FROM rerun WHERE source_id = ? AND job_id IS NULL",
                (job.cloned_from,),
            ).fetchone()
        seen.append(row[0] == 1)

    fake.fate_for = check
    async with fake.client(rate_limit=None) as client:
        await client.jobs.rerun_all(ids, journal=path, concurrency=8, idempotent=False, wait=False)
    assert seen == [True] * 20


async def test_a_commit_with_an_intent_is_fsynced(tmp_path: Path) -> None:
    """WAL with synchronous=FULL fsyncs a commit; NORMAL can lose it on a power cut.

    Intents commit in the journal's thread (FULL); clone ids and ends in the loop, on a
    second connection (NORMAL), which never checkpoints.
    """
    async with Journal(tmp_path / "j.sqlite") as journal:
        db, here = journal._require(), journal._here
        assert here is not None
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert here.execute("PRAGMA synchronous").fetchone() == (1,)
        assert here.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        levels = []
        for write in (
            journal.intent("a", "token-a", 1),
            journal.cloned("a", "job-a"),
            journal.finished("a", "completed"),
            journal.intent("b", None, 1),
        ):
            await write
            levels.append(db.execute("PRAGMA synchronous").fetchone()[0])
        entries = await journal.load()
    assert levels == [2, 2, 2, 2], "the thread's connection stays FULL for intents"
    assert entries["a"].job_id == "job-a" and entries["a"].status == "completed"
    assert entries["b"].token is None and entries["b"].status is None


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
async def test_a_cancelled_close_still_closes_and_ends_the_thread(
    tmp_path: Path, steps: int
) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    thread = journal._worker._thread
    assert thread is not None
    await journal.intent("source-1", "token-1", 1)
    journal.cloned_soon("source-1", "job-1")  # queued: the close waits for its commit
    pending = asyncio.create_task(journal.intent("source-2", "token-2", 1))
    await asyncio.sleep(0)
    closing = asyncio.create_task(journal.close())
    for _ in range(steps):
        await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert not journal.is_open
    async with asyncio.timeout(5.0):
        outcome = await asyncio.gather(pending, return_exceptions=True)
    await asyncio.to_thread(thread.join, 5.0)
    assert not thread.is_alive()
    assert outcome == [None] or isinstance(outcome[0], JournalClosedError), outcome
    with pytest.raises(JournalClosedError):
        journal.cloned_soon("source-1", "job-2")
    await journal.close()  # idempotent after a cancelled close
    async with Journal(journal.path) as again:
        entries = await again.load()
    assert entries["source-1"].token == "token-1"
