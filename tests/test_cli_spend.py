"""Issue 15, Done-when 5: ``ionq-async rerun`` estimates, budgets and sessions, as subprocesses.

Expected amounts come from the emulator's rate card (``job_cost`` of each source's stats).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import uuid
from pathlib import Path

import pytest
from _cli import cli_env, finish, one_error_line, run_cli, start_cli

from ionq_async import Money
from ionq_async.cli import build_parser
from ionq_async.cli._base import UsageError
from ionq_async.cli._spend import check_spend_args, parse_amount
from ionq_async.testing import FakeIonQ, job_cost

pytestmark = pytest.mark.fake_ionq(durations=(0.02, 0.03, 0.05))

QPU = "qpu.forte-1"
SHOTS = (100, 50_000, 100_000)
ENDED_BY_CLI = "it was ended by its creator"


def qpu_sources(fake: FakeIonQ, n: int) -> list[str]:
    return [fake.add_job(backend=QPU, shots=SHOTS[i % 3], status="completed").id for i in range(n)]


def card_price(fake: FakeIonQ, source_id: str) -> float:
    job = fake.jobs[source_id]
    counts = job.stats()["gate_counts"]
    return job_cost(job.backend, job.shots, counts["1q"], counts["2q"])


def server_spend(fake: FakeIonQ, ids: list[str]) -> float:
    return sum(clone.cost() for i in ids for clone in fake.clones_of(i))


def posts(fake: FakeIonQ) -> list[str]:
    return [r.path for r in fake.requests if r.method == "POST"]


def listing(tmp_path: Path, ids: list[str]) -> str:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return str(path)


def the_session(fake: FakeIonQ) -> str:
    (session_id,) = fake.sessions.by_id
    return session_id


async def until_cloned(fake: FakeIonQ, ids: list[str], at_least: int) -> None:
    async with asyncio.timeout(30):
        while True:
            if sum(len(fake.clones_of(i)) for i in ids) >= at_least:
                return
            await asyncio.sleep(0.05)


def cells(text: str) -> str:
    """Table output with the padding squeezed: ``a │ b │ c``."""
    return re.sub(r" +", " ", text)


def ended_by_the_cli(fake: FakeIonQ, session_id: str) -> bool:
    session = fake.sessions.by_id[session_id]
    return session.status_at(fake.now()) == "ended" and session.end_reason == ENDED_BY_CLI


async def test_estimate_prints_the_totals_and_sends_no_clone(fake_ionq: FakeIonQ) -> None:
    ids = qpu_sources(fake_ionq, 9)
    free = fake_ionq.add_job(backend="simulator", status="completed").id
    expected = sum(card_price(fake_ionq, i) for i in ids)
    assert expected > 0 and card_price(fake_ionq, free) == 0.0
    result = await run_cli("rerun", *ids, free, "--estimate", fake=fake_ionq)
    assert result.code == 0, result.err
    table = cells(result.out)
    assert "Estimate of 10 sources" in table
    assert f"│ {QPU} │ 9 │ {expected:,.2f} usd │" in table
    assert "│ simulator │ 1 │ 0.00 usd │" in table
    assert f"│ total │ 10 │ {expected:,.2f} usd │" in table
    assert "no clone was sent" in result.out
    assert posts(fake_ionq) == [] and all(fake_ionq.clones_of(i) == [] for i in [*ids, free])


async def test_estimate_lists_what_it_cannot_price_and_exits_1(fake_ionq: FakeIonQ) -> None:
    ids = qpu_sources(fake_ionq, 4)
    unknown = str(uuid.uuid4())
    result = await run_cli("rerun", *ids, unknown, "--estimate", "--json", fake=fake_ionq)
    assert result.code == 1, result.err
    report = json.loads(result.out)
    expected = sum(card_price(fake_ionq, i) for i in ids)
    assert report["total"] == pytest.approx(expected) and report["unit"] == "usd"
    assert report["by_backend"] == {QPU: pytest.approx(expected)}
    assert report["sources"] == 5
    assert report["unestimated"] == {unknown: "the source job was not found"}
    assert posts(fake_ionq) == []


async def test_max_cost_under_the_estimate_is_refused_before_any_clone(
    fake_ionq: FakeIonQ,
) -> None:
    ids = qpu_sources(fake_ionq, 12)
    estimate = sum(card_price(fake_ionq, i) for i in ids)
    budget = round(estimate * 0.9, 2)
    result = await run_cli("rerun", *ids, "--max-cost", f"{budget}usd", fake=fake_ionq)
    assert result.code == 1, result.err
    line = one_error_line(result)
    assert f"the estimate is {estimate:,.2f} usd for 12 sources" in line
    assert f"over --max-cost {budget:,.2f} usd; no clone was sent" in line
    assert posts(fake_ionq) == [] and all(fake_ionq.clones_of(i) == [] for i in ids)


async def test_partial_stays_within_the_budget_and_a_resume_with_more_finishes(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    ids = qpu_sources(fake_ionq, 30)
    estimate = sum(card_price(fake_ionq, i) for i in ids)
    budget = round(estimate * 0.5, 2)
    journal = str(tmp_path / "run.db")
    first = await run_cli(
        "rerun",
        "--from",
        listing(tmp_path, ids),
        "--max-cost",
        str(budget),
        "--partial",
        "--journal",
        journal,
        "--json",
        fake=fake_ionq,
    )
    assert first.code == 1, first.err  # not every source completed: some were skipped
    report = json.loads(first.out)
    spent = server_spend(fake_ionq, ids)
    assert 0 < spent <= budget
    assert report["actual_cost"] == pytest.approx(spent)
    assert report["estimated_cost"] == pytest.approx(estimate)
    assert report["cost_unit"] == "usd"
    skipped = [o for o in report["outcomes"] if o["status"] == "skipped"]
    assert skipped and report["counts"]["completed"] + len(skipped) == 30
    assert all(o["reason"].startswith("over budget") and o["job_id"] is None for o in skipped)
    assert all(fake_ionq.clones_of(o["source_id"]) == [] for o in skipped)
    left = sum(card_price(fake_ionq, o["source_id"]) for o in skipped)

    resumed = await run_cli(
        "rerun",
        "--from",
        listing(tmp_path, ids),
        "--max-cost",
        str(round(estimate, 2) + 1),
        "--journal",
        journal,
        "--resume",
        fake=fake_ionq,
    )
    assert resumed.code == 0, resumed.err
    assert f"estimate {left:,.2f} usd for {len(skipped)} sources" in resumed.err
    assert f"estimated {left:,.2f} usd · actual {left:,.2f} usd" in resumed.out
    assert all(len(fake_ionq.clones_of(i)) == 1 for i in ids), "exactly one clone per source"
    assert server_spend(fake_ionq, ids) == pytest.approx(estimate)


async def test_new_session_is_ended_after_the_run(fake_ionq: FakeIonQ) -> None:
    ids = [fake_ionq.add_job(status="completed").id for _ in range(4)]
    result = await run_cli(
        "rerun",
        *ids,
        "--new-session",
        QPU,
        "--session-job-limit",
        "10",
        "--session-cost-limit",
        "5000",
        fake=fake_ionq,
    )
    assert result.code == 0, result.err
    session_id = the_session(fake_ionq)
    assert f"session {session_id} opened on {QPU}" in result.err
    assert f"session {session_id} ended" in result.err
    assert ended_by_the_cli(fake_ionq, session_id)
    session = fake_ionq.sessions.by_id[session_id]
    assert session.job_count_limit == 10 and session.cost_limit == {"unit": "usd", "value": 5000}
    clones = [c for i in ids for c in fake_ionq.clones_of(i)]
    assert len(clones) == 4
    assert all(c.session_id == session_id and c.backend == QPU for c in clones)


async def test_a_resume_with_nothing_left_opens_no_session(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    ids = [fake_ionq.add_job(status="completed").id for _ in range(3)]
    journal = str(tmp_path / "run.db")
    first = await run_cli("rerun", *ids, "--journal", journal, fake=fake_ionq)
    assert first.code == 0, first.err
    again = ("rerun", *ids, "--journal", journal, "--resume", "--new-session", QPU)
    resumed = await run_cli(*again, fake=fake_ionq)
    assert resumed.code == 0, resumed.err
    assert "no session opened" in resumed.err
    assert not fake_ionq.sessions.by_id
    # One source left: the session is opened for it, and ended.
    more = [*ids, fake_ionq.add_job(status="completed").id]
    resumed = await run_cli(*again[:1], *more, *again[4:], fake=fake_ionq)
    assert resumed.code == 0, resumed.err
    session_id = the_session(fake_ionq)
    assert ended_by_the_cli(fake_ionq, session_id)
    assert [len(fake_ionq.clones_of(i)) for i in more] == [1, 1, 1, 1]


async def test_new_session_is_ended_after_a_failed_run(fake_ionq: FakeIonQ) -> None:
    ids = [fake_ionq.add_job(status="completed").id for _ in range(3)]
    fake_ionq.fate_for = lambda job: "failed" if job.cloned_from else None
    result = await run_cli("rerun", *ids, "--new-session", QPU, fake=fake_ionq)
    assert result.code == 1, result.err
    assert "failed" in result.out
    session_id = the_session(fake_ionq)
    assert ended_by_the_cli(fake_ionq, session_id)
    assert [c.status_at(fake_ionq.now()) for i in ids for c in fake_ionq.clones_of(i)] == [
        "failed"
    ] * 3


@pytest.mark.fake_ionq(rate_limit=40.0, burst=5.0, durations=(0.3, 0.5, 1.0))
async def test_new_session_is_ended_after_ctrl_c(fake_ionq: FakeIonQ, tmp_path: Path) -> None:
    ids = [fake_ionq.add_job(status="completed").id for _ in range(60)]
    journal = tmp_path / "run.db"
    args = ("--from", listing(tmp_path, ids), "--concurrency", "8", "--journal", str(journal))
    proc = await start_cli("rerun", *args, "--new-session", QPU, env=cli_env(fake_ionq))
    await until_cloned(fake_ionq, ids, 10)
    proc.send_signal(signal.SIGINT)
    stopped = await finish(proc, timeout=30)
    assert stopped.code == 130, stopped.err
    assert "Traceback" not in stopped.err
    session_id = the_session(fake_ionq)
    assert f"ending session {session_id}" in stopped.err
    assert ended_by_the_cli(fake_ionq, session_id)
    assert sum(len(fake_ionq.clones_of(i)) for i in ids) < 60, "Ctrl-C came after the last clone"
    assert f"--new-session {QPU} --resume" in stopped.err


@pytest.mark.parametrize(
    ("text", "amount"),
    [("250", 250.0), ("1,000.5", 1000.5), ("250usd", Money(value=250.0, unit="usd"))],
)
def test_max_cost_amounts(text: str, amount: object) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("--max-cost ten", "--max-cost takes an amount"),
        ("--partial", "--partial needs --max-cost"),
        ("--allow-incomplete-estimate", "--allow-incomplete-estimate needs --max-cost"),
        ("--session S --new-session qpu.forte-1", "not both"),
        ("--session-job-limit 5", "need --new-session"),
        ("--new-session qpu.forte-1 --session-job-limit 0", "at least 1"),
        ("--new-session qpu.forte-1 --backend simulator", "differs from the session's backend"),
        ("--estimate --new-session qpu.forte-1", "--estimate sends no clone"),
    ],
)
def test_spend_flags_are_checked_before_any_request(flags: str, message: str) -> None:
    args = build_parser().parse_args(["rerun", str(uuid.uuid4()), *flags.split()])
    with pytest.raises(UsageError, match=message):
        check_spend_args(args)
