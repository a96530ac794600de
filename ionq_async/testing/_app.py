"""aiohttp.web routes, middleware (request ids, auth, faults, rate limit) and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from ._artifacts import FORMATS, format_schema
from ._backends import BackendRoutes, BackendServer
from ._faults import Fault, FaultPlan
from ._http import BadRequest, NotFound, bad_request_response, error_response, json_response
from ._job_routes import PREFIX, JobRoutes, JobServer
from ._ratelimit import TokenBuckets
from ._sessions import SessionRoutes, SessionServer
from ._store import PROJECT_ID
from ._usage import UsageServer, usage

_HTML = (
    "<!DOCTYPE html><html><head><title>api.ionq.co | {status}: Bad gateway</title></head>"
    "<body><h1>Error {status}</h1><p>Bad gateway</p><p>Cloudflare Ray ID: 8f0e1d2c3b4a5968"
    "</p></body></html>"
)
_NO_AUTH = frozenset({"backends", "backend", "characterizations"})
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
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


class AppServer(JobServer, BackendServer, SessionServer, UsageServer, Protocol):
    """What the middleware and the route table use of the emulator (the routes' needs too)."""

    @property
    def api_key(self) -> str: ...

    @property
    def auth_header(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    @property
    def faults(self) -> FaultPlan: ...

    @property
    def buckets(self) -> TokenBuckets | None: ...

    @property
    def requests(self) -> list[RequestRecord]: ...

    @property
    def shutdown_event(self) -> asyncio.Event: ...


class _Dropped(web.Response):
    """Placeholder returned after aborting the transport; aiohttp's write then fails quietly."""


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return _Dropped(status=599)


class Api:
    """The middleware (request ids, auth, faults, rate limit) and the route table."""

    def __init__(self, fake: AppServer) -> None:
        self.fake = fake
        # Request ids are UUID4-shaped and unique: a random head per server, then a counter.
        head = str(uuid.uuid4())[:24]
        self._request_ids = map(f"{head}{{:012x}}".format, itertools.count())

    def build(self) -> web.Application:
        """The aiohttp application with every v0.4 route."""
        app = web.Application(middlewares=[self._middleware], client_max_size=10 * 1024 * 1024)
        jobs, backends = JobRoutes(self.fake), BackendRoutes(self.fake)
        sessions = SessionRoutes(self.fake)
        p, add = PREFIX, app.router.add_route
        j, b = f"{p}/jobs/{{id}}", f"{p}/backends/{{backend}}"
        table: list[tuple[str, str, _Handler, str]] = [
            ("POST", f"{p}/jobs", jobs.create, "create"),
            ("GET", f"{p}/jobs", jobs.list_jobs, "list_jobs"),
            ("DELETE", f"{p}/jobs", jobs.delete_jobs, "delete_jobs"),
            ("GET", f"{p}/jobs/estimate", jobs.estimate, "estimate"),
            ("PUT", f"{p}/jobs/status/cancel", jobs.cancel_many, "cancel_many"),
            ("GET", j, jobs.get_job, "get_job"),
            ("DELETE", j, jobs.delete_job, "delete_job"),
            ("PUT", f"{j}/status/cancel", jobs.cancel, "cancel"),
            ("POST", f"{j}/clone", jobs.clone, "clone"),
            ("POST", f"{j}/move", jobs.move, "move"),
            ("GET", f"{j}/cost", jobs.cost, "cost"),
            ("GET", f"{j}/results/probabilities", jobs.probabilities, "probabilities"),
            ("GET", f"{j}/results/probabilities/aggregated", jobs.aggregated, "aggregated"),
            ("GET", f"{j}/results/{{kind:histogram|shots}}", jobs.legacy, "legacy_results"),
            ("GET", f"{j}/artifacts/{{artifact}}", jobs.artifact, "artifact"),
            ("GET", f"{p}/backends", backends.list, "backends"),
            ("GET", b, backends.get, "backend"),
            ("GET", f"{b}/characterizations", backends.characterizations, "characterizations"),
            ("GET", f"{b}/characterizations/{{uuid}}", backends.characterization, "characterization"),  # noqa: E501
            ("GET", f"{p}/whoami", self.whoami, "whoami"),
            ("POST", f"{p}/sessions", sessions.create, "create_session"),
            ("GET", f"{p}/sessions", sessions.list, "sessions"),
            ("GET", f"{p}/sessions/{{session_id}}", sessions.get, "session"),
            ("POST", f"{p}/sessions/{{session_id}}/end", sessions.end, "end_session"),
            ("GET", f"{p}/sessions/{{session_id}}/jobs", jobs.session_jobs, "session_jobs"),
            ("GET", f"{p}/schemas/formats/{{format}}", self.format_schema, "format_schema"),
            ("GET", f"{p}/organizations/{{organization_id}}/usage", self.usage, "usage"),
        ]  # fmt: skip
        for method, path, handler, name in table:
            add(method, path, handler, name=name)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        fake = self.fake
        rid = next(self._request_ids)
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
            return bad_request_response(exc)
        except NotFound as exc:
            return error_response(404, exc.message)
        except web.HTTPException as exc:
            allow = exc.headers.get("Allow")
            headers = {"Allow": allow} if allow is not None else None
            return error_response(exc.status, exc.reason, headers=headers)

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

    async def whoami(self, request: web.Request) -> web.Response:
        """GET /whoami."""
        key = {"key_id": self.fake.key_id, "key_name": "ionq-async emulator"}
        return json_response({**key, "project_id": PROJECT_ID})

    async def format_schema(self, request: web.Request) -> web.Response:
        """GET /schemas/formats/{format}: the format's JSON Schema document."""
        fmt = request.match_info["format"]
        if fmt not in FORMATS:
            raise NotFound(f"Format {fmt} does not exist.")
        return json_response(format_schema(fmt))

    async def usage(self, request: web.Request) -> web.Response:
        """GET /organizations/{organization_id}/usage."""
        return await usage(self.fake, request)
