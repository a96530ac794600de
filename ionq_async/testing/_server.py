"""FakeIonQ: an in-process IonQ v0.4 server on 127.0.0.1 with a scriptable job store."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

from ._app import PREFIX, Api, RequestRecord
from ._faults import FaultPlan
from ._ratelimit import TokenBuckets
from ._store import FAILURE_CODES, Fate, FateStatus, Job, JobStore

if TYPE_CHECKING:
    from ionq_async import AsyncIonQ

_RANDOM_FAILURES = ("InternalError", "SimulationError", "QuantumComputerError")
_BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]


class FakeIonQ:
    """An offline IonQ v0.4 jobs API; use ``async with FakeIonQ() as fake``.

    Fates of jobs created through the API (create, clone, move) are decided, in order, by
    ``script_next_fates`` entries, then the ``fate_for(job)`` hook, then ``failure_rate``.
    """

    def __init__(
        self,
        rate_limit: float | None = None,
        faults: FaultPlan | None = None,
        durations: tuple[float, float, float] = (0.05, 0.1, 0.2),
        seed: int = 0,
        *,
        api_key: str | None = None,
        burst: float | None = None,
        failure_rate: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.api_key = api_key or "emu-" + "".join(
            f"{self.rng.getrandbits(8):02x}" for _ in range(16)
        )
        self.auth_header = f"apiKey {self.api_key}"
        self.key_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.faults = faults or FaultPlan()
        self.durations = durations
        self.failure_rate = failure_rate
        self.buckets = TokenBuckets(rate_limit, burst) if rate_limit else None
        self.host = host
        self.port = port
        self.now: Callable[[], float] = clock or time.time
        self.store = JobStore(random.Random(seed + 1))
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
            offset = sum(d)
        if input is None:
            input = {"gateset": gateset, "circuit": circuit if circuit is not None else _BELL}
            if qubits is not None:
                input["qubits"] = qubits
        job = self._new_job(
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
        return job

    def seed_jobs(self, n: int, **kwargs: Any) -> list[Job]:
        """Add ``n`` jobs via :meth:`add_job` (for benchmarks and listing tests)."""
        return [self.add_job(**kwargs) for _ in range(n)]

    def get_job(self, job_id: str) -> Job:
        """The job record for ``job_id`` (KeyError if unknown or deleted)."""
        return self.store.by_id[job_id]

    def job_json(self, job_id: str) -> dict[str, Any]:
        """The job body GET /jobs/{id} would return now."""
        return self.get_job(job_id).to_json(self.now(), PREFIX)

    def status(self, job_id: str) -> str:
        """Current status of a job."""
        return self.get_job(job_id).status_at(self.now())

    def set_fate(
        self, job_id: str, fate: Fate | FateStatus, failure_code: str | None = None
    ) -> None:
        """Change how a (not yet finished) job ends."""
        job = self.get_job(job_id)
        job.fate = Fate.failed(failure_code) if failure_code else Fate.coerce(fate)
        job.forget_rendering()

    def script_next_fates(self, fates: Iterable[Fate | FateStatus]) -> None:
        """Queue fates for the next jobs created through the API (create, clone, move)."""
        self._next_fates.extend(Fate.coerce(f) for f in fates)

    def clones_of(self, src_id: str) -> list[Job]:
        """Jobs cloned or moved from ``src_id``, oldest first."""
        return self.store.clones_of(src_id)

    def cancel(self, job_id: str) -> None:
        """Cancel a job now (no-op once it is terminal)."""
        job = self.get_job(job_id)
        now = self.now()
        if job.canceled_at is None and now < job.ends_at:
            job.canceled_at = now

    def outage(self, seconds: float, status: int = 503) -> None:
        """From now on, answer ``status`` to every request for ``seconds``."""
        self.faults.outage(seconds, status)
        self.faults.bind(self.now())

    def _decide_fate(self, job: Job) -> Fate:
        if self._next_fates:
            return self._next_fates.popleft()
        if self.fate_for is not None:
            chosen = self.fate_for(job)
            if chosen is not None:
                return Fate.coerce(chosen)
        if self.failure_rate and self.rng.random() < self.failure_rate:
            return Fate.failed(self.rng.choice(_RANDOM_FAILURES))
        return Fate()

    def _new_job(self, **fields: Any) -> Job:
        self._seq += 1
        job = Job(id=self.store.new_id(), seq=self._seq, **fields)
        self.store.insert(job)
        return job

    def _api_job(self, **fields: Any) -> Job:
        job = self._new_job(created=self.now(), durations=self.durations, fate=Fate(), **fields)
        job.fate = self._decide_fate(job)
        return job

    def create_from_payload(self, body: dict[str, Any]) -> Job:
        """Create a job from a validated POST /jobs body."""
        return self._api_job(
            type=body["type"],
            backend=body["backend"],
            input=body["input"],
            name=body.get("name"),
            metadata=body.get("metadata"),
            shots=body.get("shots", 100),
            session_id=body.get("session_id"),
            settings=body.get("settings", {}),
            dry_run=body.get("dry_run", False),
            noise=body.get("noise"),
        )

    def clone_job(self, src: Job, body: dict[str, Any], *, moved: bool = False) -> Job:
        """Clone ``src``: omitted fields are inherited; given ``metadata`` replaces the source's."""
        metadata = body.get("metadata", src.metadata)
        if moved:
            metadata = {**(metadata or {}), "original_job_id": src.id}
        return self._api_job(
            type=src.type,
            input=src.input,
            backend=body.get("backend", src.backend),
            name=body.get("name", src.name),
            metadata=metadata,
            shots=body.get("shots", src.shots),
            session_id=body.get("session_id", src.session_id),
            parent_job_id=body.get("parent", src.parent_job_id),
            settings=body.get("settings", src.settings),
            dry_run=body.get("dry_run", src.dry_run),
            noise=body.get("noise", src.noise),
            cloned_from=src.id,
            _stats=src.stats(),
        )


__all__ = ["FAILURE_CODES", "FakeIonQ"]
