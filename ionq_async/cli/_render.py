"""rich output of the ``ionq-async`` CLI: job tables, the rerun summary and its problems.

Imported only by CLI code paths, after checking that rich is installed (the ``cli`` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rich import box
from rich.table import Table
from rich.text import Text

from ._base import describe_error, plain

if TYPE_CHECKING:
    from .._models.jobs import Failure, Job

__all__ = [
    "STATUS_STYLES",
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
    word = plain(status)
    return Text(word, style=STATUS_STYLES.get(word, "white"))


def safe(value: object) -> Text:
    """A server's text as a cell: its `[markup]` not read as rich markup, its controls removed."""
    return value if isinstance(value, Text) else Text(plain(value))


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
            table.add_row(safe(name), safe(value))
    return table


_NAME = 2
"""The name's column in `jobs_table`."""


def jobs_table(jobs: Sequence[Job], *, title: str | None = None, width: int = 120) -> Table:
    """Jobs one per row: id, status, name, backend, shots, submitted (fewer when narrow)."""
    wide = width >= 110
    rows: list[list[Text]] = []
    for job in jobs:
        row: list[str | Text] = [job.id, status_text(job.status), job.name or ""]
        if wide:
            row.append(job.backend or "")
        row.append(f"{job.shots:,}" if job.shots is not None else "")
        row.append(job.submitted_at.strftime("%m-%d %H:%M") if job.submitted_at else "")
        rows.append([safe(cell) for cell in row])
    headers = ["job id", "status", "name", *(["backend"] if wide else []), "shots", "submitted"]
    # A no_wrap cell is measured at its full length: a long name (the API sets no limit)
    # would squeeze the other columns out of the table, so it gets what they leave.
    fixed = [
        max(len(header), 36 if i == 0 else 9 if i == 1 else 0, *(r[i].cell_len for r in rows))
        for i, header in enumerate(headers)
        if i != _NAME
    ]
    name_width = max(1, width - sum(fixed) - 3 * len(fixed) - 2)
    table = Table(box=box.SIMPLE_HEAD, title=title, title_style="bold", pad_edge=False)
    table.add_column("job id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("name", overflow="ellipsis", no_wrap=True, ratio=1, max_width=name_width)
    if wide:
        table.add_column("backend", no_wrap=True)
    table.add_column("shots", justify="right", no_wrap=True)
    table.add_column("submitted", no_wrap=True)
    for cells in rows:
        table.add_row(*cells)
    return table


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
        table.add_row(safe(o.source_id), status_text(o.status), safe(reason))
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
