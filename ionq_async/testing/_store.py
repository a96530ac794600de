"""Job records and their time-derived lifecycle (the store lives in ``_jobstore``)."""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._artifacts import PROBS_V2, ResultsShape, circuit_results, multi_results
from ._functions import qaoa_results, quantum_function_results
from ._http import encode_json
from ._ratecard import job_cost
from ._sim import UnsupportedCircuit, count_qubits, simulate

FateStatus = Literal["completed", "failed", "canceled"]
TERMINAL = frozenset({"completed", "failed", "canceled"})
FAILURE_CODES = [
    "InvalidInput",
    "CompilationError",
    "ContractExpiredError",
    "DebiasingError",
    "InternalError",
    "NotEnoughQubits",
    "OptimizationError",
    "PreflightError",
    "QuantumCircuitComplexityError",
    "QuantumComputerError",
    "QuotaExhaustedError",
    "SimulationError",
    "SimulationTimeout",
    "SystemCancel",
    "TooLongPredictedExecutionTime",
    "TooManyControls",
    "TooManyGates",
    "TooManyShots",
    "UnknownBillingError",
    "UnsupportedGate",
]
FUNCTION_TYPES = frozenset({"quantum-function", "qctrl.qaoa.v1"})
MULTI = "ionq.multi-circuit.v1"
SUBMITTER_ID = "64b03577072d45001c85e9c4"
PROJECT_ID = "1333d459-cf47-4a5e-acc1-8d4eb4f7b025"


@dataclass(frozen=True, slots=True)
class Fate:
    """How a job ends: ``completed``, ``failed`` (with a spec failure code) or ``canceled``."""

    status: FateStatus = "completed"
    code: str = "InternalError"
    message: str = "The job failed in the emulator."

    @classmethod
    def failed(cls, code: str = "InternalError", message: str | None = None) -> Fate:
        """A failure with ``code`` from the spec's Failure enum."""
        if code not in FAILURE_CODES:
            raise ValueError(f"{code!r} is not a failure code of the v0.4 spec")
        return cls("failed", code, message or f"Emulated failure: {code}.")

    @classmethod
    def coerce(cls, fate: Fate | str) -> Fate:
        """Accept a Fate or one of the strings completed/failed/canceled."""
        if isinstance(fate, Fate):
            return fate
        if fate not in TERMINAL:
            raise ValueError(f"unknown fate {fate!r}")
        return cls(fate)  # type: ignore[arg-type]


COMPLETED = Fate()
"""The default fate (frozen, so one instance serves every job)."""


def iso(ts: float) -> str:
    """ISO-8601 UTC timestamp with milliseconds and ``Z`` (as datetime would round it)."""
    whole = math.floor(ts)
    micros = round((ts - whole) * 1e6)
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    return _iso_seconds(whole) + f".{micros // 1000:03d}Z"


@functools.lru_cache(maxsize=256)
def _iso_seconds(whole: int) -> str:
    """The whole-second part of :func:`iso` (jobs created together share their seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


@dataclass(eq=False, slots=True)
class Job:
    """One emulated job; status is derived from ``created`` and ``durations`` when read."""

    id: str
    seq: int
    created: float
    durations: tuple[float, float, float]
    fate: Fate
    type: str
    backend: str
    input: dict[str, Any]
    name: str | None = None
    metadata: dict[str, str] | None = None
    shots: int = 100
    session_id: str | None = None
    parent_job_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    noise: dict[str, Any] | None = None
    cloned_from: str | None = None
    canceled_at: float | None = None
    deleted: bool = False
    child_ids: list[str] | None = None
    registers: dict[str, list[int]] | None = None
    stored_at: float = -math.inf
    """Clock time the emulator stored the job; listings show it ``list_lag`` seconds later."""
    _probs: dict[int, float] | None = field(default=None, repr=False)
    _stats: dict[str, Any] | None = field(default=None, repr=False)
    _frozen: tuple[tuple[tuple[Any, ...], bytes], ...] = field(default=(), repr=False)
    """Encoded bodies of the terminal job: ((listing, shape, formats), body) pairs."""
    _rendered: tuple[Any, ...] | None = field(default=None, repr=False)
    """The shape of the terminal job rendered once: kept when it is rendered again."""

    @property
    def ends_at(self) -> float:
        """Clock time at which the job reaches its fate (unless canceled before)."""
        return self.created + sum(self.durations)

    def status_at(self, now: float) -> str:
        """Status of the job at clock time ``now``."""
        if self.canceled_at is not None and self.canceled_at < self.ends_at:
            return "canceled"
        t = now - self.created
        d0, d1, d2 = self.durations
        if t < d0:
            return "submitted"
        if t < d0 + d1:
            return "ready"
        if t < d0 + d1 + d2:
            return "started"
        return self.fate.status

    @property
    def qubits(self) -> int:
        """Number of qubits of the circuit (0 when unknown)."""
        circuit = self.input.get("circuit")
        if isinstance(circuit, list):
            return count_qubits(circuit, self.input.get("qubits"))
        return int(self.input.get("qubits", 0) or 0)

    def stats(self) -> dict[str, Any]:
        """The job's ``stats`` (cached; a clone shares its source's, as it shares the input)."""
        if self._stats is None:
            if self.type in FUNCTION_TYPES:
                self._stats = {}
            elif self.type == MULTI:
                subs = [c.get("circuit", []) for c in self.input.get("circuits", [])]
                pairs = [_gate_counts(c) for c in subs]
                declared = self.input.get("qubits")
                self._stats = _shared_stats(
                    max((count_qubits(c, declared) for c in subs), default=1),
                    len(subs),
                    sum(p[0] for p in pairs),
                    sum(p[1] for p in pairs),
                )
            else:
                circuit = self.input.get("circuit")
                one_q, two_q = _gate_counts(circuit if isinstance(circuit, list) else [])
                self._stats = _shared_stats(self.qubits, 1, one_q, two_q)
        return self._stats

    @property
    def error_mitigation(self) -> bool:
        """True when the job asked for debiasing or symmetry verification."""
        em = self.settings.get("error_mitigation") or {}
        return bool(em.get("debiasing") or em.get("symmetry_verification"))

    def cost(self) -> float:
        """The job's price on the rate card (``_ratecard.job_cost`` of its stats)."""
        counts = self.stats().get("gate_counts", {})
        return job_cost(
            self.backend,
            self.shots,
            int(counts.get("1q", 0)),
            int(counts.get("2q", 0)),
            error_mitigation=self.error_mitigation,
        )

    def probabilities(self) -> dict[int, float]:
        """Exact probabilities (cached); circuits that cannot be simulated give ``{0: 1.0}``."""
        if self._probs is None:
            circuit = self.input.get("circuit")
            probs = {0: 1.0}
            if isinstance(circuit, list):
                with contextlib.suppress(UnsupportedCircuit, IndexError, ValueError, TypeError):
                    native = self.input.get("gateset") == "native"
                    probs = simulate(circuit, self.input.get("qubits"), native=native)
            self._probs = probs
        return self._probs

    def to_json(
        self,
        now: float,
        base: str,
        *,
        listing: bool = False,
        shape: ResultsShape = "both",
        formats: tuple[str, ...] = (PROBS_V2,),
    ) -> dict[str, Any]:
        """The job as IonQ serves it (GetJobResponse, or BaseJob when ``listing``)."""
        return self._body(self.status_at(now), now, base, listing, shape, formats)

    def encoded(
        self,
        now: float,
        base: str,
        *,
        listing: bool = False,
        shape: ResultsShape = "both",
        formats: tuple[str, ...] = (PROBS_V2,),
    ) -> bytes:
        """:meth:`to_json` as compact JSON; kept from its second rendering once terminal.

        Not from the first: a batch reads each job once, and keeping all 200,000 bodies of a
        100,000-job batch (about 1 KB each) cost the emulator 151 us of CPU per job, not 105.
        """
        key = (listing, shape, formats)
        for known, raw in self._frozen:
            if known == key:
                return raw
        status = self.status_at(now)
        raw = encode_json(self._body(status, now, base, listing, shape, formats))
        if status in TERMINAL:
            if self._rendered == key:
                self._frozen += ((key, raw),)
            else:
                self._rendered = key
        return raw

    def _body(
        self,
        status: str,
        now: float,
        base: str,
        listing: bool,
        shape: ResultsShape,
        formats: tuple[str, ...],
    ) -> dict[str, Any]:
        d0, d1, d2 = self.durations
        started = self.created + d0 + d1
        terminal = status in TERMINAL
        end = self.canceled_at if status == "canceled" and self.canceled_at else self.ends_at
        done = status == "completed" and not self.dry_run
        body: dict[str, Any] = {
            "id": self.id,
            "status": status,
            "type": self.type,
            "backend": self.backend,
            "dry_run": self.dry_run,
            "cost_model": "QCT",
            "submitter_id": SUBMITTER_ID,
            "project_id": PROJECT_ID,
            "parent_job_id": self.parent_job_id,
            "session_id": self.session_id,
            "metadata": self.metadata,
            "name": self.name,
            "submitted_at": iso(self.created),
            "started_at": iso(started) if now >= started and started <= end else None,
            "completed_at": iso(end) if terminal else None,
            "predicted_wait_time_ms": None if terminal else int((d0 + d1) * 1000),
            "predicted_execution_duration_ms": None if terminal else int(d2 * 1000),
            "execution_duration_ms": int(d2 * 1000) if status == "completed" else None,
            "shots": self.shots,
            "failure": (
                {"code": self.fate.code, "message": self.fate.message}
                if status == "failed"
                else None
            ),
            "output": {},
            "settings": self._settings_json(),
            "stats": self.stats(),
            "results": self._results(base, shape, formats) if done else None,
        }
        if self.backend == "simulator":
            noise = {k: v for k, v in (self.noise or {}).items() if v is not None}
            body["noise"] = noise or {"model": "ideal"}
        if not listing:
            body["child_job_ids"] = list(self.child_ids) if self.child_ids is not None else None
        return body

    def forget_rendering(self) -> None:
        """Drop the cached body of a terminal job (after its fate or fields changed)."""
        self._frozen = ()
        self._rendered = None

    def _settings_json(self) -> dict[str, Any]:
        if self.type not in FUNCTION_TYPES:
            return self.settings
        em = self.settings.get("error_mitigation")
        return {"error_mitigation": dict(em)} if isinstance(em, dict) else {}

    def _results(self, base: str, shape: ResultsShape, formats: tuple[str, ...]) -> dict[str, Any]:
        if self.type == "quantum-function":
            return quantum_function_results(self.input, self.id)
        if self.type == "qctrl.qaoa.v1":
            return qaoa_results(self.input)
        if self.type == MULTI:
            return multi_results(self.id, base, shape)
        return circuit_results(self.id, base, shape, formats)


@functools.lru_cache(maxsize=1024, typed=True)
def _shared_stats(qubits: int, circuits: int, one_q: int, two_q: int) -> dict[str, Any]:
    """One ``stats`` dict per distinct value: jobs share it (read-only, like a clone's)."""
    return {"qubits": qubits, "circuits": circuits, "gate_counts": {"1q": one_q, "2q": two_q}}


def _gate_counts(circuit: Any) -> tuple[int, int]:
    gates = circuit if isinstance(circuit, list) else []
    two_q = sum(1 for g in gates if _multi_qubit(g))
    return len(gates) - two_q, two_q


def _multi_qubit(gate: Any) -> bool:
    """True when ``gate`` touches two or more distinct qubits."""
    if not isinstance(gate, dict):
        return False
    if "targets" in gate or "controls" in gate:
        return len(_all_qubits(gate)) >= 2
    target = int(gate["target"]) if "target" in gate else None
    control = int(gate["control"]) if "control" in gate else None
    return target is not None and control is not None and target != control


def _all_qubits(gate: dict[str, Any]) -> set[int]:
    qs: set[int] = set()
    for key in ("target", "control"):
        if key in gate:
            qs.add(int(gate[key]))
    for key in ("targets", "controls"):
        qs.update(int(q) for q in gate.get(key, []))
    return qs


FateHook = Callable[[Job], "Fate | str | None"]
