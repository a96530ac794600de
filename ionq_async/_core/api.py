"""Every operation of the IonQ v0.4 API, declared once: method, path, query or body, answer, kind.

A declaration is called with its typed arguments and gives a Request, which the request
path (`RequestPath.send`) sends; the kind decides what may be retried:

- `SAFE` (GET): reads; every transient failure is retried.
- `IDEMPOTENT` (PUT, DELETE, and the POSTs whose repetition changes nothing: ending a
  session): retried like a read.
- `CREATING` (a POST that creates a job or a paid thing): answered once. Only a request
  that surely never left is sent again; a lost or unreadable answer is a
  SubmissionUnknownError (the idempotent clone reconciles it by its token).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .._models.api import check_segment
from .._models.job_types import check_create_payload
from .._models.jobs import Money, check_job_id
from . import loaders as ld
from .declaration import Call, Operation, Request
from .queries import Params, active_params, session_body, usage_params
from .retry import Kind

__all__ = ["OPERATIONS", "Call", "Kind", "Operation", "Request", "find"]

SAFE, IDEMPOTENT, CREATING = Kind.SAFE, Kind.IDEMPOTENT, Kind.CREATING


# --- how each call is built ----------------------------------------------------------------


def _nothing() -> Call:
    return Call()


def _query(params: Params) -> Call:
    return Call(params=params)


def _job(job_id: str) -> Call:
    return Call((check_job_id(job_id),), subject=job_id)


def _job_query(job_id: str, params: Params | None = None) -> Call:
    return Call((check_job_id(job_id),), params=params)


def _job_change(status: str) -> Callable[[str], Call]:
    def build(job_id: str) -> Call:
        return Call((check_job_id(job_id),), subject=(job_id, status))

    return build


def _jobs_change(status: str) -> Callable[[Sequence[str]], Call]:
    def build(ids: Sequence[str]) -> Call:
        return Call(body={"ids": list(ids)}, subject=(ids, status))

    return build


def _post_to_job(job_id: str, body: Mapping[str, Any]) -> Call:
    return Call((check_job_id(job_id),), body=body)


def _artifact(job_id: str, artifact_id: str) -> Call:
    if not isinstance(artifact_id, str) or artifact_id in ("", ".", ".."):
        raise ValueError(f"artifact_id must be an artifact id string, got {artifact_id!r}")
    return Call((check_job_id(job_id), quote(artifact_id, safe="")))


def _create_job(payload: Mapping[str, Any]) -> Call:
    return Call(body=check_create_payload(payload))


def _segment(name: str) -> Callable[[str], Call]:
    def build(value: str) -> Call:
        return Call((check_segment(value, name),), subject=value)

    return build


def _segment_query(name: str) -> Callable[[str, Params], Call]:
    def build(value: str, params: Params) -> Call:
        return Call((check_segment(value, name),), params=params)

    return build


def _characterization(name: str, id: str) -> Call:
    return Call((check_segment(name, "name"), check_job_id(id, "id")))


def _sessions(active: bool | None = None) -> Call:
    return Call(params=active_params(active))


def _create_session(
    backend: str,
    job_count_limit: int | None = None,
    duration_limit_min: int | None = None,
    cost_limit: Money | float | None = None,
) -> Call:
    return Call(body=session_body(backend, job_count_limit, duration_limit_min, cost_limit))


def _usage(
    organization_id: str, start_date: Any, end_date: Any, group_by: str, modality: str
) -> Call:
    check_segment(organization_id, "organization_id")
    return Call((organization_id,), params=usage_params(start_date, end_date, group_by, modality))


def _at(path: str, params: Params) -> Call:
    return Call((path,), params=params)


# --- the declarations ----------------------------------------------------------------------

GET_WHOAMI = Operation(
    "getWhoami",
    "GET /whoami",
    SAFE,
    _nothing,
    ld.load_whoami,
)
GET_BACKENDS = Operation(
    "getBackends",
    "GET /backends",
    SAFE,
    _nothing,
    ld.load_backends,
)
GET_BACKEND = Operation(
    "getBackend",
    "GET /backends/{backend}",
    SAFE,
    _segment("name"),
    ld.load_backend,
)
GET_CHARACTERIZATIONS = Operation(
    "getCharacterizationsForBackend",
    "GET /backends/{backend}/characterizations",
    SAFE,
    _segment_query("name"),
    ld.load_characterizations,
)
GET_CHARACTERIZATION = Operation(
    "getCharacterization",
    "GET /backends/{backend}/characterizations/{UUID}",
    SAFE,
    _characterization,
    ld.load_characterization,
)
CREATE_JOB = Operation(
    "CreateJob",
    "POST /jobs",
    CREATING,
    _create_job,
    ld.load_job_created,
)
GET_JOBS = Operation(
    "GetJobs",
    "GET /jobs",
    SAFE,
    _query,
    ld.load_jobs,
)
DELETE_JOBS = Operation(
    "DeleteJobs",
    "DELETE /jobs",
    IDEMPOTENT,
    _jobs_change("deleted"),
    ld.load_many_changed,
)
CLONE_JOB = Operation(
    "CloneJob",
    "POST /jobs/{UUID}/clone",
    CREATING,
    _post_to_job,
    ld.load_job_created,
)
MOVE_JOB = Operation(
    "MoveJob",
    "POST /jobs/{UUID}/move",
    CREATING,
    _post_to_job,
    ld.load_job_created,
)
GET_JOB = Operation(
    "GetJob",
    "GET /jobs/{UUID}",
    SAFE,
    _job,
    ld.load_job_named,
)
DELETE_JOB = Operation(
    "DeleteJob",
    "DELETE /jobs/{UUID}",
    IDEMPOTENT,
    _job_change("deleted"),
    ld.load_one_changed,
)
GET_JOB_COST = Operation(
    "GetJobCost",
    "GET /jobs/{UUID}/cost",
    SAFE,
    _job,
    ld.load_job_cost,
)
CANCEL_JOB = Operation(
    "CancelJob",
    "PUT /jobs/{UUID}/status/cancel",
    IDEMPOTENT,
    _job_change("canceled"),
    ld.load_one_changed,
)
CANCEL_JOBS = Operation(
    "CancelJobs",
    "PUT /jobs/status/cancel",
    IDEMPOTENT,
    _jobs_change("canceled"),
    ld.load_many_changed,
)
ESTIMATE_JOB_COST = Operation(
    "EstimateJobCost",
    "GET /jobs/estimate",
    SAFE,
    _query,
    ld.load_estimate,
)
GET_JOB_PROBABILITIES = Operation(
    "GetJobProbabilities",
    "GET /jobs/{UUID}/results/probabilities",
    SAFE,
    _job_query,
    ld.load_raw,
)
GET_JOB_ARTIFACT = Operation(
    "GetJobArtifact",
    "GET /jobs/{UUID}/artifacts/{artifactId}",
    SAFE,
    _artifact,
    ld.load_raw,
)
# Creating: a session reserves a backend and may carry a cost limit, and no token can find
# it again after a lost answer, so a second POST could open a second paid session.
CREATE_SESSION = Operation(
    "CreateSession",
    "POST /sessions",
    CREATING,
    _create_session,
    ld.load_session,
)
GET_SESSIONS = Operation(
    "GetSessions",
    "GET /sessions",
    SAFE,
    _sessions,
    ld.load_sessions,
)
# Idempotent: ending an ended session is harmless and answers the session as it is.
END_SESSION = Operation(
    "EndSession",
    "POST /sessions/{session_id}/end",
    IDEMPOTENT,
    _segment("id"),
    ld.load_session_named,
)
GET_SESSION = Operation(
    "GetSession",
    "GET /sessions/{session_id}",
    SAFE,
    _segment("id"),
    ld.load_session_named,
)
GET_SESSION_JOBS = Operation(
    "GetSessionJobs",
    "GET /sessions/{session_id}/jobs",
    SAFE,
    _segment_query("id"),
    ld.load_jobs,
)
GET_FORMAT_SCHEMA = Operation(
    "GetFormatSchema",
    "GET /schemas/formats/{format}",
    SAFE,
    _segment("name"),
    ld.load_schema,
)
GET_USAGE = Operation(
    "get-usages",
    "GET /organizations/{organization_id}/usage",
    SAFE,
    _usage,
    ld.load_usage,
)

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    GET_WHOAMI,
    GET_BACKENDS,
    GET_BACKEND,
    GET_CHARACTERIZATIONS,
    GET_CHARACTERIZATION,
    CREATE_JOB,
    GET_JOBS,
    DELETE_JOBS,
    CLONE_JOB,
    MOVE_JOB,
    GET_JOB,
    DELETE_JOB,
    GET_JOB_COST,
    CANCEL_JOB,
    CANCEL_JOBS,
    ESTIMATE_JOB_COST,
    GET_JOB_PROBABILITIES,
    GET_JOB_ARTIFACT,
    CREATE_SESSION,
    GET_SESSIONS,
    END_SESSION,
    GET_SESSION,
    GET_SESSION_JOBS,
    GET_FORMAT_SCHEMA,
    GET_USAGE,
)
"""The spec's 25 operations, each once."""

# Not in the spec: a result the job names by URL (`results.<kind>.url`), on the API's host.
GET_RESULT_AT = Operation("(result URL)", "GET {path}", SAFE, _at, ld.load_raw)

_PATTERNS = [
    (op, re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(op.path)) + "$"))
    for op in OPERATIONS
]


def find(method: str, path: str) -> Operation[Any, Any]:
    """The declared operation that `method path` is a call of; ValueError if none."""
    exact = [op for op, pattern in _PATTERNS if op.method == method and op.path == path]
    if exact:
        return exact[0]
    for op, pattern in _PATTERNS:
        if op.method == method and pattern.match(path):
            return op
    raise ValueError(f"{method} {path} is no operation of the API")
