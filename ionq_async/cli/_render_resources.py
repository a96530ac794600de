"""rich output of the resource commands: backends, whoami, sessions and results histograms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from .._models.api import Backend, Session, SessionSettings, Whoami
from .._models.results import CircuitResult, bitstring
from ._base import plain
from ._render import safe

__all__ = [
    "Outcome",
    "backends_table",
    "bar",
    "histogram",
    "limits_text",
    "outcomes",
    "queue_time",
    "session_table",
    "sessions_table",
    "whoami_table",
]

BAR_WIDTH = 40
_EIGHTHS = " ▏▎▍▌▋▊▉"
_STATUS_STYLES = {
    "available": "green",
    "unavailable": "yellow",
    "retired": "dim",
    "created": "cyan",
    "started": "blue",
    "ended": "dim",
}

Outcome = tuple[str, float, int | None]
"""One row of a histogram: bitstring, probability, count (None when unknown)."""


def _status(value: object) -> Text:
    word = plain(value)
    return Text(word, style=_STATUS_STYLES.get(word, "white"))


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def queue_time(ms: float | None) -> str:
    """A queue time in milliseconds for people: ``45s``, ``19m 41s``, ``2h 5m``, ``3d 4h``."""
    if ms is None:
        return ""
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def backends_table(backends: Sequence[Backend]) -> Table:
    """Backends one per row: name, status, qubits, average queue time, degraded."""
    table = Table(box=box.SIMPLE_HEAD, title="Backends", title_style="bold", pad_edge=False)
    table.add_column("backend", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("qubits", justify="right")
    table.add_column("queue time", justify="right", no_wrap=True)
    table.add_column("degraded")
    for b in backends:
        degraded: Text | str = Text("yes", style="red") if b.degraded else ""
        if b.degraded is False:
            degraded = "no"
        qubits = str(b.qubits) if b.qubits is not None else ""
        table.add_row(
            safe(b.name), _status(b.status), qubits, queue_time(b.average_queue_time), degraded
        )
    return table


def whoami_table(me: Whoami) -> Table:
    """The key's name, id and project as a field/value table."""
    table = Table(box=box.ROUNDED, show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("key name", Text(plain(me.key_name), style="bold"))
    table.add_row("key id", safe(me.key_id))
    table.add_row("project", safe(me.project_id or ""))
    return table


def limits_text(settings: SessionSettings) -> str:
    """A session's limits in words, e.g. ``5 jobs · 30 min · 10.00 USD`` (or ``none``)."""
    parts = []
    if settings.job_count_limit is not None:
        word = "job" if settings.job_count_limit == 1 else "jobs"
        parts.append(f"{settings.job_count_limit:,} {word}")
    if settings.duration_limit_min is not None:
        parts.append(f"{settings.duration_limit_min:,} min")
    if settings.cost_limit is not None:
        parts.append(f"{settings.cost_limit.value:,.2f} {settings.cost_limit.unit.upper()}")
    return " · ".join(parts) or "none"


def sessions_table(sessions: Sequence[Session], *, title: str, width: int = 120) -> Table:
    """Sessions one per row: id, status, backend, created, ended, limits (shorter when narrow).

    Below 130 columns times lose their year and seconds, and below 110 they go (the status
    says whether a session ended; `--json` has every field): the rest stays readable at 80.
    """
    stamp = "%m-%d %H:%M" if width < 130 else "%Y-%m-%d %H:%M:%S"
    with_times = width >= 110
    table = Table(box=box.SIMPLE_HEAD, title=title, title_style="bold", pad_edge=False)
    table.add_column("session id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True)
    table.add_column("backend", no_wrap=True)
    if with_times:
        table.add_column("created", no_wrap=True)
        table.add_column("ended", no_wrap=True)
    table.add_column("limits", overflow="fold")
    for s in sessions:
        times = [s.created_at, s.ended_at] if with_times else []
        table.add_row(
            safe(s.id),
            _status(s.status),
            safe(s.backend or ""),
            *(t.strftime(stamp) if t is not None else "" for t in times),
            limits_text(s.settings),
        )
    return table


def session_table(session: Session) -> Table:
    """One session as a field/value table."""
    table = Table(box=box.ROUNDED, show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    rows: list[tuple[str, str | Text]] = [
        ("session", Text(plain(session.id), style="bold")),
        ("status", _status(session.status)),
        ("backend", session.backend or ""),
        ("limits", limits_text(session.settings)),
        ("created", _when(session.created_at)),
        ("started", _when(session.started_at)),
        ("expires", _when(session.settings.expires_at)),
        ("ended", _when(session.ended_at)),
        ("project", session.project_id or ""),
    ]
    for name, value in rows:
        if value:
            table.add_row(name, safe(value))
    return table


def outcomes(
    result: CircuitResult, *, sort: str = "probability", top: int | None = None
) -> list[Outcome]:
    """The measured outcomes of ``result`` (the ``top`` most likely), ordered by ``sort``.

    ``sort`` is "probability" (most likely first) or "bitstring".
    """
    counts = result.counts or {}
    states = set(result.probabilities) | set(counts)
    chosen = sorted(states, key=lambda s: (-result.probabilities.get(s, 0.0), s))[:top]
    if sort == "bitstring":
        chosen.sort()
    return [
        (
            bitstring(s, result.qubits),
            result.probabilities.get(s, 0.0),
            counts.get(s, 0) if result.counts is not None else None,
        )
        for s in chosen
    ]


def bar(fraction: float, width: int = BAR_WIDTH, *, ascii: bool = False) -> str:
    """A bar ``fraction`` (0..1) of ``width`` cells long, in eighth blocks (``#`` with ascii)."""
    fraction = min(max(fraction, 0.0), 1.0)
    if ascii:
        return "#" * round(fraction * width)
    eighths = round(fraction * width * 8)
    if fraction > 0:
        eighths = max(eighths, 1)  # an outcome seen at all gets a sliver
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def histogram(
    result: CircuitResult,
    *,
    title: str,
    sort: str = "probability",
    top: int | None = None,
    ascii: bool = False,
) -> Table:
    """One circuit's outcomes as rows: bitstring, probability, count, a bar scaled to the max."""
    shown = outcomes(result, sort=sort, top=top)
    total = len(set(result.probabilities) | set(result.counts or {}))
    highest = max(result.probabilities.values(), default=0.0)
    table = Table(box=box.SIMPLE_HEAD, title=title, title_style="bold", pad_edge=False)
    table.add_column("bitstring", no_wrap=True, style="bold")
    table.add_column("probability", justify="right", no_wrap=True)
    if result.counts is not None:
        table.add_column("count", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, style="cyan")
    for bits, p, n in shown:
        cells = [bits, f"{p:.3f}"]
        if result.counts is not None:
            cells.append(f"{n:,}" if n is not None else "")
        cells.append(bar(p / highest if highest else 0.0, ascii=ascii))
        table.add_row(*cells)
    notes = [f"{total:,} outcome{'s' if total != 1 else ''}"]
    if len(shown) < total:
        notes[0] = f"top {len(shown):,} of {notes[0]}"
    if result.shots is not None:
        notes.append(f"{result.shots:,} shots")
    if result.counts_derived:
        notes.append("counts derived from probabilities")
    table.caption = " · ".join(notes)
    return table
