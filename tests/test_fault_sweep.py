"""Issue 18, Done-when 2: a fault at every request of a batch, pairs of faults, a kill at each.

The batch is a 20-source ``rerun_all`` with tokens (the default) and a ``journal=``, run
against the emulator over real HTTP (tests/_sweep.py). It runs once clean, to count its
requests; then with one fault at every request index, for every fault kind the emulator
has; then with a seeded sample of pairs of faults; then in a client process killed by
SIGKILL when the emulator sees request index k (before or after the server acted on it),
resumed with the same journal in a fresh process. Every schedule is followed by a resume
without faults. Each checks: every source has exactly one outcome; no source is cloned
twice (clone POSTs the emulator accepted, clone jobs it holds); the run is bounded in
requests and time; one transient fault leaves every source completed; the resume
completes every source.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import signal
import subprocess
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from _sweep import DURATIONS, RUN_BOUND, SOURCES, Schedule, rerun_batch

from ionq_async import Journal
from ionq_async._core.defaults import TOKEN_KEY
from ionq_async.testing import FakeIonQ, Fault
from ionq_async.testing._faults import FaultKind

KINDS: dict[str, Fault] = {
    "503": Fault.http(503),
    "429": Fault.rate_limited(0),
    "html502": Fault.html(502),
    "truncated": Fault.truncated(),
    "reset": Fault.reset(),
    "hang": Fault.hang(),
    "commit-then-drop": Fault.commit_then_fail(),
    "commit-then-503": Fault.commit_then_fail(503),
}
"""Every fault kind of the emulator (a kind with two forms appears twice)."""
REQUESTS = 1 + SOURCES + 3
"""A clean run, measured: one read of the sources, one clone POST each, three poll rounds."""
ALWAYS = 1 + SOURCES + 1
"""Requests every run makes (at least one poll round): a fault at these indices always fires."""
PAIRS = 40
SEED = 18


def request_bound(faults: int) -> int:
    """Requests a run may make: finite, with room for slow polls.

    A clean run makes 24; a resume after an early kill reads each source and scans for
    its token, about 60.
    """
    return 6 * REQUESTS + 10 * faults


def _pairs() -> list[Any]:
    rng = random.Random(SEED)
    chosen: dict[str, dict[int, str]] = {}
    while len(chosen) < PAIRS:
        first, second = sorted(rng.sample(range(REQUESTS), 2))
        a, b = rng.choice(list(KINDS)), rng.choice(list(KINDS))
        chosen.setdefault(f"{a}@{first}+{b}@{second}", {first: a, second: b})
    return [pytest.param(faults, id=name) for name, faults in chosen.items()]


SINGLES = [
    pytest.param({index: kind}, id=f"{kind}@{index}") for kind in KINDS for index in range(REQUESTS)
]


# --- what every schedule must hold -------------------------------------------------------


def clone_posts(fake: FakeIonQ) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Clone POSTs per source: all of them, and those the emulator acted on."""
    sent: collections.Counter[str] = collections.Counter()
    accepted: collections.Counter[str] = collections.Counter()
    for r in fake.requests:
        if r.route != "clone":
            continue
        source = r.path.split("/")[-2]
        sent[source] += 1
        ok = r.fault is None and r.status is not None and 200 <= r.status < 300
        if ok or r.fault in ("truncated", "commit_then_fail"):
            accepted[source] += 1
    return sent, accepted


def check_run(fake: FakeIonQ, sources: list[str], summary: Mapping[str, Any], what: str) -> None:
    """Each source exactly one outcome; a clone named by an outcome is its source's only one."""
    outcomes = summary["outcomes"]
    assert sorted(o[0] for o in outcomes) == sorted(sources), f"{what}: not one outcome each"
    assert summary["most_done"] == len(sources), f"{what}: {summary['most_done']} outcomes emitted"
    for source, status, job_id, error in outcomes:
        held = [c.id for c in fake.clones_of(source)]
        assert len(held) <= 1, f"{what}: {source} cloned {len(held)} times ({status}, {error})"
        if job_id is not None:
            assert held == [job_id], f"{what}: {source} ended {status} on {job_id}, held {held}"


def not_completed(summary: Mapping[str, Any]) -> list[Any]:
    return [o for o in summary["outcomes"] if o[1] != "completed"]


async def check_end(fake: FakeIonQ, sources: list[str], journal: Path, faults: int) -> None:
    """After a run and its resume: one clone per source, carrying a token, in the journal."""
    sent, accepted = clone_posts(fake)
    for source in sources:
        clones = fake.clones_of(source)
        assert len(clones) == 1, f"{source} has {len(clones)} clones"
        assert TOKEN_KEY in (clones[0].metadata or {}), f"{source}'s clone carries no token"
        assert accepted[source] == 1, f"{source}: {accepted[source]} clone POSTs acted on"
        assert sent[source] <= 1 + faults, f"{source}: {sent[source]} clone POSTs, {faults} faults"
    async with Journal(journal) as book:
        entries = await book.load()
    assert {s: (e.status, e.job_id) for s, e in entries.items()} == {
        s: ("completed", fake.clones_of(s)[0].id) for s in sources
    }


# --- in the test process: a clean run, every single fault, a sample of pairs -------------


async def run_schedule(names: Mapping[int, str], tmp_path: Path) -> dict[str, Any]:
    """Run the batch with `names` faults, check it, resume it without faults, check that."""
    plan = Schedule({index: KINDS[name] for index, name in names.items()})
    journal = tmp_path / "journal.sqlite"
    async with FakeIonQ(durations=DURATIONS, faults=plan) as fake:
        sources = [fake.add_job().id for _ in range(SOURCES)]
        first = await rerun_batch(fake.base_url, fake.api_key, sources, str(journal))
        check_run(fake, sources, first, "the run")
        assert plan.seen <= request_bound(len(names)), f"the run sent {plan.seen} requests"
        fired = {index for index, _, _ in plan.fired}
        missing = {i for i in names if i < ALWAYS} - fired
        assert not missing, f"faults at {sorted(missing)} never fired: {plan.fired}"
        fake.faults = again = Schedule()
        second = await rerun_batch(fake.base_url, fake.api_key, sources, str(journal))
        check_run(fake, sources, second, "the resume")
        assert again.seen <= request_bound(0), f"the resume sent {again.seen} requests"
        assert not not_completed(second), f"the resume left {not_completed(second)}"
    await check_end(fake, sources, journal, len(names))
    return first


async def test_a_clean_run_makes_the_requests_the_sweep_indexes(tmp_path: Path) -> None:
    plan = Schedule()
    journal = tmp_path / "journal.sqlite"
    async with FakeIonQ(durations=DURATIONS, faults=plan) as fake:
        sources = [fake.add_job().id for _ in range(SOURCES)]
        summary = await rerun_batch(fake.base_url, fake.api_key, sources, str(journal))
        check_run(fake, sources, summary, "the clean run")
    assert not not_completed(summary)
    routes = [r.route for r in fake.requests]
    assert routes[0] == "list_jobs", "first the sources are read, in one request"
    assert routes.count("clone") == SOURCES
    assert set(routes) <= {"list_jobs", "get_job", "clone"}, "the rest are poll rounds"
    assert ALWAYS <= plan.seen <= request_bound(0)
    await check_end(fake, sources, journal, 0)


def test_the_sweep_covers_every_fault_kind_of_the_emulator() -> None:
    assert {f.kind for f in KINDS.values()} == set(typing.get_args(FaultKind))


@pytest.mark.parametrize("names", SINGLES)
async def test_one_fault_leaves_every_source_completed(
    names: dict[int, str], tmp_path: Path
) -> None:
    first = await run_schedule(names, tmp_path)
    assert not not_completed(first), f"one transient fault left {not_completed(first)}"


@pytest.mark.parametrize("names", _pairs())
async def test_two_faults_leave_every_source_completed(
    names: dict[int, str], tmp_path: Path
) -> None:
    # Two faults cannot exhaust RETRY's three attempts at any one request.
    first = await run_schedule(names, tmp_path)
    assert not not_completed(first), f"two transient faults left {not_completed(first)}"


# --- a client process killed at every request index, resumed in a fresh process ----------


class Forker:
    """Talks to tests/_sweep_child.py: one forked client process per batch run."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin, self.stdout = proc.stdin, proc.stdout

    def start(self, job: Mapping[str, Any]) -> int:
        """A child for `job`, waiting for `go`; its pid."""
        self.stdin.write(json.dumps(job) + "\n")
        self.stdin.flush()
        word, pid = self.stdout.readline().split()
        assert word == "pid"
        return int(pid)

    async def run(self, pid: int) -> int:
        """Let the child go; its exit code once it ends (-9: killed)."""
        self.stdin.write("go\n")
        self.stdin.flush()
        ended = asyncio.ensure_future(asyncio.to_thread(self.stdout.readline))
        done, _ = await asyncio.wait([ended], timeout=RUN_BOUND + 10)
        if not done:
            os.kill(pid, signal.SIGKILL)
        word, ended_pid, code = (await ended).split()
        assert (word, int(ended_pid)) == ("exit", pid)
        assert done, "the client process outlived its bound"
        return int(code)


@pytest.fixture(scope="module")
def forker() -> Iterator[Forker]:
    script = Path(__file__).with_name("_sweep_child.py")
    with subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        yield Forker(proc)
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def _job(fake: FakeIonQ, sources: list[str], journal: Path, name: str) -> dict[str, Any]:
    out = journal.with_name(f"{name}.json")
    err = journal.with_name(f"{name}.err")
    return {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "sources": sources,
        "journal": str(journal),
        "out": str(out),
        "err": str(err),
    }


def _stderr(job: Mapping[str, Any]) -> str:
    return Path(job["err"]).read_text()


def _read(job: Mapping[str, Any], code: int) -> dict[str, Any]:
    assert code == 0, _stderr(job)
    summary: dict[str, Any] = json.loads(Path(job["out"]).read_text())
    return summary


@pytest.mark.parametrize("acted", [False, True], ids=["before-acting", "after-acting"])
@pytest.mark.parametrize("index", range(REQUESTS))
async def test_killed_at_a_request_then_resumed_completes_every_source(
    index: int, acted: bool, forker: Forker, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite"
    async with FakeIonQ(durations=DURATIONS) as fake:
        sources = [fake.add_job().id for _ in range(SOURCES)]
        killed = _job(fake, sources, journal, "killed")
        pid = forker.start(killed)

        def kill(seen: int) -> None:
            if seen == index:
                os.kill(pid, signal.SIGKILL)

        fault = {} if acted else {index: Fault.reset()}
        fake.faults = plan = Schedule(fault, on_request=kill)
        code = await forker.run(pid)
        assert code in (0, -signal.SIGKILL), _stderr(killed)
        if index < ALWAYS:
            assert code == -signal.SIGKILL, f"not killed at request {index}: exit {code}"
        elif code == 0:
            check_run(fake, sources, _read(killed, code), "the run the kill missed")
        assert plan.seen <= request_bound(0), f"the killed run sent {plan.seen} requests"

        fake.faults = again = Schedule()
        resumed = _job(fake, sources, journal, "resumed")
        summary = _read(resumed, await forker.run(forker.start(resumed)))
        check_run(fake, sources, summary, "the resume")
        assert again.seen <= request_bound(0), f"the resume sent {again.seen} requests"
        assert not not_completed(summary), f"the resume left {not_completed(summary)}"
    await check_end(fake, sources, journal, 1)
