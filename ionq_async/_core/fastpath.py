"""Direct readers of the hottest answers (a Job, a created job) and a fast slot filler.

cattrs' generated structuring function pays, on every field, for a hook call and its error
bookkeeping, and attrs' `__init__` sets each slot through `object.__setattr__`; for a Job
that was most of the SDK's own CPU per `jobs.get` (docs/BENCHMARKS.md). The readers here
give what those hooks would for the shape the API sends, or None for anything else (which
serde then hands to the generated function, so what is accepted and every error message
stay cattrs').
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import attrs

from .._models.jobs import Failure, Job, JobCreated, JobStatus
from .fields import (
    STATUSES,
    read_datetime,
    read_failure,
    read_metadata,
    read_noise,
    read_string_tuple,
)

__all__ = ["Ending", "read_ending", "read_job", "read_job_created", "slot_filler"]

T = TypeVar("T")


def slot_filler(cls: type[Any]) -> Callable[..., Any]:
    """A function building `cls` from its fields in order, its slots filled directly.

    Only for a slotted attrs class whose `__init__` does nothing but set each field (no
    validator, converter or post-init); for any other class the function calls `cls`.
    """
    fields = attrs.fields(cls)
    names = [f.name for f in fields]
    plain = (
        "__slots__" in cls.__dict__
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(f.init and f.validator is None and f.converter is None for f in fields)
    )
    if not plain:
        return lambda *values: cls(**dict(zip(names, values, strict=True)))
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    scope.update({f"_set_{n}": cls.__dict__[n].__set__ for n in names})
    lines = [f"def fill({', '.join(names)}):", "    self = _new(_cls)"]
    lines += [f"    _set_{n}(self, {n})" for n in names]
    lines += ["    return self"]
    exec(compile("\n".join(lines), f"<slot filler {cls.__qualname__}>", "exec"), scope)
    fill: Callable[..., Any] = scope["fill"]
    return fill


class Ending(NamedTuple):
    """What a batch keeps of a finished job: the Job's status, failure and timestamps."""

    status: JobStatus | str
    failure: Failure | None
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None


_JOB_FIELDS = tuple(f.name for f in attrs.fields(Job))
_AT = {name: i for i, name in enumerate(_JOB_FIELDS)}
_STRINGS = tuple(
    _AT[n]
    for n in (
        "type",
        "backend",
        "name",
        "submitter_id",
        "project_id",
        "parent_job_id",
        "session_id",
        "cost_model",
    )
)
_INTS = tuple(
    _AT[n]
    for n in (
        "shots",
        "predicted_wait_time_ms",
        "predicted_execution_duration_ms",
        "execution_duration_ms",
    )
)
_TIMES = tuple(_AT[n] for n in ("submitted_at", "started_at", "completed_at"))
_DICTS = tuple(_AT[n] for n in ("settings", "stats", "output"))
_READ = tuple(
    (_AT[n], read)
    for n, read in (
        ("metadata", read_metadata),
        ("noise", read_noise),
        ("failure", read_failure),
        ("child_job_ids", read_string_tuple),
    )
)
_ID, _STATUS, _DRY_RUN, _RESULTS = (_AT[n] for n in ("id", "status", "dry_run", "results"))
_ENDING = operator.itemgetter(*(_AT[n] for n in Ending._fields))
_new_job = slot_filler(Job)
UNREAD = sorted(
    set(_JOB_FIELDS)
    - {_JOB_FIELDS[i] for i in (*_STRINGS, *_INTS, *_TIMES, *_DICTS, _ID, _STATUS, _DRY_RUN)}
    - {_JOB_FIELDS[i] for i, _ in _READ}
    - {"results"}
)
"""Job fields this reader does not know (one added to the model only): then cattrs reads all."""


def read_job(o: dict[str, Any]) -> Job | None:
    """The usual Job answer read directly; None for anything the field hooks would convert."""
    values = _job_values(o)
    if values is None:
        return None
    job: Job = _new_job(*values)
    return job


def read_ending(o: dict[str, Any]) -> Ending | None:
    """The Ending of the Job `read_job` would build (no Job built); None where it gives None."""
    values = _job_values(o)
    if values is None:
        return None
    return Ending._make(_ENDING(values))


def _job_values(o: dict[str, Any]) -> list[Any] | None:
    """A Job's field values in order, as `read_job` reads them; None when a hook would convert.

    Each value is what the field's hook returns for it: a `str | None` or `int | None`
    value that already has that type is kept; an absent field reads as None, which every
    hook turns into the field's default (so the hooks that build something are called
    only for a value that is there). Anything else returns None, and the generated
    function reads it (and converts, or says what is wrong).
    """
    if UNREAD:
        return None
    values = list(map(o.get, _JOB_FIELDS))
    status = values[_STATUS]
    if type(values[_ID]) is not str or type(status) is not str:
        return None
    for i in _STRINGS:
        if values[i] is not None and type(values[i]) is not str:
            return None
    for i in _INTS:
        if values[i] is not None and type(values[i]) is not int:
            return None
    values[_STATUS] = STATUSES.get(status, status)
    values[_DRY_RUN] = bool(values[_DRY_RUN])
    for i in _TIMES:
        v = values[i]
        if type(v) is str:
            v = datetime.fromisoformat(v)
            values[i] = v if v.tzinfo is not None else v.replace(tzinfo=UTC)
        elif v is not None:
            values[i] = read_datetime(v)
    for i, read in _READ:
        if values[i] is not None:
            values[i] = read(values[i], None)
    for i in _DICTS:
        if type(values[i]) is not dict:
            values[i] = {}
    if type(values[_RESULTS]) is not dict:
        values[_RESULTS] = None
    return values


_new_job_created = slot_filler(JobCreated)


def read_job_created(o: dict[str, Any]) -> JobCreated | None:
    """The usual clone/create answer read directly; None when a hook would convert."""
    job_id, status, session_id = o["id"], o.get("status"), o.get("session_id")
    if type(job_id) is not str or (status is not None and type(status) is not str):
        return None
    if session_id is not None and type(session_id) is not str:
        return None
    created: JobCreated = _new_job_created(
        job_id, None if status is None else STATUSES.get(status, status), session_id
    )
    return created
