"""The rerun display at scale (issue 20): O(1) per event, drawn at a bounded rate, bounded state.

Fake clocks throughout: the display's cost is counted in draws, lines and bytes, not seconds.
"""

from __future__ import annotations

import gc
import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest
from _cli import run_cli
from _faketime import FakeTime
from rich.console import Console

from ionq_async import RerunProgress
from ionq_async.cli._live import LIVE_INTERVAL, PLAIN_INTERVAL, RerunDisplay
from ionq_async.testing import FakeIonQ

N = 100_000
STEP = 0.001  # fake seconds between two events: 100,000 events span 100 s
ANSI = re.compile(r"\x1b\[")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _console(*, tty: bool) -> Console:
    return Console(file=io.StringIO(), force_terminal=tty, width=120, color_system=None)


def _output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def _progress(i: int, total: int = N) -> RerunProgress:
    """Event i of a batch of `total`: every source cloned first, then one in 100 fails."""
    cloned = min(total, i + 1)
    done = max(0, i + 1 - total)
    return RerunProgress(
        total=total, cloned=cloned, completed=done - done // 100, failed=done // 100
    )


def _feed(display: RerunDisplay[RerunProgress], clock: Clock, events: int, *, step: float) -> int:
    """Each event followed by a tick (the worst case: the ticker as often as the events)."""
    for i in range(events):
        display.update(_progress(i, events // 2))
        clock.now += step
        display.tick()
    return display.renders


def test_events_alone_never_draw() -> None:
    clock = Clock()
    console = _console(tty=True)
    display = RerunDisplay[RerunProgress](console, N, clock=clock)
    with display:
        drawn, size = display.renders, len(_output(console))
        for i in range(N):
            display.update(_progress(i, N // 2))
        assert display.renders == drawn and len(_output(console)) == size
        assert display.latest == _progress(N - 1, N // 2)


@pytest.mark.parametrize("tty", [True, False])
def test_draws_are_bounded_by_elapsed_time_not_events(tty: bool) -> None:
    clock = Clock()
    display = RerunDisplay[RerunProgress](_console(tty=tty), N // 2, clock=clock)
    interval = LIVE_INTERVAL if tty else PLAIN_INTERVAL
    assert display.interval == interval
    with display:
        renders = _feed(display, clock, N, step=STEP)
    elapsed = N * STEP
    # start and stop draw once each (on a terminal); the ticks at most once per interval
    assert renders <= elapsed / interval + 3
    assert renders >= elapsed / interval - 1, "the display must keep moving"


def test_a_frozen_clock_draws_nothing_between_start_and_stop() -> None:
    clock = Clock()
    display = RerunDisplay[RerunProgress](_console(tty=True), N // 2, clock=clock)
    with display:
        started = display.renders
        assert _feed(display, clock, N, step=0.0) == started
    assert display.renders == started + 1


def test_events_keep_constant_size_state() -> None:
    """100,000 events between two draws allocate nothing that stays."""
    clock = Clock()
    display = RerunDisplay[RerunProgress](_console(tty=True), N // 2, clock=clock)
    with display:
        _feed(display, clock, 2_000, step=0.0)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            _feed(display, clock, N, step=0.0)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert grown < 4096, f"the display grew {grown:,} bytes over {N:,} events"


def test_drawing_keeps_bounded_state() -> None:
    """Drawn 400 times over 100 s: one task, and rich's speed samples of the last 5 s only."""
    clock = Clock()
    display = RerunDisplay[RerunProgress](_console(tty=True), N // 2, clock=clock)
    with display:
        _feed(display, clock, N, step=STEP)
        assert display.renders >= N * STEP / LIVE_INTERVAL - 1
        (task,) = display.progress.tasks
        assert len(task._progress) <= 5.0 / LIVE_INTERVAL + 2
    sized = {k: len(v) for k, v in vars(display).items() if hasattr(v, "__len__")}
    assert all(n <= 64 for n in sized.values()), sized


def test_the_final_frame_shows_the_final_numbers() -> None:
    clock = Clock()
    console = _console(tty=True)
    display = RerunDisplay[RerunProgress](console, N // 2, clock=clock)
    with display:
        _feed(display, clock, N, step=0.0)
        drawn = len(_output(console))
    final = _output(console)[drawn:]
    assert f"{N // 2}/{N // 2}" in final and "100%" in final
    assert f"clones {N // 2:,}" in final and "running 0" in final
    assert f"done {N // 2 - N // 200:,}" in final and f"failed {N // 200:,}" in final


def test_plain_output_is_a_few_lines_without_escapes() -> None:
    clock = Clock()
    console = _console(tty=False)
    display = RerunDisplay[RerunProgress](console, N // 2, clock=clock, title="re-running")
    with display:
        _feed(display, clock, N, step=STEP)
    lines = _output(console).splitlines()
    assert len(lines) <= N * STEP / PLAIN_INTERVAL + 1
    assert not any(ANSI.search(line) for line in lines)
    assert all(line.startswith("re-running ") for line in lines)
    assert lines[-1].startswith(f"re-running {N // 2:,}/{N // 2:,} (100%) 100.0 s")
    assert f"failed {N // 200:,}" in lines[-1] and "500.0 jobs/s" in lines[-1]


def test_stop_twice_draws_once() -> None:
    """Ctrl-C stops the display before its ``with`` block exits; the exit adds nothing."""
    clock = Clock()
    console = _console(tty=False)
    with RerunDisplay[RerunProgress](console, 10, clock=clock) as display:
        display.update(_progress(3, 10))
        display.stop()
        assert display.tick() is False
    assert display.renders == 1 and len(_output(console).splitlines()) == 1


def test_the_budget_shown_is_the_campaigns() -> None:
    console = _console(tty=False)
    with RerunDisplay[RerunProgress](console, 10, clock=Clock(), unit="usd") as display:
        display.update(
            RerunProgress(total=10, cloned=4, spent=10.0, campaign_spent=25.5, max_cost=100.0)
        )
    assert "spent 25.50 / 100.00 usd" in _output(console)
    console = _console(tty=False)
    with RerunDisplay[RerunProgress](console, 10, clock=Clock(), unit="usd") as display:
        display.update(RerunProgress(total=10, cloned=4, spent=10.0, max_cost=100.0))
    assert "spent 10.00 / 100.00 usd" in _output(console)


def test_no_event_draws_a_start_line() -> None:
    console = _console(tty=True)
    with RerunDisplay[RerunProgress](console, 10, clock=Clock()):
        pass
    assert "0/10" in _output(console) and "starting" in _output(console)


async def test_the_ticker_draws_while_no_event_comes() -> None:
    """Long jobs send no event for minutes: the elapsed time still moves, at the same rate."""
    time = FakeTime()
    display = RerunDisplay[RerunProgress](
        _console(tty=True), 10, clock=time.clock, sleep=time.sleep
    )
    with display:
        display.update(_progress(4, 10))
        await time.run(time.sleep(60.0))
        ticked = display.renders
    assert 60.0 / LIVE_INTERVAL - 1 <= ticked <= 60.0 / LIVE_INTERVAL + 2
    await time.run(time.sleep(60.0))
    assert display.renders == ticked + 1, "the ticker stops with the display"


@pytest.mark.fake_ionq(durations=(0.01, 0.01, 0.02))
async def test_piped_rerun_prints_bounded_progress_lines(
    fake_ionq: FakeIonQ, tmp_path: Path
) -> None:
    sources = [fake_ionq.add_job(name="bell", shots=100, status="completed").id for _ in range(300)]
    broken = set(sources[::50])
    fake_ionq.fate_for = lambda job: "failed" if job.cloned_from in broken else None
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(sources) + "\n")
    result = await run_cli("rerun", "--from", str(ids), "--json", fake=fake_ionq)
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["counts"]["completed"] == 294 and report["counts"]["failed"] == 6
    lines = [line for line in result.err.splitlines() if line.startswith("re-running ")]
    assert 1 <= len(lines) <= report["duration"] / PLAIN_INTERVAL + 2
    assert lines[-1].startswith("re-running 300/300 (100%)")
    assert "done 294" in lines[-1] and "failed 6" in lines[-1]
    assert not ANSI.search(result.err)
