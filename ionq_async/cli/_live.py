"""The live progress of ``ionq-async rerun``: O(1) per event, drawn at a bounded rate.

A batch reports progress after every clone and every end (hundreds of thousands of events on
a large campaign), so an event only keeps the latest counters; a ticker draws them a few
times a second on a terminal, or prints a plain line now and then when the output is piped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["LIVE_INTERVAL", "PLAIN_INTERVAL", "Progressish", "RerunDisplay"]

LIVE_INTERVAL = 0.25
"""Seconds between two draws of the live display on a terminal."""
PLAIN_INTERVAL = 10.0
"""Seconds between two plain progress lines when the output is not a terminal."""


class Progressish(Protocol):
    """What the display reads of a ``RerunProgress`` (skipped and spend are read if present)."""

    @property
    def cloned(self) -> int: ...
    @property
    def running(self) -> int: ...
    @property
    def completed(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def canceled(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def ambiguous(self) -> int: ...
    @property
    def done(self) -> int: ...


P = TypeVar("P", bound=Progressish)


class _TwoLineProgress(Progress):
    """A progress bar with the batch counters on a second line, both read when drawn."""

    def __init__(
        self,
        display: RerunDisplay[Any],
        *columns: ProgressColumn,
        console: Console,
        clock: Callable[[], float],
    ) -> None:
        self._display: RerunDisplay[Any] | None = None  # rich draws once while constructing
        super().__init__(
            *columns,
            console=console,
            auto_refresh=False,
            speed_estimate_period=5.0,
            get_time=clock,
        )
        self._display = display

    def get_renderables(self) -> Iterable[RenderableType]:
        display = self._display
        if display is not None:
            display.sync()
        yield self.make_tasks_table(self.tasks)
        if display is not None:
            yield display.stats()


class RerunDisplay(Generic[P]):
    """A progress display fed by ``rerun(on_progress=display.update)``.

    Line 1: the bar, finished/total, elapsed time and ETA. Line 2: cloned, running,
    done (completed), failed (failed, canceled, errors, ambiguous), skipped, the rate in
    jobs/s and, under a budget, the campaign's committed spend against it. On a terminal
    it is redrawn every ``LIVE_INTERVAL`` s; otherwise a plain line every ``PLAIN_INTERVAL``
    s. Either way it is drawn once more, with the final numbers, when it stops.
    """

    def __init__(
        self,
        console: Console,
        total: int,
        *,
        title: str = "re-running",
        unit: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.console = console
        self.total = total
        self.title = title
        self.unit = unit
        self.live = console.is_terminal and not console.is_dumb_terminal
        self.interval = LIVE_INTERVAL if self.live else PLAIN_INTERVAL
        self.latest: P | None = None
        self.renders = 0
        """How many times the display has been drawn (a live frame or a plain line)."""
        self._clock = clock
        self._sleep = sleep
        self._started_at = clock()
        self._due = self._started_at + self.interval
        self._ticker: asyncio.Task[None] | None = None
        self._running = False
        self.progress = _TwoLineProgress(
            self,
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=30, complete_style="green", finished_style="bold green"),
            MofNCompleteColumn(),
            TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("[dim]ETA[/]"),
            TimeRemainingColumn(),
            console=console,
            clock=clock,
        )
        self.task = self.progress.add_task(title, total=total)

    def update(self, p: P) -> None:
        """The ``on_progress`` callback: keep the counters; drawing is the ticker's job."""
        self.latest = p

    def tick(self) -> bool:
        """Draw if the last draw is at least ``interval`` ago; True if it drew."""
        now = self._clock()
        if not self._running or now < self._due:
            return False
        self._due = now + self.interval
        self._draw()
        return True

    def sync(self) -> None:
        """Move the bar to the latest counters (called as a live frame is drawn)."""
        self.renders += 1
        p = self.latest
        if p is not None:
            self.progress.update(self.task, completed=p.done)

    def stats(self) -> Text:
        """The counters line of the latest progress."""
        task = self.progress.tasks[0]
        speed = task.finished_speed or task.speed
        return self._stats(speed)

    def _stats(self, speed: float | None) -> Text:
        p = self.latest
        if p is None:
            return Text("  starting", style="dim")
        failed = p.failed + p.canceled + p.errors + p.ambiguous
        text = Text.assemble(
            "  ",
            ("clones ", "dim"),
            (f"{p.cloned:,}", "bold"),
            ("   running ", "dim"),
            (f"{min(p.running, self.total - p.done):,}", "bold blue"),
            ("   done ", "dim"),
            (f"{p.completed:,}", "bold green"),
            ("   failed ", "dim"),
            (f"{failed:,}", "bold red" if failed else "bold"),
            ("   ", ""),
            (f"{speed:,.1f} jobs/s" if speed else "-- jobs/s", "cyan"),
        )
        skipped: int = getattr(p, "skipped", 0)
        if skipped:
            text.append_text(Text.assemble(("   skipped ", "dim"), (f"{skipped:,}", "bold yellow")))
        spent: float | None = getattr(p, "campaign_spent", None)
        if spent is None:
            spent = getattr(p, "spent", None)
        max_cost: float | None = getattr(p, "max_cost", None)
        if spent is not None and max_cost is not None:
            unit = f" {self.unit}" if self.unit else ""
            text.append_text(
                Text.assemble(
                    ("   spent ", "dim"),
                    (f"{spent:,.2f}", "bold"),
                    (f" / {max_cost:,.2f}{unit}", "dim"),
                )
            )
        return text

    def plain_line(self) -> Text:
        """One line of progress for a log: finished/total, share, elapsed, the counters."""
        self.renders += 1
        elapsed = self._clock() - self._started_at
        done = 0 if self.latest is None else self.latest.done
        share = done / self.total if self.total else 1.0
        speed = done / elapsed if elapsed > 0 else None
        head = Text(f"{self.title} {done:,}/{self.total:,} ({share:.0%}) {elapsed:,.1f} s")
        return head.append_text(self._stats(speed))

    def _draw(self) -> None:
        if self.live:
            self.progress.refresh()
        else:
            self.console.print(self.plain_line(), soft_wrap=True)

    async def _tick_until_stopped(self) -> None:
        while self._running:
            await self._sleep(self.interval)
            self.tick()

    def start(self) -> None:
        """Show the display, and tick in the running event loop (if any)."""
        if self._running:
            return
        self._running = True
        if self.live:
            self.progress.start()
        with contextlib.suppress(RuntimeError):
            self._ticker = asyncio.get_running_loop().create_task(self._tick_until_stopped())

    def stop(self) -> None:
        """Stop ticking; draw the final numbers once (a second call does nothing)."""
        if not self._running:
            return
        self._running = False
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.live:
            self.progress.stop()
        else:
            self.console.print(self.plain_line(), soft_wrap=True)

    def __enter__(self) -> RerunDisplay[P]:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
