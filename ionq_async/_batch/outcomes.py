"""A batch's outcomes kept as columns, read back as `RerunOutcome`s in input order.

A report of 100,000 outcomes held as 100,000 objects gives Python's cyclic collector
100,000 more objects to scan at every full collection while the batch still runs (a
tenth of the client's CPU per job at that size, measured in docs/BENCHMARKS.md). Held as
a dozen lists of strings, numbers and times, it gives it a dozen; the few outcomes that
carry an object the collector tracks (a failure, an error, a kept `Job`) keep it aside.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, overload

from .._core.fastpath import slot_filler
from .._models.jobs import Failure, Job
from .types import RerunOutcome

__all__ = ["OutcomeColumns", "Outcomes"]

_outcome = slot_filler(RerunOutcome)


class OutcomeColumns:
    """Outcomes as they arrive, one row per source (a source's later outcome replaces it)."""

    __slots__ = (
        "_attempts",
        "_completed",
        "_cost",
        "_job_id",
        "_objects",
        "_reason",
        "_row",
        "_source",
        "_started",
        "_status",
        "_submitted",
    )

    def __init__(self) -> None:
        self._row: dict[str, int] = {}
        self._source: list[str] = []
        self._job_id: list[str | None] = []
        self._status: list[str] = []
        self._attempts: list[int] = []
        self._reason: list[str | None] = []
        self._cost: list[float | None] = []
        self._submitted: list[datetime | None] = []
        self._started: list[datetime | None] = []
        self._completed: list[datetime | None] = []
        self._objects: dict[int, tuple[Job | None, BaseException | None, Failure | None]] = {}

    def __len__(self) -> int:
        return len(self._source)

    def __contains__(self, source_id: object) -> bool:
        return source_id in self._row

    def add(self, o: RerunOutcome) -> None:
        """Keep `o` as its source's outcome."""
        row = self._row.get(o.source_id)
        if row is None:
            self._row[o.source_id] = len(self._source)
            self._source.append(o.source_id)
            self._job_id.append(o.job_id)
            self._status.append(o.status)
            self._attempts.append(o.attempts)
            self._reason.append(o.reason)
            self._cost.append(o.cost)
            self._submitted.append(o.submitted_at)
            self._started.append(o.started_at)
            self._completed.append(o.completed_at)
            row = len(self._source) - 1
        else:
            self._job_id[row], self._status[row] = o.job_id, o.status
            self._attempts[row], self._reason[row], self._cost[row] = o.attempts, o.reason, o.cost
            self._submitted[row], self._started[row] = o.submitted_at, o.started_at
            self._completed[row] = o.completed_at
        if o.job is not None or o.error is not None or o.failure is not None:
            self._objects[row] = (o.job, o.error, o.failure)
        else:
            self._objects.pop(row, None)

    def in_order(self, source_ids: Iterable[str], *, complete: bool = True) -> Outcomes:
        """The outcomes of `source_ids`, in that order; a KeyError for one without an
        outcome if `complete`, else it is left out."""
        rows = self._row
        if complete:
            order = [rows[s] for s in source_ids]
        else:
            order = [rows[s] for s in source_ids if s in rows]
        return Outcomes(self, order)

    def build(self, row: int) -> RerunOutcome:
        """The `RerunOutcome` kept in `row`."""
        job, error, failure = self._objects.get(row, (None, None, None))
        outcome: RerunOutcome = _outcome(
            self._source[row],
            self._job_id[row],
            self._status[row],
            job,
            error,
            self._attempts[row],
            self._reason[row],
            self._cost[row],
            failure,
            self._submitted[row],
            self._started[row],
            self._completed[row],
        )
        return outcome

    def status(self, row: int) -> str:
        """The status kept in `row`."""
        return self._status[row]


class Outcomes(Sequence[RerunOutcome]):
    """A report's outcomes in input order: an immutable sequence of `RerunOutcome`.

    Each item is built when read, so two reads give equal, not identical, outcomes. It
    compares equal to a tuple or list of the same outcomes, and is pickled as that tuple.
    """

    __slots__ = ("_columns", "_order")

    def __init__(self, columns: OutcomeColumns, order: list[int]) -> None:
        self._columns = columns
        self._order = order

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> RerunOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[RerunOutcome]: ...

    def __getitem__(self, index: int | slice) -> RerunOutcome | Sequence[RerunOutcome]:
        if isinstance(index, slice):
            return Outcomes(self._columns, self._order[index])
        return self._columns.build(self._order[index])

    def __iter__(self) -> Iterator[RerunOutcome]:
        build = self._columns.build
        return (build(row) for row in self._order)

    def statuses(self) -> Iterator[str]:
        """Each outcome's status, in order, without building the outcomes."""
        status = self._columns.status
        return (status(row) for row in self._order)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Outcomes | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        if len(self) <= 10:
            return f"Outcomes({list(self)!r})"
        counts: dict[str, int] = {}
        for status in self.statuses():
            counts[status] = counts.get(status, 0) + 1
        shown = ", ".join(f"{status}={n}" for status, n in counts.items())
        return f"Outcomes(<{len(self)} outcomes: {shown}>)"

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple, (tuple(self),)
