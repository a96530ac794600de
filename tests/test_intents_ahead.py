"""Intents written ahead: a tokened batch journals a chunk's intents before any of its POSTs.

Over real HTTP on the emulator: each clone's intent row (with its token) is on disk before
its POST arrives; a batch left early leaves no intent it never sent; a resume treats an
intent written ahead as sent at the latest just before the earlier run stopped, so a job
list that lags cannot make it clone twice. And the journal's two connections: clone ids
and ends commit in the loop, or in the thread when the write lock is held.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from ionq_async import Journal, JournalEntry, PollPolicy
from ionq_async._batch.resume import sent_by
from ionq_async._core.defaults import TOKEN_KEY
from ionq_async.testing import FakeIonQ, Job

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.1)
QUICK = (0.02, 0.02, 0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=QUICK) as server:
        yield server


def _rows(path: Path) -> list[tuple[str, str | None, str | None, str | None, float | None]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT source_id, token, job_id, status, sent FROM rerun").fetchall()


async def test_each_tokened_post_finds_its_intent_on_disk(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = [fake.add_job().id for _ in range(250)]
    path = tmp_path / "j.sqlite"
    seen: list[bool] = []

    def check(job: Job) -> None:  # runs as the emulator stores the clone, before it answers
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT token FROM rerun WHERE source_id = ? AND job_id IS NULL",
                (job.cloned_from,),
            ).fetchone()
        assert job.metadata is not None
        seen.append(row is not None and row[0] == job.metadata[TOKEN_KEY])
        return None

    fake.fate_for = check
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, journal=path, concurrency=16, poll=POLL)
    assert report.counts["completed"] == 250
    assert seen == [True] * 250
    rows = _rows(path)
    assert len(rows) == 250 and all(r[2] and r[3] == "completed" for r in rows)
    assert all(r[4] is None for r in rows), "written ahead: no send time"


async def test_a_batch_left_early_keeps_no_intent_it_never_sent(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake.add_job().id for _ in range(300)]
    path = tmp_path / "j.sqlite"
    fake.durations = (5.0, 5.0, 5.0)
    async with (
        fake.client(rate_limit=None) as client,
        client.jobs.rerun(ids, journal=path, concurrency=2, wait=False, poll=POLL) as outcomes,
    ):
        async for _ in outcomes:
            break
    rows = _rows(path)
    made = {i: fake.clones_of(i) for i in ids}
    cloned = {i for i, clones in made.items() if clones}
    assert 1 <= len(cloned) < 300
    assert {r[0] for r in rows} == cloned, "a row for every clone made, none for the rest"
    for source_id, token, job_id, _, _ in rows:
        (clone,) = made[source_id]
        assert job_id == clone.id
        assert clone.metadata is not None and clone.metadata[TOKEN_KEY] == token


async def test_a_resume_waits_out_the_list_lag_for_an_intent_written_ahead(
    tmp_path: Path,
) -> None:
    """The earlier run wrote the intent long before it sent the POST, then was killed.

    The intent's time says nothing of when the POST left: a resume that counted the list's
    lag from it would find nothing yet (the list lags) and clone the source again.
    """
    path = tmp_path / "j.sqlite"
    async with FakeIonQ(durations=QUICK, list_lag=0.6) as fake:
        source = fake.add_job()
        token = "4f1c2b9e8d7a4c3b9a1e2d3c4b5a6f70"
        async with Journal(path) as journal:
            await journal.intents_ahead([(source.id, token)])
        with sqlite3.connect(path) as db:
            db.execute("UPDATE rerun SET updated = updated - 3600")
        headers = {"Authorization": f"apiKey {fake.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            url = f"{fake.base_url}/jobs/{source.id}/clone"
            async with http.post(url, json={"metadata": {TOKEN_KEY: token}}) as resp:
                assert resp.status == 201
                sent = (await resp.json())["id"]
        async with fake.client(rate_limit=None, listing_lag=1.0) as client:
            report = await client.jobs.rerun_all([source.id], journal=path, poll=POLL)
        (outcome,) = report.outcomes
        assert [c.id for c in fake.clones_of(source.id)] == [sent]
        assert outcome.status == "completed" and outcome.job_id == sent


def test_the_latest_send_time_of_a_journal_entry() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    ahead = JournalEntry(source_id="s", token="t", updated=100.0)
    assert sent_by(ahead, now) == now, "written ahead: sent before the run stopped, at latest"
    timed = JournalEntry(source_id="s", token="t", updated=100.0, sent=90.0)
    assert sent_by(timed, now) == datetime.fromtimestamp(90.0, UTC)
    ended = JournalEntry(source_id="s", token="t", updated=100.0, status="ambiguous")
    assert sent_by(ended, now) == datetime.fromtimestamp(100.0, UTC), "its end came after"


async def test_a_write_waits_for_the_thread_when_another_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with Journal(path) as journal:
        await journal.intent("a", "token-a", 1)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.ensure_future(journal.cloned("a", "job-a"))
        await asyncio.sleep(0.2)
        assert not write.done(), "the loop's commit found the lock held and left it to the thread"
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(write, 5)
        entries = await journal.load()
    assert entries["a"].job_id == "job-a"


async def test_a_write_the_loop_cannot_commit_goes_to_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with Journal(path) as journal:
        await journal.intent("a", "token-a", 1)
        here = journal._here
        assert here is not None
        here.close()  # any SQLite error of the loop's connection, not only a held lock
        await asyncio.wait_for(journal.finished("a", "completed", job_id="job-a"), 5)
        entries = await journal.load()
    assert (entries["a"].status, entries["a"].job_id) == ("completed", "job-a")


async def test_a_journal_that_cannot_open_its_second_connection_is_not_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr("ionq_async._batch.journal_sql.connect_here", refuse)
    journal = Journal(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.OperationalError):
        await journal.open()
    assert not journal.is_open
    with pytest.raises(RuntimeError, match="not open"):
        await journal.load()
