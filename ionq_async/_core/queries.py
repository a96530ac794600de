"""The queries and bodies of the operations, each checked before anything is sent."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

from .._models.api import check_segment
from .._models.job_types import JOB_TYPES
from .._models.jobs import INT32_MAX, MAX_SHOTS, JobStatus, Money, check_job_id
from . import defaults as d
from .serde import read_date, read_datetime

__all__ = [
    "CHARACTERIZATION_PAGE",
    "GroupBy",
    "Modality",
    "Params",
    "TimeBound",
    "active_params",
    "characterization_params",
    "estimate_params",
    "id_list",
    "job_ids",
    "list_params",
    "session_body",
    "session_job_params",
    "time_bound",
    "usage_params",
    "with_cursor",
]

Params = Sequence[tuple[str, str]]
"""A query: (name, value) pairs, repeated names allowed."""
GroupBy = Literal["job", "project", "user"]
Modality = Literal["daily", "weekly", "monthly"]
TimeBound = dt.datetime | dt.date | str | int | float
CHARACTERIZATION_PAGE = 10
"""The largest page the spec allows for characterizations (also its default)."""
SESSION_JOB_PAGE = 25
_GROUPS: tuple[str, ...] = get_args(GroupBy)
_MODALITIES: tuple[str, ...] = get_args(Modality)


def _count(name: str, value: object, low: int, high: int = INT32_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}, got {value:,}")
    return value


def _flag(value: bool) -> str:
    return "true" if value else "false"


def with_cursor(params: Params, cursor: str | None) -> Params:
    """`params` asking for the page at `cursor` (the first page when None)."""
    return params if cursor is None else [*params, ("next", cursor)]


def id_list(values: Iterable[str], name: str, *, unique: bool = False) -> list[str]:
    """`values` as a list (each once, first seen first, if `unique`); one string is refused.

    A single id passed where a list is wanted would otherwise be read as 36 one-character ids.
    """
    if isinstance(values, str):
        raise TypeError(f"{name} must be a list of job ids, not a single string")
    return list(dict.fromkeys(values)) if unique else list(values)


def job_ids(job_ids: Iterable[str], name: str = "job_ids", *, unique: bool = False) -> list[str]:
    """`job_ids` as a list (each once if `unique`), each checked to be a canonical UUID.

    A bad id is named by its index in the caller's list, before repeats are dropped.
    """
    ids = id_list(job_ids, name)
    for i, job_id in enumerate(ids):
        check_job_id(job_id, f"{name}[{i}]")
    return list(dict.fromkeys(ids)) if unique else ids


def _text(name: str, value: object) -> str:
    """`value` if it is a non-empty string (an empty filter would be sent as `name=`)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def _texts(name: str, values: object) -> list[object]:
    if not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a str or a list of str, not {type(values).__name__}")
    return list(values)


def list_params(
    status: JobStatus | str | None,
    limit: int | None,
    ids: Iterable[str] | None,
    target: str | Iterable[str] | None,
    session_id: str | None,
    parent_job_id: str | None,
    submitter_id: str | None,
) -> list[tuple[str, str]]:
    """The query of `GET /jobs` for these filters, validated."""
    params: list[tuple[str, str]] = []
    if ids is not None:
        params += [("ids", i) for i in job_ids(ids, "ids")]
    if status is not None:
        params.append(("status", str(JobStatus(status))))
    if target is not None:
        targets = [target] if isinstance(target, str) else _texts("target", target)
        params.append(("target", ",".join(_text("target", t) for t in targets)))
    if session_id is not None:
        params.append(("session_id", _text("session_id", session_id)))
    if parent_job_id is not None:
        params.append(("parent_job_id", check_job_id(parent_job_id, "parent_job_id")))
    if submitter_id is not None:
        params.append(("submitter_id", _text("submitter_id", submitter_id)))
    if limit is not None:
        top = d.MAX_PAGE
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= top:
            raise ValueError(f"limit must be an int page size in 1..{top}, got {limit!r}")
        params.append(("limit", str(limit)))
    return params


def session_job_params(status: JobStatus | str | None, limit: int | None) -> list[tuple[str, str]]:
    """The query of `GET /sessions/{id}/jobs`: a status filter and a page size (1..25)."""
    params: list[tuple[str, str]] = []
    if status is not None:
        params.append(("status", str(JobStatus(status))))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit must be an int, not {type(limit).__name__}")
        if not 1 <= limit <= SESSION_JOB_PAGE:
            raise ValueError(f"limit must be a page size in 1..{SESSION_JOB_PAGE}, got {limit}")
        params.append(("limit", str(limit)))
    return params


def active_params(active: bool | None) -> list[tuple[str, str]] | None:
    """The query of `GET /sessions`: only open (or only ended) sessions, or all."""
    if active is None:
        return None
    if not isinstance(active, bool):
        raise TypeError(f"active must be a bool or None, not {type(active).__name__}")
    return [("active", _flag(active))]


def estimate_params(
    backend: object,
    type: object,
    qubits: object,
    shots: object,
    one_qubit_gates: object,
    two_qubit_gates: object,
    error_mitigation: object,
) -> list[tuple[str, str]]:
    """The estimate's query (`backend`, `type`, `qubits`, `shots`, `1q_gates`, ...), validated."""
    if not isinstance(backend, str) or not backend:
        raise ValueError(f"backend must be a non-empty string, got {backend!r}")
    params = [("backend", backend)]
    if type is not None:
        if type not in JOB_TYPES:
            raise ValueError(f"type must be one of {JOB_TYPES}, got {type!r}")
        params.append(("type", str(type)))
    params.append(("qubits", str(_count("qubits", qubits, 1))))
    if shots is not None:
        params.append(("shots", str(_count("shots", shots, 1, MAX_SHOTS))))
    params.append(("1q_gates", str(_count("one_qubit_gates", one_qubit_gates, 0))))
    params.append(("2q_gates", str(_count("two_qubit_gates", two_qubit_gates, 0))))
    if error_mitigation is not None:
        if not isinstance(error_mitigation, bool):
            raise TypeError(f"error_mitigation must be a bool, not {error_mitigation!r}")
        params.append(("error_mitigation", _flag(error_mitigation)))
    return params


def time_bound(value: object, name: str) -> str:
    """`value` (a datetime, date, ISO-8601 string or epoch seconds) as an ISO-8601 string."""
    if isinstance(value, bool) or not isinstance(value, dt.date | str | int | float):
        raise TypeError(
            f"{name} must be a datetime, date, ISO-8601 string or epoch seconds, "
            f"not {type(value).__name__}"
        )
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    try:
        moment = read_datetime(value)
    except (OverflowError, OSError, ValueError):
        what = "an ISO-8601 date or time" if isinstance(value, str) else "a valid epoch time"
        raise ValueError(f"{name} must be {what}, got {value!r}") from None
    if isinstance(value, str):
        return value
    # A naive datetime is UTC, like the API's own timestamps.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def characterization_params(
    start: TimeBound | None, end: TimeBound | None
) -> list[tuple[str, str]]:
    """The query of a backend's characterizations: full pages, dated `start <= date < end`."""
    params = [("limit", str(CHARACTERIZATION_PAGE))]
    if start is not None:
        params.append(("start", time_bound(start, "start")))
    if end is not None:
        params.append(("end", time_bound(end, "end")))
    return params


def _day(value: object, name: str) -> dt.date:
    """A calendar date from a date, a datetime (its date) or a "YYYY-MM-DD" string."""
    if not isinstance(value, dt.date | str):
        raise TypeError(f"{name} must be a date or a YYYY-MM-DD string, not {type(value).__name__}")
    try:
        day = read_date(value) if not isinstance(value, str) or len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    return day


def _choice(value: object, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return str(value)


def usage_params(
    start_date: dt.date | str, end_date: dt.date | str, group_by: str, modality: str
) -> list[tuple[str, str]]:
    """The query of `GET /organizations/{id}/usage`, checked: `end_date` is after `start_date`."""
    start, end = _day(start_date, "start_date"), _day(end_date, "end_date")
    if end <= start:
        raise ValueError(f"end_date ({end}) must be after start_date ({start}); it is exclusive")
    return [
        ("start_date", start.isoformat()),
        ("end_date", end.isoformat()),
        ("group_by", _choice(group_by, "group_by", _GROUPS)),
        ("modality", _choice(modality, "modality", _MODALITIES)),
    ]


def _cost_limit(value: object) -> dict[str, Any]:
    """`{unit, value}` from a Money or a bare number of US dollars."""
    if isinstance(value, Money):
        amount, unit = value.value, value.unit
    elif isinstance(value, int | float) and not isinstance(value, bool):
        amount, unit = value, "usd"
    else:
        raise TypeError(f"cost_limit must be a Money or a number, not {type(value).__name__}")
    if not isinstance(unit, str) or not unit:
        raise ValueError(f"cost_limit unit must be a non-empty str, got {unit!r}")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"cost_limit value must be a number, not {type(amount).__name__}")
    if not (math.isfinite(amount) and amount > 0):
        raise ValueError(f"cost_limit must be a positive amount, got {amount!r}")
    return {"unit": unit, "value": amount}


def session_body(
    backend: str,
    job_count_limit: int | None,
    duration_limit_min: int | None,
    cost_limit: Money | float | None,
) -> dict[str, Any]:
    """The `POST /sessions` body: the backend, and only the limits that were set."""
    check_segment(backend, "backend")
    settings: dict[str, Any] = {}
    if job_count_limit is not None:
        settings["job_count_limit"] = _count("job_count_limit", job_count_limit, 1)
    if duration_limit_min is not None:
        settings["duration_limit_min"] = _count("duration_limit_min", duration_limit_min, 1)
    if cost_limit is not None:
        settings["cost_limit"] = _cost_limit(cost_limit)
    return {"backend": backend, "settings": settings} if settings else {"backend": backend}
