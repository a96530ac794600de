"""aiohttp.web routes, middleware (request ids, auth, faults, rate limit) and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._faults import Fault
from ._store import PROBS_V2, TERMINAL, Job, decode_cursor, encode_cursor
from ._validate import BadRequest, validate_clone, validate_create, validate_ids

if TYPE_CHECKING:
    from ._server import FakeIonQ

PREFIX = "/v0.4"
DEFAULT_LIST_LIMIT = 25
MAX_LIST_LIMIT = 1000
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized Error",
    404: "Not Found Error",
    405: "Method Not Allowed",
    409: "Conflict Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_MESSAGES = {
    401: "Invalid key provided. Please check your API key and try again.",
    429: "Too Many Requests. To get a higher rate limit, please reach out to support@ionq.co",
    500: "Internal service outage. Visit https://status.ionq.co/ to track this incident.",
}
_HTML = (
    "<!DOCTYPE html><html><head><title>api.ionq.co | {status}: Bad gateway</title></head>"
    "<body><h1>Error {status}</h1><p>Bad gateway</p><p>Cloudflare Ray ID: 8f0e1d2c3b4a5968"
    "</p></body></html>"
)
_NO_AUTH = frozenset({"backends"})
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator saw; ``status`` is None when no response was sent."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int | None
    time: float
    request_id: str
    route: str | None
    fault: str | None = None


class _Dropped(web.Response):
    """Placeholder returned after aborting the transport; aiohttp's write then fails quietly."""


def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer serialized once with ``json.dumps``."""
    return web.Response(
        body=json.dumps(obj, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(
    status: int,
    message: str | None = None,
    *,
    validation: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An IonQ-shaped error body (``statusCode, error, message`` and ``validation`` on 400)."""
    body: dict[str, Any] = {
        "statusCode": status,
        "error": _REASONS.get(status, "Server Error" if status >= 500 else "Error"),
        "message": message or _MESSAGES.get(status, "Service temporarily unavailable."),
    }
    if validation is not None:
        body["validation"] = validation
    return json_response(body, status, headers)


def _bad_request(exc: BadRequest) -> web.Response:
    return error_response(400, exc.message, validation={"keys": exc.keys, "source": exc.source})


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return _Dropped(status=599)


class Api:
    """Handlers bound to one FakeIonQ."""

    def __init__(self, fake: FakeIonQ) -> None:
        self.fake = fake
        self.store = fake.store

    def build(self) -> web.Application:
        """The aiohttp application with every v0.4 route."""
        app = web.Application(middlewares=[self._middleware], client_max_size=10 * 1024 * 1024)
        r = app.router
        p = PREFIX
        r.add_post(f"{p}/jobs", self.create, name="create")
        r.add_get(f"{p}/jobs", self.list_jobs, name="list_jobs", allow_head=False)
        r.add_delete(f"{p}/jobs", self.delete_jobs, name="delete_jobs")
        r.add_put(f"{p}/jobs/status/cancel", self.cancel_many, name="cancel_many")
        r.add_get(f"{p}/jobs/{{id}}", self.get_job, name="get_job", allow_head=False)
        r.add_delete(f"{p}/jobs/{{id}}", self.delete_job, name="delete_job")
        r.add_put(f"{p}/jobs/{{id}}/status/cancel", self.cancel, name="cancel")
        r.add_post(f"{p}/jobs/{{id}}/clone", self.clone, name="clone")
        r.add_post(f"{p}/jobs/{{id}}/move", self.move, name="move")
        r.add_get(f"{p}/jobs/{{id}}/cost", self.cost, name="cost", allow_head=False)
        r.add_get(
            f"{p}/jobs/{{id}}/results/probabilities",
            self.probabilities,
            name="probabilities",
            allow_head=False,
        )
        r.add_get(
            f"{p}/jobs/{{id}}/artifacts/{{artifact}}",
            self.artifact,
            name="artifact",
            allow_head=False,
        )
        r.add_get(f"{p}/backends", self.backends, name="backends", allow_head=False)
        r.add_get(f"{p}/whoami", self.whoami, name="whoami", allow_head=False)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        fake = self.fake
        rid = str(uuid.uuid4())
        now = fake.now()
        route = request.match_info.route.name
        fault: Fault | None = None
        status: int | None = None
        try:
            fault = fake.faults.pick(route, now) if route else None
            if fault is not None:
                resp = await self._faulted(request, handler, fault)
            else:
                resp = await self._serve(request, handler, route, now)
            status = None if isinstance(resp, _Dropped) else resp.status
            resp.headers["x-request-id"] = rid
            return resp
        finally:
            fake.requests.append(
                RequestRecord(
                    request.method,
                    request.path,
                    tuple(request.query.items()),
                    status,
                    now,
                    rid,
                    route,
                    fault.kind if fault else None,
                )
            )

    async def _serve(
        self, request: web.Request, handler: _Handler, route: str | None, now: float
    ) -> web.StreamResponse:
        fake = self.fake
        if route not in _NO_AUTH:
            if request.headers.get("Authorization") != fake.auth_header:
                return error_response(401)
            if fake.buckets is not None:
                wait = fake.buckets.take(fake.api_key, now)
                if wait:
                    return error_response(429, headers={"Retry-After": str(wait)})
        try:
            return await handler(request)
        except BadRequest as exc:
            return _bad_request(exc)
        except web.HTTPException as exc:
            return error_response(exc.status, exc.reason)

    async def _faulted(
        self, request: web.Request, handler: _Handler, fault: Fault
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return error_response(fault.status, headers=headers)
        if kind == "html":
            return web.Response(
                text=_HTML.format(status=fault.status),
                status=fault.status,
                content_type="text/html",
            )
        if kind == "reset":
            return _drop(request)
        if kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.fake.shutdown_event.wait(), fault.seconds)
            return _drop(request)
        real = await self._serve(request, handler, request.match_info.route.name, self.fake.now())
        if kind == "commit_then_fail":
            if fault.status:
                return error_response(fault.status)
            return _drop(request)
        body = real.body if isinstance(real, web.Response) else None
        raw = bytes(body) if isinstance(body, bytes | bytearray) else b"{}"
        return web.Response(
            body=raw[: max(1, len(raw) // 2)], status=real.status, content_type="application/json"
        )

    async def _json(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return {}
        try:
            return json.loads(await request.read())
        except ValueError as exc:
            raise BadRequest("Invalid JSON payload", [], "payload") from exc

    def _job(self, request: web.Request) -> Job:
        job = self.store.by_id.get(request.match_info["id"])
        if job is None:
            raise web.HTTPNotFound(reason="Resource not found. The job does not exist.")
        return job

    def _created(self, job: Job) -> web.Response:
        return json_response(
            {"id": job.id, "status": job.status_at(self.fake.now()), "session_id": job.session_id},
            201,
        )

    async def create(self, request: web.Request) -> web.Response:
        """POST /jobs."""
        body = validate_create(await self._json(request))
        return self._created(self.fake.create_from_payload(body))

    async def list_jobs(self, request: web.Request) -> web.Response:
        """GET /jobs with ids/status/target/session_id/parent_job_id/limit/next."""
        q = request.query
        try:
            limit = int(q.get("limit", DEFAULT_LIST_LIMIT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f'"limit" must be between 1 and {MAX_LIST_LIMIT}', ["limit"], "query")
        status = q.get("status")
        if status is not None and status not in TERMINAL | {"submitted", "ready", "started"}:
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
            limit=limit,
            before=before,
            ids=ids if ("ids" in q or "ids[]" in q) else None,
            status=status,
            targets=[t for t in target.split(",") if t] if target else None,
            session_id=q.get("session_id"),
            parent_job_id=q.get("parent_job_id"),
        )
        base = PREFIX
        return json_response(
            {
                "jobs": [j.to_json(now, base, listing=True) for j in jobs],
                "next": encode_cursor(nxt) if nxt is not None else None,
            }
        )

    async def get_job(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}."""
        return json_response(self._job(request).to_json(self.fake.now(), PREFIX))

    async def delete_job(self, request: web.Request) -> web.Response:
        """DELETE /jobs/{id}."""
        job = self._job(request)
        self.store.delete(job)
        return json_response({"id": job.id, "status": "deleted"})

    async def delete_jobs(self, request: web.Request) -> web.Response:
        """DELETE /jobs with body {ids}."""
        ids = validate_ids(await self._json(request))
        done = [i for i in ids if i in self.store.by_id]
        for i in done:
            self.store.delete(self.store.by_id[i])
        return json_response({"ids": done, "status": "deleted"})

    async def cancel(self, request: web.Request) -> web.Response:
        """PUT /jobs/{id}/status/cancel (a no-op on terminal jobs)."""
        job = self._job(request)
        self.fake.cancel(job.id)
        return json_response({"id": job.id, "status": "canceled"})

    async def cancel_many(self, request: web.Request) -> web.Response:
        """PUT /jobs/status/cancel with body {ids}."""
        ids = validate_ids(await self._json(request))
        done = [i for i in ids if i in self.store.by_id]
        for i in done:
            self.fake.cancel(i)
        return json_response({"ids": done, "status": "canceled"})

    async def clone(self, request: web.Request) -> web.Response:
        """POST /jobs/{id}/clone."""
        src = self._job(request)
        body = validate_clone(await self._json(request))
        return self._created(self.fake.clone_job(src, body))

    async def move(self, request: web.Request) -> web.Response:
        """POST /jobs/{id}/move: clone then cancel; 409 when the source is terminal."""
        src = self._job(request)
        body = validate_clone(await self._json(request))
        if src.status_at(self.fake.now()) in TERMINAL:
            return error_response(409, f"Job {src.id} can no longer be canceled, so not moved.")
        new = self.fake.clone_job(src, body, moved=True)
        self.fake.cancel(src.id)
        return self._created(new)

    async def cost(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/cost."""
        job = self._job(request)
        value = 0.0 if job.backend == "simulator" else round(0.3 + job.shots * 0.01, 2)
        body: dict[str, Any] = {
            "dry_run": job.dry_run,
            "estimated_cost": {"value": value, "unit": "usd"},
        }
        if job.status_at(self.fake.now()) == "completed":
            body["cost"] = {"value": value, "unit": "usd"}
        return json_response(body)

    def _completed(self, request: web.Request) -> Job:
        job = self.store.by_id.get(request.match_info["id"])
        if job is None or job.dry_run or job.status_at(self.fake.now()) != "completed":
            raise web.HTTPNotFound(reason="Job not found or not yet completed.")
        return job

    async def probabilities(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/results/probabilities (decimal little-endian keys)."""
        probs = self._completed(request).probabilities()
        return json_response({str(k): v for k, v in probs.items()})

    async def artifact(self, request: web.Request) -> web.Response:
        """GET /jobs/{id}/artifacts/{artifact}: probabilities v2 (or v1)."""
        job = self._completed(request)
        artifact = request.match_info["artifact"]
        probs = job.probabilities()
        if artifact in ("probabilities", "ionq.result.probabilities.json.v1"):
            return json_response({str(k): v for k, v in probs.items()})
        if artifact != PROBS_V2:
            raise web.HTTPNotFound(reason=f"Artifact {artifact} not found.")
        width = max(job.qubits, 1)
        bits = {format(k, f"0{width}b"): v for k, v in probs.items()}
        return json_response({"probabilities": {"registers": {"output_all": bits}}})

    async def backends(self, request: web.Request) -> web.Response:
        """GET /backends (no auth)."""
        return web.Response(body=_BACKENDS, content_type="application/json")

    async def whoami(self, request: web.Request) -> web.Response:
        """GET /whoami."""
        return json_response(
            {"key_id": self.fake.key_id, "key_name": "ionq-async emulator", "project_id": _PROJECT}
        )


_PROJECT = "1333d459-cf47-4a5e-acc1-8d4eb4f7b025"
_GATES = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "cnot", "swap"]
_BACKEND_ROWS: list[tuple[str, int, int, dict[str, Any]]] = [
    ("simulator", 29, 0, {}),
    ("qpu.forte-1", 36, 1181215, {"location": "College Park, MD, USA", "kw": 4902.81}),
    ("qpu.forte-enterprise-1", 36, 2400000, {"location": "Seattle, WA, USA"}),
]
_BACKENDS = json.dumps(
    [
        {
            "backend": name,
            "status": "available",
            "qubits": qubits,
            "average_queue_time": queue,
            "last_updated": "2026-06-16T00:00:00Z",
            "degraded": False,
            "supported_gates": [*_GATES, "xx", "yy", "zz", "not"],
            "supported_native_gates": ["gpi", "gpi2", "ms", "zz"],
            **extra,
        }
        for name, qubits, queue, extra in _BACKEND_ROWS
    ]
).encode()
