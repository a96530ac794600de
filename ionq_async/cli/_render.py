"""rich output of the ``ionq-async`` CLI: job tables, the live rerun progress, the summary.

Imported only by CLI code paths, after checking that rich is installed (the ``cli`` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rich import box
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ._base import describe_error

if TYPE_CHECKING:
    from .._models.jobs import Failure, Job

__all__ = [
    "STATUS_STYLES",
    "RerunDisplay",
    "job_table",
    "jobs_table",
    "probabilities_table",
    "problems",
    "status_text",
    "summary",
]

STATUS_STYLES = {
    "completed": "green",
    "failed": "red",
    "canceled": "yellow",
    "error": "bold red",
    "ambiguous": "magenta",
    "submitted": "cyan",
    "ready": "cyan",
    "started": "blue",
    "skipped": "yellow",
}


class Progressish(Protocol):
    """What the display reads of a ``RerunProgress``."""

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


class Outcomeish(Protocol):
    """What the summary reads of a ``RerunOutcome``."""

    @property
    def source_id(self) -> str: ...
    @property
    def job_id(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def failure(self) -> Failure | None: ...
    @property
    def error(self) -> BaseException | None: ...


class Reportish(Protocol):
    """What the summary reads of a ``RerunReport``."""

    @property
    def outcomes(self) -> Sequence[Outcomeish]: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def duration(self) -> float: ...


_ORDER = ("completed", "failed", "canceled", "error", "ambiguous", "submitted", "skipped")
_MAX_PROBLEMS = 8


def status_text(status: object) -> Text:
    """A status word in its colour."""
    word = str(status)
    return Text(word, style=STATUS_STYLES.get(word, "white"))


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def job_table(job: Job) -> Table:
    """One job as a two-column field/value table."""
    table = Table(box=box.ROUNDED, show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    noise = None
    if job.noise is not None:
        seed = job.noise.seed
        noise = job.noise.model + (f" (seed {seed})" if seed is not None else "")
    rows: list[tuple[str, str | Text | None]] = [
        ("job", Text(job.id, style="bold")),
        ("status", status_text(job.status)),
        ("name", job.name),
        ("backend", job.backend),
        ("type", job.type),
        ("shots", f"{job.shots:,}" if job.shots is not None else None),
        ("noise", noise),
        ("dry run", "yes" if job.dry_run else None),
        ("submitted", _when(job.submitted_at) or None),
        ("started", _when(job.started_at) or None),
        ("completed", _when(job.completed_at) or None),
        (
            "execution",
            f"{job.execution_duration_ms:,} ms" if job.execution_duration_ms is not None else None,
        ),
        ("failure", f"{job.failure.code}: {job.failure.message}" if job.failure else None),
        ("parent", job.parent_job_id),
        ("session", job.session_id),
    ]
    rows += [(f"metadata.{key}", text) for key, text in (job.metadata or {}).items()]
    for name, value in rows:
        if value:
            table.add_row(name, value)
    return table


def jobs_table(jobs: Sequence[Job], *, title: str | None = None, width: int = 120) -> Table:
    """Jobs one per row: id, status, name, backend, shots, submitted (fewer when narrow)."""
    wide = width >= 110
    table = Table(box=box.SIMPLE_HEAD, title=title, title_style="bold", pad_edge=False)
    table.add_column("job id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("name", overflow="ellipsis", no_wrap=True, ratio=1)
    if wide:
        table.add_column("backend", no_wrap=True)
    table.add_column("shots", justify="right", no_wrap=True)
    table.add_column("submitted", no_wrap=True)
    for job in jobs:
        row: list[str | Text] = [job.id, status_text(job.status), job.name or ""]
        if wide:
            row.append(job.backend or "")
        row.append(f"{job.shots:,}" if job.shots is not None else "")
        row.append(job.submitted_at.strftime("%m-%d %H:%M") if job.submitted_at else "")
        table.add_row(*row)
    return table


class _TwoLineProgress(Progress):
    """A progress bar with the batch counters on a second line."""

    stats = Text()

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield self.stats


class RerunDisplay:
    """A live progress display fed by ``rerun(on_progress=display.update)``.

    Line 1: the bar, finished/total, elapsed time and ETA. Line 2: cloned, running,
    done (completed), failed (failed, canceled, errors, ambiguous), skipped, the rate in
    jobs/s and, under a budget, the committed spend against it.
    """

    def __init__(
        self, console: Console, total: int, *, title: str = "re-running", unit: str | None = None
    ) -> None:
        self.total = total
        self.unit = unit
        self.progress = _TwoLineProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=30, complete_style="green", finished_style="bold green"),
            MofNCompleteColumn(),
            TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("[dim]ETA[/]"),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=12,
            speed_estimate_period=5.0,
        )
        self.progress.stats = Text()
        self.task = self.progress.add_task(title, total=total)
        self._last: tuple[object, ...] = ()

    def update(self, p: Progressish) -> None:
        """The ``on_progress`` callback."""
        failed = p.failed + p.canceled + p.errors + p.ambiguous
        skipped: int = getattr(p, "skipped", 0)
        spent: float | None = getattr(p, "spent", None)
        max_cost: float | None = getattr(p, "max_cost", None)
        key = (p.done, p.cloned, p.completed, failed, skipped, spent)
        if key == self._last:
            return
        self._last = key
        self.progress.update(self.task, completed=p.done)
        task = self.progress.tasks[0]
        speed = task.finished_speed or task.speed
        rate = f"{speed:,.1f} jobs/s" if speed else "-- jobs/s"
        self.progress.stats = Text.assemble(
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
            (rate, "cyan"),
        )
        if skipped:
            self.progress.stats.append_text(
                Text.assemble(("   skipped ", "dim"), (f"{skipped:,}", "bold yellow"))
            )
        if spent is not None and max_cost is not None:
            unit = f" {self.unit}" if self.unit else ""
            self.progress.stats.append_text(
                Text.assemble(
                    ("   spent ", "dim"),
                    (f"{spent:,.2f}", "bold"),
                    (f" / {max_cost:,.2f}{unit}", "dim"),
                )
            )

    def __enter__(self) -> RerunDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()


def summary(report: Reportish, *, title: str = "Rerun summary") -> Table:
    """Counts by outcome with shares; the duration and throughput as the caption."""
    total = len(report.outcomes)
    table = Table(box=box.ROUNDED, title=title, title_style="bold", min_width=40)
    table.add_column("outcome")
    table.add_column("jobs", justify="right")
    table.add_column("share", justify="right")
    counts = {k: v for k, v in report.counts.items() if v}
    for status in sorted(counts, key=lambda s: (*_ORDER, s).index(s)):
        count = counts[status]
        table.add_row(status_text(status), f"{count:,}", f"{count / max(total, 1):.1%}")
    table.add_section()
    table.add_row(Text("total", style="bold"), f"{total:,}", "100.0%" if total else "")
    retried = sum(1 for o in report.outcomes if getattr(o, "attempts", 1) > 1)
    rate = total / report.duration if report.duration > 0 else 0.0
    caption = f"{report.duration:.1f} s · {rate:,.1f} jobs/s"
    if retried:
        caption += f" · {retried:,} retried"
    unit = getattr(report, "cost_unit", None)
    if unit is not None:
        estimated = getattr(report, "estimated_cost", None) or 0.0
        actual = getattr(report, "actual_cost", None) or 0.0
        spend = f"estimated {estimated:,.2f} {unit} · actual {actual:,.2f} {unit}"
        caption += "\n" + spend
        table.min_width = max(40, len(spend) + 2)
    table.caption = caption
    return table


def problems(outcomes: Iterable[Outcomeish], *, limit: int = _MAX_PROBLEMS) -> Table | None:
    """Sources that did not complete (the first ``limit``), with the reason."""
    bad = [o for o in outcomes if o.status not in ("completed", "submitted")]
    if not bad:
        return None
    table = Table(box=box.SIMPLE_HEAD, title="Not completed", title_style="bold red")
    table.add_column("source job", no_wrap=True)
    table.add_column("outcome")
    table.add_column("reason", overflow="fold")
    for o in bad[:limit]:
        reason = ""
        if o.failure is not None:
            reason = f"{o.failure.code}: {o.failure.message}"
        elif o.error is not None:
            reason = describe_error(o.error) or ""
        elif o.status == "canceled":
            reason = "the job was canceled"
        elif getattr(o, "reason", None):
            reason = str(getattr(o, "reason", ""))
        table.add_row(o.source_id, status_text(o.status), reason)
    if len(bad) > limit:
        table.caption = f"... and {len(bad) - limit:,} more (--out FILE writes every outcome)"
    return table


def probabilities_table(rows: Sequence[tuple[str, str, Mapping[str, float]]]) -> Table:
    """``(label, job id, {state: p})`` rows, states as IonQ keys them (qubit 0 = lowest bit)."""
    table = Table(box=box.ROUNDED, title="Probabilities", title_style="bold")
    table.add_column("circuit")
    table.add_column("job", no_wrap=True)
    table.add_column("state: probability")
    for label, jid, probs in rows:
        parts = [
            f"[bold]{s}[/]: {p:.3f}"
            for s, p in sorted(probs.items(), key=lambda kv: int(kv[0]))
            if p > 0
        ]
        table.add_row(label, jid[:8], "   ".join(parts))
    return table
