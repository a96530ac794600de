"""The loaders of the operations' answers: decoded JSON in, typed models out, or an error.

Each loader takes the decoded body and the call's subject (what was asked for: an id, a
list of ids, a status, or None) and raises ResponseValidationError on a wrong shape, so
that the request path retries it like an unreadable answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from .._models.answers import CostEstimate, JobsStatusChange, JobStatusChange
from .._models.api import Backend, Characterization, Session, Usage, Whoami
from .._models.jobs import Job, JobCost, is_terminal
from ..errors import ResponseValidationError
from .fastpath import Ending
from .serde import load_ending, load_job, load_job_created, load_metadata, structure

__all__ = [
    "Ending",
    "JobEnd",
    "JobMetadata",
    "JobState",
    "Page",
    "Polled",
    "load_backend",
    "load_backends",
    "load_characterization",
    "load_characterizations",
    "load_estimate",
    "load_job_cost",
    "load_job_created",
    "load_job_ends",
    "load_job_metadata",
    "load_job_named",
    "load_job_states",
    "load_jobs",
    "load_many_changed",
    "load_one_changed",
    "load_raw",
    "load_schema",
    "load_session",
    "load_session_named",
    "load_sessions",
    "load_usage",
    "load_whoami",
    "loader",
]

T = TypeVar("T")


class JobState(NamedTuple):
    """A job of a `GET /jobs` page read lightly: its status; the rest parsed on demand."""

    status: str
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        """The job's id."""
        job_id: str = self.raw["id"]
        return job_id

    def job(self) -> Job:
        """The whole Job (parsed now)."""
        return load_job(self.raw)

    def ending(self) -> Ending:
        """What `job()` would give of its status, failure and times (or its error), no Job built."""
        return load_ending(self.raw)

    def metadata(self) -> dict[str, str] | None:
        """The job's metadata (parsed now), None when it has none."""
        return load_metadata(self.raw.get("metadata"))


class JobEnd(NamedTuple):
    """A job of a `GET /jobs` page that has ended, read for a batch: its ending, not its body."""

    id: str
    status: str
    end: Ending | None
    error: ResponseValidationError | None
    """Why the job's body is unreadable (`ending()` raises it), when it is."""

    def ending(self) -> Ending:
        """What `JobState.ending()` gives of the same job (or its error)."""
        if self.end is None:
            assert self.error is not None
            raise self.error
        return self.end


Polled = JobState | JobEnd
"""A job of a page read by `load_job_ends`."""


class JobMetadata(NamedTuple):
    """A job of a `GET /jobs` page read for its metadata alone (what a tokened clone merges)."""

    id: str
    metadata: dict[str, str] | None
    readable: bool
    """False when the job's metadata is not a str -> str map (its own read says why)."""


Page = tuple[list[Any], str | None]
"""One page of a cursor listing: its items and the `next` cursor (None on the last)."""


def loader(cls: type[T]) -> Callable[[Any, object], T]:
    """A loader that structures the answer as `cls` and ignores the subject."""

    def load(data: Any, _: object = None) -> T:
        return structure(data, cls)

    return load


def load_raw(data: Any, _: object) -> Any:
    """The decoded JSON, as is."""
    return data


def _named(kind: str, asked: str, answered: str) -> None:
    if asked != answered:
        raise ResponseValidationError(
            f"asked for {kind} {asked}, the server answered {kind} {answered}"
        )


def load_job_named(data: Any, job_id: str) -> Job:
    """One job; an answer naming another job is a ResponseValidationError."""
    job = load_job(data)
    _named("job", job_id, job.id)
    return job


def _next(data: dict[str, Any]) -> str | None:
    nxt = data.get("next")
    return nxt if isinstance(nxt, str) and nxt else None


def _listed(data: Any, key: str, what: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ResponseValidationError(f"unexpected {what} in response: no `{key}` array")
    items: list[Any] = data[key]
    return items


def load_jobs(data: Any, _: object = None) -> tuple[list[Job], str | None]:
    """A `GET /jobs` page: its jobs and the `next` cursor."""
    return [load_job(item) for item in _listed(data, "jobs", "job list")], _next(data)


def load_job_states(data: Any, _: object = None) -> tuple[list[JobState], str | None]:
    """A `GET /jobs` page read lightly: a JobState per job, and the `next` cursor.

    A poll builds the full Job only for a job whose status changed (`state.job()`).
    """
    return [JobState(status, item) for status, item in _job_items(data)], _next(data)


def load_job_ends(data: Any, _: object = None) -> tuple[list[Polled], str | None]:
    """A `GET /jobs` page read for a batch's waits: an ended job's `Ending` alone (nothing of
    its body kept, see `load_job_metadata`), a running job's JobState; the `next` cursor."""
    found: list[Polled] = []
    for status, item in _job_items(data):
        if not is_terminal(status):
            found.append(JobState(status, item))
            continue
        try:
            found.append(JobEnd(item["id"], status, load_ending(item), None))
        except ResponseValidationError as exc:
            found.append(JobEnd(item["id"], status, None, exc))
    return found, _next(data)


def load_job_metadata(data: Any, _: object = None) -> tuple[list[JobMetadata], str | None]:
    """A `GET /jobs` page read for each job's metadata only, and the `next` cursor.

    Nothing of the page is kept: read while the collector is paused (a large answer, see
    `RequestPath`), a page of 100 sources is gone before a collection could see it.
    """
    found = []
    for _status, item in _job_items(data):
        try:
            found.append(JobMetadata(item["id"], load_metadata(item.get("metadata")), True))
        except ResponseValidationError:
            found.append(JobMetadata(item["id"], None, False))
    return found, _next(data)


def _job_items(data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each job of a `GET /jobs` page with its status, checked to have a string id and status."""
    for item in _listed(data, "jobs", "job list"):
        if not isinstance(item, dict):
            raise ResponseValidationError(f"unexpected job in list: {item!r:.80}")
        if type(item.get("id")) is not str or type(status := item.get("status")) is not str:
            raise ResponseValidationError("unexpected job in list: no string `id` and `status`")
        yield status, item


def load_session(data: Any, _: object = None) -> Session:
    return structure(data, Session)


def load_session_named(data: Any, session_id: str) -> Session:
    session = load_session(data)
    _named("session", session_id, session.id)
    return session


def load_sessions(data: Any, _: object) -> list[Session]:
    return [load_session(item) for item in _listed(data, "sessions", "session list")]


def load_backends(data: Any, _: object) -> list[Backend]:
    if isinstance(data, dict) and isinstance(data.get("backends"), list):
        data = data["backends"]  # the shape qiskit-ionq also accepts
    if not isinstance(data, list):
        raise ResponseValidationError("unexpected backend list in response: not an array")
    return [structure(item, Backend) for item in data]


def load_backend(data: Any, name: str) -> Backend:
    backend = structure(data, Backend)
    _named("backend", name, backend.backend)
    return backend


def load_characterization(data: Any, _: object) -> Characterization:
    return structure(data, Characterization)


def load_characterizations(data: Any, _: object) -> list[Characterization]:
    items = _listed(data, "characterizations", "characterization page")
    return [structure(item, Characterization) for item in items]


def load_schema(data: Any, _: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseValidationError("unexpected format schema in response: not an object")
    return data


def load_one_changed(data: Any, subject: tuple[str, str]) -> JobStatusChange:
    """`{id, status}`; a field the answer leaves out is the request's own (the call succeeded)."""
    job_id, status = subject
    given = data if isinstance(data, dict) else {}
    merged = {"id": job_id, "status": status} | {k: v for k, v in given.items() if v is not None}
    return structure(merged, JobStatusChange, what="status change")


def load_many_changed(data: Any, subject: tuple[Sequence[str], str]) -> JobsStatusChange:
    """`{ids, status}`; a field the answer leaves out is the request's own."""
    ids, status = subject
    given = data if isinstance(data, dict) else {}
    merged = {"ids": list(ids), "status": status} | {
        k: v for k, v in given.items() if v is not None
    }
    return structure(merged, JobsStatusChange, what="status change")


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[k] for k in keys if data.get(k) is not None), None)


def load_estimate(data: Any, _: object = None) -> CostEstimate:
    """A CostEstimate from the `rate_card` answer (the spec's) or the `rate_information` one."""
    if not isinstance(data, dict):
        raise ResponseValidationError("unexpected cost estimate in response: not an object")
    total = _first(data, "estimated_total_cost", "estimated_cost")
    if isinstance(total, dict):  # a {value, unit} object, as the job cost answer has it
        total = total.get("value")
    unit = _first(data, "estimated_unit", "cost_unit")
    card = data.get("rate_card")
    info = data.get("rate_information")
    rates: list[Any] = []
    if isinstance(card, dict) and isinstance(card.get("rates"), list):
        rates = [r for r in card["rates"] if isinstance(r, dict)]
    elif isinstance(info, dict):
        rates = [{"unit": "gates", **info}]
    context = _first(data, "estimate_context", "input_values")
    normalized = {
        "total": {"value": total, "unit": unit},
        "execution_time_ms": data.get("estimated_execution_time"),
        "queue_time_ms": data.get("current_predicted_queue_time"),
        "quantum_compute_time_us": data.get("estimated_quantum_compute_time_us"),
        "estimated_at": data.get("estimated_at"),
        "rate_card_id": card.get("id") if isinstance(card, dict) else None,
        "rates": rates,
        "context": context if isinstance(context, dict) else {},
    }
    if total is None or unit is None:
        raise ResponseValidationError("unexpected cost estimate in response: no cost or unit")
    return structure(normalized, CostEstimate, what="cost estimate")


load_job_cost = loader(JobCost)
load_whoami = loader(Whoami)
load_usage = loader(Usage)
