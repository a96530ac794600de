"""Handlers of /jobs/..., /sessions/{id}/jobs and GET /jobs/estimate."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from ._artifacts import AGGREGATE, ALIASES, CIRCUIT_FORMATS, PROBS_V1, ResultsShape, payload
from ._backends import accepted_backends
from ._estimate import EstimateServer, estimate
from ._http import (
    BadRequest,
    NotFound,
    encode_json,
    error_response,
    json_response,
    query_bool,
    raw_json_response,
    read_json,
)
from ._jobstore import JobStore, decode_cursor, encode_cursor
from ._sessions import SessionBook
from ._store import MULTI, TERMINAL, Job
from ._validate import validate_clone, validate_create, validate_ids

PREFIX = "/v0.4"
DEFAULT_LIST_LIMIT = 25
MAX_LIST_LIMIT = 1000
_STATUSES = TERMINAL | {"submitted", "ready", "started"}


class JobServer(EstimateServer, Protocol):
    """What the job routes use of the emulator."""

    @property
    def store(self) -> JobStore: ...

    @property
    def sessions(self) -> SessionBook: ...

    @property
    def list_lag(self) -> float: ...

    @property
    def results_shape(self) -> ResultsShape: ...

    @property
    def result_formats(self) -> tuple[str, ...]: ...

    def actual_cost(self, job: Job) -> float: ...

    def create_from_payload(self, body: dict[str, Any]) -> Job: ...

    def clone_job(self, src: Job, body: dict[str, Any], *, moved: bool = False) -> Job: ...

    def cancel(self, job_id: str) -> None: ...

    def delete(self, job_id: str) -> None: ...


class JobRoutes:
    """Handlers bound to one FakeIonQ's job store."""

    def __init__(self, fake: JobServer) -> None:
        self.fake = fake
        self.store = fake.store

    def _job(self, request: web.Request) -> Job:
        job = self.store.by_id.get(request.match_info["id"])
        if job is None:
            raise NotFound("Resource not found. The job does not exist.")
        return job

    def _created(self, job: Job) -> web.Response:
        return json_response(
            {"id": job.id, "status": job.status_at(self.fake.now()), "session_id": job.session_id},
            201,
        )

    def _encoded(self, job: Job, now: float, *, listing: bool = False) -> bytes:
        fake = self.fake
        return job.encoded(
            now, PREFIX, listing=listing, shape=fake.results_shape, formats=fake.result_formats
        )

    async def create(self, request: web.Request) -> web.Response:
        """POST /jobs (every JobCreationPayload type)."""
        names = accepted_backends(self.fake.backends)
        widths = {name: self.fake.backends[real].qubits for name, real in names.items()}
        body = validate_create(await read_json(request), widths)
        body["backend"] = names[body["backend"]]
        return self._created(self.fake.create_from_payload(body))

    async def list_jobs(self, request: web.Request) -> web.Response:
        """GET /jobs with ids/status/target/session_id/parent_job_id/limit/next."""
        return self._list(request, request.query.get("session_id"))

    async def session_jobs(self, request: web.Request) -> web.Response:
        """GET /sessions/{session_id}/jobs (the session's jobs, same filters as GET /jobs)."""
        sid = request.match_info["session_id"]
        if sid not in self.fake.sessions.by_id:
            raise NotFound(f"Session {sid} does not exist.")
        return self._list(request, sid)

    def _list(self, request: web.Request, session_id: str | None) -> web.Response:
        q = request.query
        try:
            limit = int(q.get("limit", DEFAULT_LIST_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f'"limit" must be between 1 and {MAX_LIST_LIMIT}', ["limit"], "query")
        status = q.get("status")
        if status is not None and status not in _STATUSES:
            raise BadRequest('"status" must be a job status', ["status"], "query")
        before = None
        if "next" in q:
            try:
                before = decode_cursor(q["next"])
            except ValueError:
                raise BadRequest('"next" is not a valid cursor', ["next"], "query") from None
        ids = [i for v in q.getall("ids", []) + q.getall("ids[]", []) for i in v.split(",") if i]
        target = q.get("target")
        now = self.fake.now()
        jobs, nxt = self.store.page(
            now=now,
            stored_by=now - self.fake.list_lag,
            limit=limit,
            before=before,
            ids=ids if ("ids" in q or "ids[]" in q) else None,
            status=status,
            targets=[t for t in target.split(",") if t] if target else None,
            session_id=session_id,
            parent_job_id=q.get("parent_job_id"),
        )
        return raw_json_response(
            b'{"jobs":['
            + b",".join([self._encoded(j, now, listing=True) for j in jobs])
            + b'],"next":'
            + encode_json(encode_cursor(nxt) if nxt is not None else None)
            + b"}"
        )

    async def get_job(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}."""
        return raw_json_response(self._encoded(self._job(request), self.fake.now()))

    async def delete_job(self, request: web.Request) -> web.Response:
        """DELETE /jobs/{id} (a multi-circuit parent takes its children along)."""
        job = self._job(request)
        self.fake.delete(job.id)
        return json_response({"id": job.id, "status": "deleted"})

    async def delete_jobs(self, request: web.Request) -> web.Response:
        """DELETE /jobs with body {ids}."""
        ids = validate_ids(await read_json(request))
        done = [i for i in ids if i in self.store.by_id]
        for i in done:
            if i in self.store.by_id:
                self.fake.delete(i)
        return json_response({"ids": done, "status": "deleted"})

    async def cancel(self, request: web.Request) -> web.Response:
        """PUT /jobs/{id}/status/cancel (a no-op on terminal jobs)."""
        job = self._job(request)
        self.fake.cancel(job.id)
        return json_response({"id": job.id, "status": "canceled"})

    async def cancel_many(self, request: web.Request) -> web.Response:
        """PUT /jobs/status/cancel with body {ids}."""
        ids = validate_ids(await read_json(request))
        done = [i for i in ids if i in self.store.by_id]
        for i in done:
            self.fake.cancel(i)
        return json_response({"ids": done, "status": "canceled"})

    def _clone_body(self, raw: Any) -> dict[str, Any]:
        body = validate_clone(raw)
        if "backend" in body:
            names = accepted_backends(self.fake.backends)
            if body["backend"] not in names:
                raise BadRequest('"backend" must be one of ' + ", ".join(names), ["backend"])
            body["backend"] = names[body["backend"]]
        return body

    async def clone(self, request: web.Request) -> web.Response:
        """POST /jobs/{id}/clone."""
        src = self._job(request)
        body = self._clone_body(await read_json(request))
        return self._created(self.fake.clone_job(src, body))

    async def move(self, request: web.Request) -> web.Response:
        """POST /jobs/{id}/move: clone then cancel; 409 when the source is terminal."""
        src = self._job(request)
        body = self._clone_body(await read_json(request))
        if src.status_at(self.fake.now()) in TERMINAL:
            return error_response(409, f"Job {src.id} can no longer be canceled, so not moved.")
        new = self.fake.clone_job(src, body, moved=True)
        self.fake.cancel(src.id)
        return self._created(new)

    async def cost(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/cost: the rate card's price; the billed ``cost`` once completed."""
        job = self._job(request)
        body: dict[str, Any] = {
            "dry_run": job.dry_run,
            "estimated_cost": {"value": 0.0 if job.dry_run else job.cost(), "unit": "usd"},
        }
        if job.status_at(self.fake.now()) == "completed" and not job.dry_run:
            body["cost"] = {"value": self.fake.actual_cost(job), "unit": "usd"}
        return json_response(body)

    async def estimate(self, request: web.Request) -> web.Response:
        """GET /jobs/estimate from the rate card."""
        return json_response(estimate(self.fake, request))

    def _completed(self, request: web.Request) -> Job:
        job = self.store.by_id.get(request.match_info["id"])
        if job is None or job.dry_run or job.status_at(self.fake.now()) != "completed":
            raise NotFound("Job not found or not yet completed.")
        return job

    def _circuit_payload(self, job: Job, fmt: str) -> Any:
        if job.type == MULTI or job.type not in ("ionq.circuit.v1", "ionq.qasm3.v1"):
            raise NotFound(f"Job {job.id} has no {fmt} artifact.")
        return payload(
            fmt,
            job.probabilities(),
            width=max(job.qubits, 1),
            shots=job.shots,
            seed=job.id,
            registers=job.registers,
        )

    async def probabilities(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/results/probabilities (decimal little-endian keys)."""
        query_bool(request, "sharpen")
        job = self._completed(request)
        return json_response(self._circuit_payload(job, PROBS_V1))

    async def legacy(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/results/{histogram|shots} (legacy ``url`` entries, v1 payloads)."""
        job = self._completed(request)
        return json_response(self._circuit_payload(job, ALIASES[request.match_info["kind"]]))

    async def aggregated(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/results/probabilities/aggregated (multi-circuit: per child id)."""
        return json_response(self._aggregate(self._completed(request)))

    def _aggregate(self, job: Job) -> dict[str, Any]:
        if job.type != MULTI or not job.child_ids:
            raise NotFound(f"Job {job.id} is not a multi-circuit job.")
        return {
            cid: {str(k): v for k, v in self.store.by_id[cid].probabilities().items()}
            for cid in job.child_ids
            if cid in self.store.by_id
        }

    async def artifact(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/artifacts/{artifact}: any result format the job offers."""
        job = self._completed(request)
        artifact = request.match_info["artifact"]
        fmt = ALIASES.get(artifact, artifact)
        if fmt == AGGREGATE and job.type == MULTI:
            return json_response(self._aggregate(job))
        if fmt not in CIRCUIT_FORMATS:
            raise NotFound(f"Artifact {artifact} not found.")
        return json_response(self._circuit_payload(job, fmt))
