"""Reading a completed job's results: every result kind it offers, and its child circuits."""

from __future__ import annotations

import asyncio
from typing import Any

from .._core import api
from .._core.http import RequestPath
from .._core.operations import JobOperations
from .._core.retry import RetryPolicy
from .._models.job_types import QAOA, QUANTUM_FUNCTION
from .._models.jobs import Job, JobStatus
from .._models.results import CircuitResult, CountsSource, Results
from ..errors import JobCanceledError, JobError, JobFailedError
from .result_formats import (
    AGGREGATE,
    KINDS,
    derive_counts,
    read_aggregate,
    read_histogram,
    read_probabilities,
    read_shots,
    tally,
)
from .results import Source, find_source

__all__ = ["ResultReader"]

CHILD_READS = 16
"""Child circuits of a multi-circuit job read at once."""
_FUNCTION_TYPES = (QUANTUM_FUNCTION, QAOA)


def _completed(job: Job) -> Job:
    if job.status == JobStatus.FAILED:
        raise JobFailedError(job)
    if job.status == JobStatus.CANCELED:
        raise JobCanceledError(job)
    if job.status != JobStatus.COMPLETED:
        raise JobError(
            f"job {job.id} is {job.status}; its results exist once it is completed",
            job_id=job.id,
        )
    return job


class ResultReader:
    """Reads results through one client's request path."""

    def __init__(self, http: RequestPath, ops: JobOperations) -> None:
        self._http = http
        self._ops = ops

    async def _fetch(self, source: Source | None, retry: RetryPolicy | None) -> Any:
        if source is None:
            return None
        return await self._http.send(source[1], retry)

    def _source(self, job: Job, kind: str) -> Source | None:
        return find_source(self._http.base_url, job.id, job.results, KINDS[kind], kind)

    async def circuit(self, job: Job, retry: RetryPolicy | None) -> CircuitResult:
        """One circuit job's probabilities, counts and shots, from whatever it offers."""
        sources = {kind: self._source(job, kind) for kind in KINDS}
        if not any(sources.values()) and job.type not in _FUNCTION_TYPES:
            sources["probabilities"] = (None, api.GET_JOB_PROBABILITIES(job.id, None))
        probs_data, hist_data, shots_data = await asyncio.gather(
            *(self._fetch(sources[kind], retry) for kind in KINDS)
        )
        widths: list[int | None] = []
        probabilities: dict[int, float] = {}
        counts: dict[int, int] | None = None
        source: CountsSource | None = None
        samples: tuple[int, ...] | None = None
        if probs_data is not None:
            probabilities, width = read_probabilities(probs_data, _fmt(sources["probabilities"]))
            widths.append(width)
        if shots_data is not None:
            samples, width = read_shots(shots_data, _fmt(sources["shots"]))
            widths.append(width)
            counts, source = tally(samples), "shots"
        if hist_data is not None:
            counts, width = read_histogram(hist_data, _fmt(sources["histogram"]))
            widths.append(width)
            source = "histogram"
        if counts is not None and not probabilities and (total := sum(counts.values())):
            probabilities = {k: n / total for k, n in counts.items()}
        if counts is None and job.shots is not None and probabilities:
            counts, source = derive_counts(probabilities, job.shots), "probabilities"
        return CircuitResult(
            job_id=job.id,
            name=job.name,
            qubits=_width(job, widths, probabilities, counts),
            probabilities=probabilities,
            shots=job.shots,
            counts=counts,
            counts_source=source,
            samples=samples,
        )

    async def results(self, job_id: str, retry: RetryPolicy | None) -> Results:
        """A completed job's Results (a multi-circuit job's children read concurrently)."""
        job = _completed(await self._ops.get(job_id, retry=retry))
        if not job.child_job_ids:
            own = await self.circuit(job, retry) if job.type not in _FUNCTION_TYPES else None
            fields = _fields(own) if own else {"job_id": job.id, "name": job.name, "qubits": 1}
            return Results(**fields, shots=job.shots, raw=job.results)
        slots = asyncio.Semaphore(CHILD_READS)

        async def child(child_id: str) -> CircuitResult:
            async with slots:
                return await self.circuit(await self._ops.get(child_id, retry=retry), retry)

        aggregate_source = find_source(
            self._http.base_url, job.id, job.results, (AGGREGATE,), "probabilities"
        )
        aggregate_data, *parts = await asyncio.gather(
            self._fetch(aggregate_source, retry), *(child(c) for c in job.child_job_ids)
        )
        children = {part.job_id: part for part in parts}
        aggregate = (
            read_aggregate(aggregate_data)
            if aggregate_data is not None
            else {cid: part.probabilities for cid, part in children.items()}
        )
        return Results(
            job_id=job.id,
            name=job.name,
            qubits=max((p.qubits for p in parts), default=1),
            shots=job.shots,
            children=children,
            aggregate=aggregate,
            raw=job.results,
        )


def _fmt(source: Source | None) -> str | None:
    return source[0] if source else None


def _fields(result: CircuitResult) -> dict[str, Any]:
    return {
        "job_id": result.job_id,
        "name": result.name,
        "qubits": result.qubits,
        "probabilities": result.probabilities,
        "counts": result.counts,
        "counts_source": result.counts_source,
        "samples": result.samples,
    }


def _width(
    job: Job,
    widths: list[int | None],
    probabilities: dict[int, float],
    counts: dict[int, int] | None,
) -> int:
    """The widest of: the job's stated qubits, the payloads' bit width, the top state's bits."""
    stated = job.stats.get("qubits")
    if not isinstance(stated, int) or isinstance(stated, bool):
        stated = 0
    states = [*probabilities, *(counts or {})]
    bits = max((s.bit_length() for s in states), default=0)
    return max(stated, bits, *(w for w in widths if w), 1)
