"""The one cattrs _converter: every mapping between IonQ JSON and the models lives here."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .._models.api import (
    Backend,
    BackendStatus,
    Characterization,
    Fidelity,
    SessionSettings,
    SessionStatus,
    Timing,
    UsagePeriod,
)
from .._models.jobs import (
    CloneRequest,
    Compilation,
    ErrorMitigation,
    Failure,
    Job,
    JobCreated,
    JobStatus,
    Noise,
    Settings,
)
from ..errors import ResponseValidationError
from .fastpath import Ending, read_ending, read_job, read_job_created
from .fields import (
    lenient_enum,
    read_date,
    read_datetime,
    read_described_datetime,
    read_failure,
    read_loose_dict,
    read_metadata,
    read_noise,
    read_nullable_dict,
    read_optional_datetime,
    read_optional_int,
    read_optional_status,
    read_optional_str,
    read_status,
    read_string_tuple,
)

__all__ = [
    "dump_job",
    "dump_request",
    "load_ending",
    "load_job",
    "load_job_created",
    "load_metadata",
    "read_date",
    "read_datetime",
    "structure",
    "unstructure",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)

_converter = cattrs.Converter()


def _session_settings(value: Any, _: Any) -> SessionSettings:
    if value is None:
        return SessionSettings()
    return _settings_fn(value, SessionSettings)


_converter.register_structure_hook(str | None, read_optional_str)
_converter.register_structure_hook(int | None, read_optional_int)
_converter.register_structure_hook(JobStatus | str, read_status)
_converter.register_structure_hook(JobStatus | str | None, read_optional_status)
_converter.register_structure_hook(datetime, read_datetime)
_converter.register_structure_hook(datetime | None, read_optional_datetime)
_converter.register_structure_hook(dict[str, str] | None, read_metadata)
_converter.register_structure_hook(Failure | None, read_failure)
_converter.register_structure_hook(Noise | None, read_noise)
_converter.register_structure_hook(tuple[str, ...] | None, read_string_tuple)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any], read_loose_dict)
_converter.register_structure_hook_func(lambda t: t == dict[str, Any] | None, read_nullable_dict)
_converter.register_structure_hook(BackendStatus | str, lenient_enum(BackendStatus))
_converter.register_structure_hook(SessionStatus | str, lenient_enum(SessionStatus))
_converter.register_structure_hook(date | None, read_date)
for _renamed in (Fidelity, Timing):
    _converter.register_structure_hook(
        _renamed,
        make_dict_structure_fn(
            _renamed,
            _converter,
            one_qubit=override(rename="1q"),
            two_qubit=override(rename="2q"),
        ),
    )
_converter.register_structure_hook(
    Backend,
    make_dict_structure_fn(
        Backend, _converter, last_updated=override(struct_hook=read_described_datetime)
    ),
)
_converter.register_structure_hook(
    Characterization,
    make_dict_structure_fn(
        Characterization, _converter, date=override(struct_hook=read_described_datetime)
    ),
)
_converter.register_structure_hook(
    UsagePeriod,
    make_dict_structure_fn(UsagePeriod, _converter, from_date=override(rename="from")),
)
_settings_fn = make_dict_structure_fn(SessionSettings, _converter)
_converter.register_structure_hook(SessionSettings, _session_settings)


def _with_fast_path(
    cls: type[T], fast: Callable[[dict[str, Any]], T | None]
) -> Callable[[Any, Any], T]:
    """A structure hook: `fast` for the usual JSON object, cattrs' generated function else.

    The generated function pays for its error bookkeeping and a hook call on every field
    (most of a Job's structuring; docs/BENCHMARKS.md). `fast` gives what the field hooks
    would for the shape the API sends; whatever else it meets (None, or an exception) goes
    to the generated function, so what is accepted, how it is converted and every error
    message stay cattrs'. tests/test_serde.py checks that the two agree.
    """
    generated = make_dict_structure_fn(cls, _converter)

    def hook(value: Any, _: Any = None) -> T:
        if type(value) is dict:
            try:
                done = fast(value)
            except Exception:  # the generated function says what is wrong
                done = None
            if done is not None:
                return done
        return generated(value, cls)

    return hook


_structure_job = _with_fast_path(Job, read_job)
_converter.register_structure_hook(Job, _structure_job)
_structure_job_created = _with_fast_path(JobCreated, read_job_created)
_converter.register_structure_hook(JobCreated, _structure_job_created)


def _omit_unset(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """An unstructure hook that drops unset (None) fields and empty nested objects."""
    base = make_dict_unstructure_fn(cls, _converter)

    def unstructure(value: Any) -> dict[str, Any]:
        return {
            k: v
            for k, v in base(value).items()
            if v is not None and not (v == {} and attrs.has(type(getattr(value, k))))
        }

    return unstructure


for _cls in (Noise, ErrorMitigation, Compilation, Settings, CloneRequest):
    _converter.register_unstructure_hook(_cls, _omit_unset(_cls))


def _iso(value: datetime) -> str:
    """A timestamp as the API writes it: ISO 8601, UTC as `Z`."""
    return value.isoformat().replace("+00:00", "Z")


def _omit_none(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """An unstructure hook that drops the fields that are None (empty objects are kept)."""
    base = make_dict_unstructure_fn(cls, _converter)

    def unstructure(value: Any) -> dict[str, Any]:
        return {k: v for k, v in base(value).items() if v is not None}

    return unstructure


_converter.register_unstructure_hook(datetime, _iso)
_converter.register_unstructure_hook(Failure, _omit_none(Failure))
_converter.register_unstructure_hook(Job, _omit_none(Job))


def dump_job(job: Job) -> dict[str, Any]:
    """A Job as JSON data: unset fields left out, timestamps ISO 8601, statuses as strings."""
    data: dict[str, Any] = _converter.unstructure(job, Job)
    return data


def unstructure(value: Any) -> Any:
    """`value` (a model, or containers of models) as plain JSON data."""
    return _converter.unstructure(value)


_CLONE_FIELDS = tuple(f.name for f in attrs.fields(CloneRequest))
_SCALARS = frozenset({str, int, float, bool})


def dump_request(request: CloneRequest) -> dict[str, Any]:
    """The JSON body for a clone/move: set fields only, so the rest is inherited."""
    body: dict[str, Any] = {}
    for name in _CLONE_FIELDS:
        value = getattr(request, name)
        if value is None:
            continue
        if type(value) not in _SCALARS:
            # Nested settings, noise or metadata: the converter's hooks (a scalar, set,
            # is passed through by them as is, so the usual body is built here).
            full: dict[str, Any] = _converter.unstructure(request)
            return full
        body[name] = value
    return body


_INVALID = (cattrs.BaseValidationError, TypeError, ValueError, KeyError)


def _invalid(exc: Exception, what: str, data: Any) -> ResponseValidationError:
    if data is None:
        return ResponseValidationError(
            f"unexpected {what} in response: the body is empty or null, not a {what}"
        )
    if isinstance(exc, cattrs.BaseValidationError):
        reason = "; ".join(cattrs.transform_error(exc))
    else:
        reason = str(exc)
    return ResponseValidationError(f"unexpected {what} in response: {reason}")


def structure(data: Any, cls: type[T], *, what: str | None = None) -> T:
    """Structure `data` as `cls`, raising ResponseValidationError with a readable reason."""
    try:
        result: T = _converter.structure(data, cls)
        return result
    except _INVALID as exc:
        raise _invalid(exc, what or cls.__name__, data) from exc


def load_job(data: Any) -> Job:
    """A Job from its JSON; ResponseValidationError when it is not one."""
    try:
        # The converter's hook for Job, called without its dispatch (the hottest loader).
        return _structure_job(data, Job)
    except _INVALID as exc:
        raise _invalid(exc, "Job", data) from exc


def load_ending(data: Any) -> Ending:
    """The Ending of the Job `load_job(data)` gives (or its error), without building the Job."""
    if type(data) is dict:
        try:
            ending = read_ending(data)
        except Exception:  # load_job says what is wrong
            ending = None
        if ending is not None:
            return ending
    job = load_job(data)
    return Ending(job.status, job.failure, job.submitted_at, job.started_at, job.completed_at)


def load_job_created(data: Any, _: object = None) -> JobCreated:
    """The answer to a create, clone or move (the hook called without the converter's dispatch)."""
    try:
        return _structure_job_created(data, JobCreated)
    except _INVALID as exc:
        raise _invalid(exc, "JobCreated", data) from exc


def load_metadata(value: Any) -> dict[str, str] | None:
    """A job's raw `metadata` as str -> str (None when absent); ResponseValidationError else."""
    try:
        return read_metadata(value, None)
    except TypeError as exc:
        raise ResponseValidationError(f"unexpected job metadata: {exc}") from exc
