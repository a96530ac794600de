"""FakeIonQ: an in-process IonQ v0.4 server on 127.0.0.1 with a scriptable job store."""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

from ._app import Api, RequestRecord
from ._artifacts import CIRCUIT_FORMATS, PROBS_V2, RESULTS_SHAPES, ResultsShape
from ._backends import BackendInfo, default_backends, with_changes
from ._estimate import ESTIMATE_SHAPES, EstimateShape
from ._faults import FaultPlan
from ._job_routes import PREFIX
from ._jobstore import JobStore
from ._ratelimit import TokenBuckets
from ._sessions import ORGANIZATION_ID, Session, SessionBook
from ._spawn import spawn
from ._store import COMPLETED, FAILURE_CODES, Fate, FateStatus, Job

if TYPE_CHECKING:
    from ionq_async import AsyncIonQ

_RANDOM_FAILURES = ("InternalError", "SimulationError", "QuantumComputerError")
_BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
DEFAULT_DURATIONS = (0.05, 0.1, 0.2)
"""Seconds a job spends submitted, ready and started before it ends."""


class FakeIonQ:
    """An offline IonQ v0.4 API; use ``async with FakeIonQ() as fake``.

    Fates of jobs created through the API (create, clone, move) are decided, in order, by
    ``script_next_fates`` entries, then the ``fate_for(job)`` hook, then ``failure_rate``.
    ``results_shape`` picks the entries of a completed job's ``results``: ``"both"`` (legacy
    ``{url}`` entries beside artifact descriptors, as the live API sends), ``"descriptors"`` (the
    spec) or ``"legacy"``; ``result_formats`` lists the formats a circuit job's results name
    (every one of ``CIRCUIT_FORMATS`` is served by the artifacts route regardless).
    ``estimate_shape`` picks GET /jobs/estimate's answer: ``"rate_card"`` (the spec) or
    ``"rate_information"`` (IonQ's April 2026 shape). ``cost_factor`` scales what completed jobs
    are billed (the ``cost`` of GET /jobs/{id}/cost and the usage report) against their
    estimate; ``list_lag`` hides a job from GET /jobs listings for that many seconds after it
    was stored (GET /jobs/{id} sees it at once).
    """

    def __init__(
        self,
        rate_limit: float | None = None,
        faults: FaultPlan | None = None,
        durations: tuple[float, float, float] = DEFAULT_DURATIONS,
        seed: int = 0,
        *,
        api_key: str | None = None,
        burst: float | None = None,
        failure_rate: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        results_shape: ResultsShape = "both",
        result_formats: Iterable[str] = (PROBS_V2,),
        estimate_shape: EstimateShape = "rate_card",
        cost_factor: float = 1.0,
        list_lag: float = 0.0,
    ) -> None:
        _check_non_negative("durations", *durations, count=3)
        _check_non_negative("cost_factor", cost_factor)
        _check_non_negative("list_lag", list_lag)
        if results_shape not in RESULTS_SHAPES:
            raise ValueError(f"results_shape must be one of {RESULTS_SHAPES}")
        if estimate_shape not in ESTIMATE_SHAPES:
            raise ValueError(f"estimate_shape must be one of {ESTIMATE_SHAPES}")
        self.results_shape: ResultsShape = results_shape
        self.result_formats = tuple(result_formats)
        unknown = set(self.result_formats) - set(CIRCUIT_FORMATS)
        if unknown or not self.result_formats:
            raise ValueError(f"result_formats must be a non-empty subset of {CIRCUIT_FORMATS}")
        self.estimate_shape: EstimateShape = estimate_shape
        self.organization_id = ORGANIZATION_ID
        self.backends: dict[str, BackendInfo] = default_backends(seed)
        self.rng = random.Random(seed)
        self.api_key = api_key or "emu-" + "".join(
            f"{self.rng.getrandbits(8):02x}" for _ in range(16)
        )
        self.auth_header = f"apiKey {self.api_key}"
        self.key_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.faults = faults or FaultPlan()
        self.durations = durations
        self.cost_factor = cost_factor
        self.list_lag = list_lag
        self.failure_rate = failure_rate
        self.buckets = TokenBuckets(rate_limit, burst) if rate_limit else None
        self.host = host
        self.port = port
        self.now: Callable[[], float] = clock or time.time
        self.store = JobStore(random.Random(seed + 1))
        self.sessions = SessionBook(self.store.new_id)
        self.requests: list[RequestRecord] = []
        self.fate_for: Callable[[Job], Fate | str | None] | None = None
        self._next_fates: deque[Fate] = deque()
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.shutdown_event = asyncio.Event()

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:8765``."""
        if self._runner is None:
            raise RuntimeError("FakeIonQ is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """API base URL including ``/v0.4``."""
        return self.url + PREFIX

    @property
    def jobs(self) -> Mapping[str, Job]:
        """Live read-only view of jobs by id (deleted jobs excluded)."""
        return MappingProxyType(self.store.by_id)

    async def start(self) -> Self:
        """Bind the server on ``host:port`` (an ephemeral port when 0)."""
        if self._runner is not None:
            return self
        self.shutdown_event = asyncio.Event()
        runner = web.AppRunner(
            Api(self).build(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]
        self.faults.bind(self.now())
        return self

    async def close(self) -> None:
        """Release hung requests and stop the server."""
        self.shutdown_event.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def client(self, **kwargs: Any) -> AsyncIonQ:
        """An ``AsyncIonQ`` bound to this server's base URL and key."""
        from ionq_async import AsyncIonQ

        return AsyncIonQ(api_key=self.api_key, base_url=self.base_url, **kwargs)

    def add_job(
        self,
        *,
        name: str | None = None,
        circuit: list[dict[str, Any]] | None = None,
        shots: int = 100,
        durations: tuple[float, float, float] | None = None,
        fate: Fate | FateStatus | None = None,
        failure_code: str | None = None,
        status: str | None = None,
        backend: str = "simulator",
        metadata: dict[str, str] | None = None,
        type: str = "ionq.circuit.v1",
        gateset: str = "qis",
        qubits: int | None = None,
        input: dict[str, Any] | None = None,
        noise: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        session_id: str | None = None,
        parent_job_id: str | None = None,
        dry_run: bool = False,
    ) -> Job:
        """Seed a job directly. ``status`` puts it in that phase now; ``failure_code`` => failed."""
        d = durations if durations is not None else self.durations
        the_fate = Fate.coerce(fate) if fate is not None else Fate()
        if failure_code is not None:
            the_fate = Fate.failed(failure_code)
        elif status in ("failed", "canceled", "completed") and fate is None:
            the_fate = Fate.failed() if status == "failed" else Fate.coerce(status)
        now = self.now()
        offset = {"ready": d[0], "started": d[0] + d[1]}.get(status or "", 0.0)
        if status in ("completed", "failed", "canceled"):
            offset = sum(d) + 1e-3  # past the end despite float rounding of the clock
        if input is None:
            input = {"gateset": gateset, "circuit": circuit if circuit is not None else _BELL}
            if qubits is not None:
                input["qubits"] = qubits
        return self._new_job(
            created=now - offset,
            durations=d,
            fate=the_fate,
            type=type,
            backend=backend,
            input=input,
            name=name,
            metadata=metadata,
            shots=shots,
            session_id=session_id,
            parent_job_id=parent_job_id,
            settings=settings or {},
            dry_run=dry_run,
            noise=noise,
        )

    def seed_jobs(self, n: int, **kwargs: Any) -> list[Job]:
        """Add ``n`` jobs via ``add_job`` (for benchmarks and listing tests)."""
        return [self.add_job(**kwargs) for _ in range(n)]

    def get_job(self, job_id: str) -> Job:
        """The job record for ``job_id`` (KeyError if unknown or deleted)."""
        return self.store.by_id[job_id]

    def job_json(self, job_id: str) -> dict[str, Any]:
        """The job body GET /jobs/{id} would return now."""
        return self.render(self.get_job(job_id))

    def render(self, job: Job, *, listing: bool = False) -> dict[str, Any]:
        """A job's body now, with this server's results shape and formats."""
        return job.to_json(
            self.now(),
            PREFIX,
            listing=listing,
            shape=self.results_shape,
            formats=self.result_formats,
        )

    def actual_cost(self, job: Job) -> float:
        """What a completed job is billed (USD): its estimate times ``cost_factor``; dry runs 0."""
        return 0.0 if job.dry_run else round(job.cost() * self.cost_factor, 2)

    def set_backend(self, name: str, **changes: Any) -> BackendInfo:
        """Add or change a backend (``status``, ``average_queue_time``, ``degraded``, ...)."""
        info = self.backends.get(name) or BackendInfo(name, changes.pop("qubits", 36))
        self.backends[name] = with_changes(info, **changes)
        return self.backends[name]

    def add_session(
        self,
        backend: str = "qpu.forte-1",
        *,
        job_count_limit: int | None = None,
        duration_limit_min: int | None = None,
        cost_limit: float | None = None,
    ) -> Session:
        """Open a session directly (as POST /sessions would); ``cost_limit`` in USD."""
        limit = {"unit": "usd", "value": cost_limit} if cost_limit is not None else None
        return self.sessions.create(
            backend,
            self.now(),
            job_count_limit=job_count_limit,
            duration_limit_min=duration_limit_min,
            cost_limit=limit,
        )

    def session_json(self, session_id: str) -> dict[str, Any]:
        """The body GET /sessions/{id} would return now."""
        return self.sessions.by_id[session_id].to_json(self.now())

    def status(self, job_id: str) -> str:
        """Current status of a job."""
        return self.get_job(job_id).status_at(self.now())

    def set_fate(
        self, job_id: str, fate: Fate | FateStatus, failure_code: str | None = None
    ) -> None:
        """Change how a (not yet finished) job ends; a multi-circuit parent's children follow."""
        job = self.get_job(job_id)
        job.fate = Fate.failed(failure_code) if failure_code else Fate.coerce(fate)
        job.forget_rendering()
        for child in self._children(job):
            child.fate = job.fate
            child.forget_rendering()

    def script_next_fates(self, fates: Iterable[Fate | FateStatus]) -> None:
        """Queue fates for the next jobs created through the API (create, clone, move)."""
        self._next_fates.extend(Fate.coerce(f) for f in fates)

    def clones_of(self, src_id: str) -> list[Job]:
        """Jobs cloned or moved from ``src_id``, oldest first."""
        return self.store.clones_of(src_id)

    def cancel(self, job_id: str) -> None:
        """Cancel a job (and its children) now; no-op once it is terminal."""
        job = self.get_job(job_id)
        now = self.now()
        for one in (job, *self._children(job)):
            if one.canceled_at is None and now < one.ends_at:
                one.canceled_at = now

    def delete(self, job_id: str) -> None:
        """Delete a job (and its children)."""
        job = self.get_job(job_id)
        for child in self._children(job):
            self.store.delete(child)
        self.store.delete(job)

    def _children(self, job: Job) -> list[Job]:
        return [self.store.by_id[c] for c in job.child_ids or () if c in self.store.by_id]

    def outage(self, seconds: float, status: int = 503) -> None:
        """From now on, answer ``status`` to every request for ``seconds``."""
        self.faults.outage(seconds, status)
        self.faults.bind(self.now())

    def decide_fate(self, job: Job) -> Fate:
        """The fate of a new API job (scripted, hook, random failure, else completed)."""
        if self._next_fates:
            return self._next_fates.popleft()
        if self.fate_for is not None:
            chosen = self.fate_for(job)
            if chosen is not None:
                return Fate.coerce(chosen)
        if self.failure_rate and self.rng.random() < self.failure_rate:
            return Fate.failed(self.rng.choice(_RANDOM_FAILURES))
        return COMPLETED

    def insert(self, job: Job) -> Job:
        """Give ``job`` an id and a position, and store it now."""
        self._seq += 1
        job.id, job.seq, job.stored_at = self.store.new_id(), self._seq, self.now()
        self.store.insert(job)
        return job

    def _new_job(self, **fields: Any) -> Job:
        return self.insert(Job(id="", seq=0, **fields))

    def create_from_payload(self, body: dict[str, Any]) -> Job:
        """Create a job from a validated POST /jobs body (400 when its session refuses it)."""
        fields = {
            "type": body["type"],
            "backend": body["backend"],
            "input": body["input"],
            "name": body.get("name"),
            "metadata": body.get("metadata"),
            "shots": body.get("shots", 100),
            "session_id": body.get("session_id"),
            "settings": body.get("settings", {}),
            "dry_run": body.get("dry_run", False),
            "noise": body.get("noise"),
        }
        return spawn(self, fields, explicit_session=True)

    def clone_job(self, src: Job, body: dict[str, Any], *, moved: bool = False) -> Job:
        """Clone ``src``: omitted fields are inherited; given ``metadata`` replaces the source's."""
        metadata = body.get("metadata", src.metadata)
        if moved:
            metadata = {**(metadata or {}), "original_job_id": src.id}
        fields = {
            "type": src.type,
            "input": src.input,
            "backend": body.get("backend", src.backend),
            "name": body.get("name", src.name),
            "metadata": metadata,
            "shots": body.get("shots", src.shots),
            "session_id": body.get("session_id", src.session_id),
            "parent_job_id": body.get("parent", src.parent_job_id),
            "settings": body.get("settings", src.settings),
            "dry_run": body.get("dry_run", src.dry_run),
            "noise": body.get("noise", src.noise),
            "cloned_from": src.id,
            "registers": src.registers,
            "_stats": src.stats(),
            "_probs": src._probs,
        }
        return spawn(self, fields, explicit_session="session_id" in body)


def _check_non_negative(name: str, *values: float, count: int = 1) -> None:
    """ValueError unless ``values`` are ``count`` finite numbers >= 0."""
    ok = len(values) == count and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        for v in values
    )
    if not ok:
        what = "a finite number >= 0" if count == 1 else f"{count} finite numbers >= 0"
        raise ValueError(f"{name} must be {what}, got {values if count > 1 else values[0]!r}")


__all__ = ["FAILURE_CODES", "FakeIonQ"]
