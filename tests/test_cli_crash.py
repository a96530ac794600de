"""Issue 7, Done-when 3: ``ionq-async rerun --journal`` survives SIGKILL and SIGINT.

The emulator runs in the test process; the CLI is a subprocess killed mid-batch, then
resumed with ``--resume``. Every source must end accounted once, with exactly one clone.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path

import pytest
from _cli import Result, cli_env, finish, run_cli, start_cli

from ionq_async.testing import FakeIonQ

SOURCES = 60

# A rate limit slows cloning to tens per second, so the kill lands while clones are
# still being sent and others are running.
pytestmark = pytest.mark.fake_ionq(rate_limit=40.0, burst=5.0, durations=(0.3, 0.5, 1.0))


def _cloned_rows(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
            row = db.execute("SELECT count(*) FROM rerun WHERE job_id IS NOT NULL").fetchone()
        db.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


async def _until_cloned(journal: Path, at_least: int, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if _cloned_rows(journal) >= at_least:
                return
            await asyncio.sleep(0.05)


def _jsonl(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _integrity(journal: Path) -> str:
    with sqlite3.connect(journal) as db:
        (status,) = db.execute("PRAGMA integrity_check").fetchone()
    db.close()
    return str(status)


async def _resume_and_check(
    fake: FakeIonQ, sources: list[str], journal: Path, out: Path, *args: str
) -> Result:
    result = await run_cli(
        "rerun",
        *args,
        "--journal",
        str(journal),
        "--resume",
        "--out",
        str(out),
        fake=fake,
        timeout=90,
    )
    assert result.code == 0, result.err
    lines = _jsonl(out)
    assert sorted(line["source_id"] for line in lines) == sorted(sources)  # each once
    assert {line["status"] for line in lines} == {"completed"}
    for line in lines:
        clones = fake.clones_of(line["source_id"])
        assert [c.id for c in clones] == [line["job_id"]], "a source was cloned twice"
    return result


async def _seed(fake: FakeIonQ, tmp_path: Path) -> tuple[list[str], Path]:
    sources = [fake.add_job(name=f"src-{i}", status="completed").id for i in range(SOURCES)]
    listing = tmp_path / "sources.txt"
    listing.write_text("\n".join(sources) + "\n")
    return sources, listing


async def test_sigkill_mid_batch_then_resume_clones_each_source_once(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    sources, listing = await _seed(fake_ionq, tmp_path)
    journal = tmp_path / "run.db"
    args = ("--from", str(listing), "--concurrency", "8")
    proc = await start_cli("rerun", *args, "--journal", str(journal), env=cli_env(fake_ionq))
    await _until_cloned(journal, 10)
    proc.kill()
    killed = await finish(proc)
    assert killed.code == -signal.SIGKILL
    assert _cloned_rows(journal) < SOURCES, "the kill came after every clone was sent"
    assert _integrity(journal) == "ok"
    await _resume_and_check(fake_ionq, sources, journal, tmp_path / "out.jsonl", *args)


async def test_sigint_exits_130_with_a_consistent_journal_and_a_resume_hint(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    sources, listing = await _seed(fake_ionq, tmp_path)
    journal = tmp_path / "run.db"
    args = ("--from", str(listing), "--concurrency", "8")
    proc = await start_cli("rerun", *args, "--journal", str(journal), env=cli_env(fake_ionq))
    await _until_cloned(journal, 10)
    proc.send_signal(signal.SIGINT)
    stopped = await finish(proc, timeout=30)
    assert stopped.code == 130, stopped.err
    assert "Traceback" not in stopped.err
    assert "interrupted" in stopped.err
    assert f"--journal {journal} --resume" in stopped.err
    assert _integrity(journal) == "ok"
    await _resume_and_check(fake_ionq, sources, journal, tmp_path / "out.jsonl", *args)


@pytest.mark.parametrize("form", ["--api-key KEY", "--api-key=KEY", "--api KEY"])
async def test_sigint_hint_masks_the_api_key(
    fake_ionq: FakeIonQ, tmp_path: Path, form: str
) -> None:
    """Issue 13: Ctrl-C during a rerun keyed on the command line never prints the key."""
    key = fake_ionq.api_key
    _, listing = await _seed(fake_ionq, tmp_path)
    journal = tmp_path / "run.db"
    given = [w.replace("KEY", key) for w in form.split()]
    env = cli_env(IONQ_BASE_URL=fake_ionq.base_url)
    rerun = ("rerun", "--from", str(listing), "--concurrency", "8", "--journal", str(journal))
    proc = await start_cli(*given, *rerun, env=env)
    await _until_cloned(journal, 10)
    proc.send_signal(signal.SIGINT)
    stopped = await finish(proc, timeout=30)  # finish also fails on the key in the output
    assert stopped.code == 130, stopped.err
    assert key not in stopped.out and key not in stopped.err
    assert "Traceback" not in stopped.err
    masked = form.split()[0].replace("KEY", "***")
    assert f"{masked} *** rerun" in stopped.err or f"{masked} rerun" in stopped.err, stopped.err
    assert f"--journal {journal} --resume" in stopped.err
    assert "IONQ_API_KEY" in stopped.err
