"""Sessions: lifecycle created -> started -> ended, with job-count, duration and cost limits.

A session is ``created`` until its first job, ``started`` from then on, and ``ended`` once it is
ended through the API, once ``duration_limit_min`` minutes have passed since it started, or once
a limit is reached: the job that brings the job count to ``job_count_limit`` (or the session's
cost to ``cost_limit.value``) is accepted and ends the session. A job sent to a session that
cannot take it is refused with a 400 whose body carries ``code`` (one of ``SESSION_CODES``),
a ``message`` naming the session, and ``validation.keys == ["session_id"]``. IonQ does not
document this answer; the emulator's choice is stated here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from ._backends import BackendInfo, accepted_backends
from ._http import INT32_MAX, BadRequest, NotFound, json_response, query_bool, read_json
from ._store import PROJECT_ID, SUBMITTER_ID, iso

ORGANIZATION_ID = "5b0d2a7e-8c3f-4f7e-9a51-0c6f3d2e1b4a"
SESSION_CODES = (
    "SessionNotFound",
    "SessionEnded",
    "SessionBackendMismatch",
    "SessionCostLimitExceeded",
)


@dataclass(eq=False)
class Session:
    """One emulated session; status is derived from the clock when read."""

    id: str
    backend: str
    created: float
    job_count_limit: int | None = None
    duration_limit_min: int | None = None
    cost_limit: dict[str, Any] | None = None
    started: float | None = None
    ended: float | None = None
    ender_id: str | None = None
    end_reason: str | None = None
    job_ids: list[str] = field(default_factory=list)
    spent: float = 0.0

    @property
    def expires(self) -> float | None:
        """Clock time at which the duration limit ends the session (None without one)."""
        if self.started is None or self.duration_limit_min is None:
            return None
        return self.started + self.duration_limit_min * 60

    def ended_at(self, now: float) -> float | None:
        """When the session ended, or None while it is open at ``now``."""
        expires = self.expires
        if expires is not None and expires <= now and (self.ended is None or expires < self.ended):
            return expires
        return self.ended

    def status_at(self, now: float) -> str:
        """``created``, ``started`` or ``ended`` at clock time ``now``."""
        if self.ended_at(now) is not None:
            return "ended"
        return "created" if self.started is None else "started"

    def why_ended(self, now: float) -> str:
        """A human reason for the end of the session."""
        expires = self.expires
        if expires is not None and expires <= now and (self.ended is None or expires < self.ended):
            return f"its duration limit of {self.duration_limit_min} min has passed"
        return self.end_reason or "it was ended"

    def to_json(self, now: float) -> dict[str, Any]:
        """The Session schema body."""
        ended = self.ended_at(now)
        settings: dict[str, Any] = {}
        if self.job_count_limit is not None:
            settings["job_count_limit"] = self.job_count_limit
        if self.duration_limit_min is not None:
            settings["duration_limit_min"] = self.duration_limit_min
        if self.cost_limit is not None:
            settings["cost_limit"] = dict(self.cost_limit)
        if self.expires is not None:
            settings["expires_at"] = iso(self.expires)
        return {
            "id": self.id,
            "created_at": iso(self.created),
            "organization_id": ORGANIZATION_ID,
            "backend": self.backend,
            "project_id": PROJECT_ID,
            "creator_id": SUBMITTER_ID,
            "ended_at": iso(ended) if ended is not None else None,
            "ender_id": self.ender_id if self.ended is not None and ended == self.ended else None,
            "settings": settings,
            "active": ended is None,
            "status": self.status_at(now),
            "started_at": iso(self.started) if self.started is not None else None,
        }


class SessionBook:
    """Sessions by id, in creation order, and the admission of jobs into them."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self.by_id: dict[str, Session] = {}

    def create(self, backend: str, now: float, **limits: Any) -> Session:
        """Open a session on ``backend`` (status ``created``)."""
        session = Session(self._new_id(), backend, now, **limits)
        self.by_id[session.id] = session
        return session

    def end(self, session: Session, now: float, ender: str | None, reason: str) -> None:
        """End ``session`` now (no-op when it has already ended)."""
        if session.ended_at(now) is None:
            session.ended, session.ender_id, session.end_reason = now, ender, reason

    def refusal(self, session_id: str, backend: str, cost: float, now: float) -> BadRequest | None:
        """Why ``session_id`` cannot take a job on ``backend`` costing ``cost`` (None: it can)."""
        session = self.by_id.get(session_id)

        def refuse(code: str, message: str) -> BadRequest:
            return BadRequest(message, ["session_id"], code=code)

        if session is None:
            return refuse("SessionNotFound", f"Session {session_id} does not exist.")
        if session.status_at(now) == "ended":
            why = session.why_ended(now)
            return refuse("SessionEnded", f"Session {session_id} has ended ({why}); no more jobs.")
        if session.backend != backend:
            return refuse(
                "SessionBackendMismatch",
                f"Session {session_id} runs on {session.backend}, not on {backend}.",
            )
        limit = session.cost_limit
        if limit is not None and session.spent + cost > float(limit["value"]):
            return refuse(
                "SessionCostLimitExceeded",
                f"Session {session_id}: this job ({cost} {limit['unit']}) would take the "
                f"session past its cost limit of {limit['value']} {limit['unit']}.",
            )
        return None

    def admit(self, session_id: str, job_id: str, cost: float, now: float) -> None:
        """Record an accepted job; start the session, and end it when a limit is reached."""
        session = self.by_id[session_id]
        if session.started is None:
            session.started = now
        session.job_ids.append(job_id)
        session.spent = round(session.spent + cost, 2)
        if session.job_count_limit is not None and len(session.job_ids) >= session.job_count_limit:
            self.end(session, now, None, f"its job count limit of {session.job_count_limit}")
        limit = session.cost_limit
        if limit is not None and session.spent >= float(limit["value"]):
            self.end(session, now, None, f"its cost limit of {limit['value']} {limit['unit']}")


def _limits(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BadRequest('"settings" must be an object', ["settings"])
    extra = sorted(set(raw) - {"job_count_limit", "duration_limit_min", "cost_limit"})
    if extra:
        raise BadRequest(f'"settings.{extra[0]}" is not allowed', [f"settings.{extra[0]}"])
    out: dict[str, Any] = {}
    for key in ("job_count_limit", "duration_limit_min"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= INT32_MAX:
            raise BadRequest(f'"settings.{key}" must be a positive integer', [f"settings.{key}"])
        out[key] = value
    cost = raw.get("cost_limit")
    if cost is not None:
        ok = isinstance(cost, dict) and set(cost) == {"unit", "value"}
        value = cost.get("value") if ok else None
        if not (ok and isinstance(cost["unit"], str) and isinstance(value, int | float)) or (
            isinstance(value, bool) or not 0 < value < 1e15
        ):
            raise BadRequest(
                '"settings.cost_limit" must be {unit: string, value: positive number}',
                ["settings.cost_limit"],
            )
        out["cost_limit"] = {"unit": cost["unit"], "value": value}
    return out


class SessionServer(Protocol):
    """What the session routes use of the emulator."""

    @property
    def backends(self) -> Mapping[str, BackendInfo]: ...

    @property
    def sessions(self) -> SessionBook: ...

    @property
    def now(self) -> Callable[[], float]: ...


class SessionRoutes:
    """Handlers of /sessions and /sessions/{session_id}[/end|/jobs]."""

    def __init__(self, fake: SessionServer) -> None:
        self.fake = fake
        self.book = fake.sessions

    def session(self, request: web.Request) -> Session:
        """The session named in the path (404 when unknown)."""
        sid = request.match_info["session_id"]
        session = self.book.by_id.get(sid)
        if session is None:
            raise NotFound(f"Session {sid} does not exist.")
        return session

    async def create(self, request: web.Request) -> web.Response:
        """POST /sessions."""
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadRequest('"value" must be of type object', ["value"])
        extra = sorted(set(body) - {"backend", "settings"})
        if extra:
            raise BadRequest(f'"{extra[0]}" is not allowed', [extra[0]])
        names = accepted_backends(self.fake.backends)
        backend = body.get("backend")
        if not isinstance(backend, str) or backend not in names:
            raise BadRequest(f'"backend" must be one of {", ".join(names)}', ["backend"])
        limits = _limits(body.get("settings"))
        session = self.book.create(names[backend], self.fake.now(), **limits)
        return json_response(session.to_json(self.fake.now()), 201)

    async def list(self, request: web.Request) -> web.Response:
        """GET /sessions[?active=bool], newest first."""
        active = query_bool(request, "active")
        now = self.fake.now()
        sessions = [
            s.to_json(now)
            for s in reversed(self.book.by_id.values())
            if active is None or (s.ended_at(now) is None) == active
        ]
        return json_response({"organization_id": ORGANIZATION_ID, "sessions": sessions})

    async def get(self, request: web.Request) -> web.Response:
        """GET /sessions/{session_id}."""
        return json_response(self.session(request).to_json(self.fake.now()))

    async def end(self, request: web.Request) -> web.Response:
        """POST /sessions/{session_id}/end (idempotent)."""
        session = self.session(request)
        now = self.fake.now()
        self.book.end(session, now, SUBMITTER_ID, "it was ended by its creator")
        return json_response(session.to_json(now))
