"""What a batch re-run will cost before it runs: sources read in chunks, one estimate per shape."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from attrs import field, frozen

from .._core import defaults as d
from .._core.queries import estimate_params, id_list
from .._core.retry import RetryPolicy
from .._models.answers import CostEstimate
from .._models.job_types import JOB_TYPES
from .._models.jobs import Job, Money, check_job_id
from ..errors import IonQError, NotFoundError

__all__ = ["EstimateOperations", "RerunEstimate", "SourceEstimate", "estimate_rerun"]

logger = logging.getLogger("ionq_async")


class EstimateOperations(Protocol):
    """What an estimate needs: source jobs (many at once, or one) and the estimate call."""

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...

    async def read_many(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Job] | None: ...

    async def estimate(
        self, params: Sequence[tuple[str, str]], *, retry: RetryPolicy | None = None
    ) -> CostEstimate: ...


@frozen(kw_only=True)
class SourceEstimate:
    """One source's clone as estimated: the parameters sent and the price."""

    source_id: str
    backend: str
    shots: int | None
    qubits: int
    one_qubit_gates: int
    two_qubit_gates: int
    error_mitigation: bool
    cost: Money


@frozen(kw_only=True)
class RerunEstimate:
    """The estimate of a batch: total, per backend, per source, and what could not be estimated.

    `unestimated` maps a source id to why it has no estimate (no stats, unknown backend,
    not found); such a source is never counted as zero.
    """

    total: Money
    by_backend: Mapping[str, Money]
    estimates: tuple[SourceEstimate, ...]
    unestimated: Mapping[str, str] = field(factory=dict)
    requests: int = 0

    @property
    def complete(self) -> bool:
        """True when every source has an estimate."""
        return not self.unestimated

    def cost_of(self, source_id: str) -> float | None:
        """The estimated cost of one source's clone, if it has one."""
        for e in self.estimates:
            if e.source_id == source_id:
                return e.cost.value
        return None


_Shape = tuple[str, str | None, int, int | None, int, int, bool]


def _shape(source: Job, body: Mapping[str, Any]) -> _Shape | str:
    """The estimate parameters of a source's clone, or why it cannot be estimated."""
    backend = body.get("backend") or source.backend
    if not backend:
        return "the source names no backend"
    stats = source.stats or {}
    counts = stats.get("gate_counts")
    qubits = stats.get("qubits")
    if not isinstance(counts, dict) or not isinstance(qubits, int) or qubits < 1:
        return "the source job has no stats (qubits and gate counts) to estimate from"
    one_q, two_q = counts.get("1q", 0), counts.get("2q", 0)
    if not all(isinstance(n, int) and n >= 0 for n in (one_q, two_q)):
        return "the source job's gate counts are not counts"
    shots = body.get("shots", source.shots)
    mitigation = _error_mitigation(source.settings, body.get("settings"))
    kind = source.type if source.type in JOB_TYPES else None
    return (backend, kind, qubits, shots, one_q, two_q, mitigation)


def _error_mitigation(source: Mapping[str, Any] | None, override: Any) -> bool:
    """Whether the clone runs with error mitigation: the request's switches over the source's."""
    merged: dict[str, Any] = {}
    for settings in (source, override):
        em = settings.get("error_mitigation") if isinstance(settings, Mapping) else None
        if isinstance(em, Mapping):
            merged.update({k: v for k, v in em.items() if v is not None})
    return bool(merged.get("debiasing") or merged.get("symmetry_verification"))


async def _read_sources(
    ops: EstimateOperations, ids: list[str], retry: RetryPolicy | None
) -> tuple[dict[str, Job], dict[str, str], int]:
    """Every source job (in chunks of `GET /jobs?ids=`), the ones not read, and requests sent."""
    found: dict[str, Job] = {}
    missing: dict[str, str] = {}
    requests = 0
    for i in range(0, len(ids), d.CHUNK_IDS):
        chunk = ids[i : i + d.CHUNK_IDS]
        requests += 1
        many = await ops.read_many(chunk, retry=retry)
        if many is not None:
            found.update(many)
        for job_id in chunk:
            if job_id in found:
                continue
            requests += 1
            try:
                found[job_id] = await ops.get(job_id, retry=retry)
            except NotFoundError:
                missing[job_id] = "the source job was not found"
    return found, missing, requests


async def estimate_rerun(
    ops: EstimateOperations,
    source_ids: Iterable[str],
    body: Mapping[str, Any],
    *,
    retry: RetryPolicy | None = None,
) -> RerunEstimate:
    """Estimate cloning every source with `body`: one estimate call per distinct shape.

    A source that is no job id is unestimated, with why, as `rerun_all` gives it an
    `error` outcome: the rest of the batch is still estimated.
    """
    ids = id_list(source_ids, "source_ids", unique=True)
    malformed: dict[str, str] = {}
    for source_id in ids:
        try:
            check_job_id(source_id, "source_id")
        except ValueError as exc:
            malformed[source_id] = f"not a job id: {exc}"
    readable = [i for i in ids if i not in malformed]
    sources, unestimated, requests = await _read_sources(ops, readable, retry)
    unestimated.update(malformed)
    shapes: dict[str, _Shape] = {}
    for source_id in ids:
        if source_id in unestimated:
            continue
        shape = _shape(sources[source_id], body)
        if isinstance(shape, str):
            unestimated[source_id] = shape
        else:
            shapes[source_id] = shape
    distinct = list(dict.fromkeys(shapes.values()))
    answers = await asyncio.gather(
        *(_estimate_one(ops, shape, retry) for shape in distinct), return_exceptions=True
    )
    requests += len(distinct)
    priced: dict[_Shape, CostEstimate | str] = {}
    for shape, answer in zip(distinct, answers, strict=True):
        if isinstance(answer, IonQError | ValueError | TypeError):
            priced[shape] = f"no estimate for backend {shape[0]}: {answer}"
        elif isinstance(answer, BaseException):
            raise answer
        else:
            priced[shape] = answer
    units = {a.total.unit for a in priced.values() if isinstance(a, CostEstimate)}
    unit = sorted(units)[0] if units else "usd"
    estimates: list[SourceEstimate] = []
    for source_id, shape in shapes.items():
        price = priced[shape]
        if isinstance(price, str):
            unestimated[source_id] = price
        elif price.total.unit != unit:
            unestimated[source_id] = f"estimated in {price.total.unit}, not {unit}"
        else:
            estimates.append(_source_estimate(source_id, shape, price.total))
    by_backend: dict[str, float] = {}
    for e in estimates:
        by_backend[e.backend] = by_backend.get(e.backend, 0.0) + e.cost.value
    return RerunEstimate(
        total=Money(value=round(sum(e.cost.value for e in estimates), 10), unit=unit),
        by_backend={b: Money(value=round(v, 10), unit=unit) for b, v in by_backend.items()},
        estimates=tuple(estimates),
        unestimated={i: unestimated[i] for i in ids if i in unestimated},
        requests=requests,
    )


async def _estimate_one(
    ops: EstimateOperations, shape: _Shape, retry: RetryPolicy | None
) -> CostEstimate:
    return await ops.estimate(estimate_params(*shape), retry=retry)


def _source_estimate(source_id: str, shape: _Shape, cost: Money) -> SourceEstimate:
    backend, _, qubits, shots, one_q, two_q, mitigation = shape
    return SourceEstimate(
        source_id=source_id,
        backend=backend,
        shots=shots,
        qubits=qubits,
        one_qubit_gates=one_q,
        two_qubit_gates=two_q,
        error_mitigation=mitigation,
        cost=cost,
    )
