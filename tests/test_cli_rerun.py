"""``ionq-async rerun`` and ``demo`` (the batch engine), run as subprocesses."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from _cli import cli_env, one_error_line, run_cli

from ionq_async.testing import FakeIonQ

pytestmark = pytest.mark.fake_ionq(durations=(0.02, 0.03, 0.05))

MISSING = "00000000-0000-4000-8000-000000000000"


def _bell(fake: FakeIonQ, **kw: object) -> str:
    return fake.add_job(name="bell", shots=1000, status="completed", **kw).id  # type: ignore[arg-type]


async def test_rerun_ids_out_file_and_summary(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    sources = [_bell(fake_ionq) for _ in range(6)]
    out = tmp_path / "results.jsonl"
    result = await run_cli("rerun", *sources, "--shots", "10", "--out", str(out), fake=fake_ionq)
    assert result.code == 0, result.err
    assert "Rerun summary" in result.out and "completed" in result.out
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["source_id"] for line in lines) == sorted(sources)
    for line in lines:
        assert line["status"] == "completed" and line["error"] is None
        (clone,) = fake_ionq.clones_of(line["source_id"])
        assert clone.id == line["job_id"] and clone.shots == 10


async def test_rerun_from_file_with_failures_exits_1(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    sources = [_bell(fake_ionq) for _ in range(4)]
    broken = sources[1]
    fake_ionq.fate_for = lambda job: "failed" if job.cloned_from == broken else None
    listing = tmp_path / "ids.txt"
    listing.write_text("# sources\n" + "\n".join(sources) + "\n\n")
    result = await run_cli("rerun", "--from", str(listing), "--json", fake=fake_ionq)
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["counts"]["completed"] == 3 and report["counts"]["failed"] == 1
    assert [o["source_id"] for o in report["outcomes"]] == sources  # input order
    (bad,) = [o for o in report["outcomes"] if o["status"] != "completed"]
    assert bad["source_id"] == broken and bad["failure"]["code"] == "InternalError"


async def test_rerun_reads_stdin(fake_ionq: FakeIonQ) -> None:
    sources = [_bell(fake_ionq) for _ in range(3)]
    result = await run_cli("rerun", "-", "--json", fake=fake_ionq, stdin="\n".join(sources))
    assert result.code == 0, result.err
    assert json.loads(result.out)["counts"]["completed"] == 3


async def test_rerun_journal_then_resume(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    sources = [_bell(fake_ionq) for _ in range(3)]
    journal = str(tmp_path / "run.db")
    first = await run_cli("rerun", *sources, "--journal", journal, fake=fake_ionq)
    assert first.code == 0, first.err
    again = await run_cli("rerun", *sources, "--journal", journal, fake=fake_ionq)
    assert again.code == 2
    assert "--resume" in one_error_line(again)
    resumed = await run_cli("rerun", *sources, "--journal", journal, "--resume", fake=fake_ionq)
    assert resumed.code == 0, resumed.err
    assert all(len(fake_ionq.clones_of(s)) == 1 for s in sources)


async def test_bad_ids_in_a_file_name_the_line(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    listing = tmp_path / "ids.txt"
    listing.write_text(f"{_bell(fake_ionq)}\nnot-an-id\n")
    result = await run_cli("rerun", "--from", str(listing), fake=fake_ionq)
    assert result.code == 2
    assert f"{listing} line 2: not a job id" in one_error_line(result)


async def test_existing_journal_without_resume_exit_2(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    with sqlite3.connect(journal) as db:
        db.execute("CREATE TABLE rerun (source_id TEXT PRIMARY KEY, job_id TEXT, updated REAL)")
        db.execute("INSERT INTO rerun VALUES (?, NULL, 0)", (MISSING,))
    db.close()
    result = await run_cli("rerun", _bell(fake_ionq), "--journal", str(journal), fake=fake_ionq)
    assert result.code == 2
    assert "already holds a run: add --resume" in one_error_line(result)


async def test_demo_runs_offline_and_prints_the_summary() -> None:
    result = await run_cli("demo", "--jobs", "40", env=cli_env(), timeout=60)
    assert result.code == 0, result.err
    assert "Rerun of 40 jobs" in result.out
    assert "completed" in result.out and "failed" in result.out
    assert "0: 0.500   3: 0.500" in result.out  # the Bell clone's probabilities


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rerun", "{src}", "--resume"), "--resume needs --journal"),
        (("rerun", "{src}", "--out", "/no/such/dir/out.jsonl"), "cannot write --out"),
    ],
)
async def test_bad_rerun_input_is_one_line_exit_2(
    fake_ionq: FakeIonQ, args: tuple[str, ...], message: str
) -> None:
    src = _bell(fake_ionq)
    result = await run_cli(*(a.format(src=src) for a in args), fake=fake_ionq)
    assert result.code == 2, (result.out, result.err)
    assert message in one_error_line(result)
    assert fake_ionq.clones_of(src) == []
