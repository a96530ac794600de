"""`client.jobs`: every call on IonQ v0.4 jobs, as typed async methods."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from typing import Any, Unpack

import attrs

from .._batch.estimate import RerunEstimate, estimate_rerun
from .._batch.run import Engines, RerunStream, rerun, rerun_all
from .._batch.types import RerunKwargs, RerunOptions, RerunReport
from .._core import api
from .._core import defaults as d
from .._core.http import RequestPath
from .._core.operations import JobOperations
from .._core.queries import estimate_params, list_params
from .._core.queries import job_ids as _ids
from .._core.retry import RetryPolicy
from .._core.serde import dump_request
from .._engine.idempotency import TokenIndex, clone_idempotent, new_token, tokened
from .._engine.polling import OnStatus, Poller, PollPolicy
from .._engine.waits import wait, wait_many
from .._models.answers import CostEstimate, JobsStatusChange, JobStatusChange
from .._models.jobs import (
    CloneFields,
    CloneRequest,
    Job,
    JobCost,
    JobCreated,
    JobStatus,
    check_job_id,
)
from .._models.results import Results
from ..errors import IonQError
from .listing import JobListing
from .result_formats import read_probabilities
from .result_reader import ResultReader
from .results import probabilities_source

__all__ = ["Jobs"]

logger = logging.getLogger("ionq_async")

_CLONE_FIELDS = frozenset(f.name for f in attrs.fields(CloneRequest))


def _clone_request(request: CloneRequest | None, fields: Mapping[str, Any]) -> CloneRequest:
    """`request` with the keyword fields that were given (not None) applied on top."""
    if request is not None and not isinstance(request, CloneRequest):
        raise TypeError(f"request must be a CloneRequest, not {type(request).__name__}")
    unknown = sorted(set(fields) - _CLONE_FIELDS)
    if unknown:
        raise TypeError(f"unknown clone field(s): {', '.join(unknown)}")
    given = {k: v for k, v in fields.items() if v is not None}
    if request is None:
        return CloneRequest(**given)
    return attrs.evolve(request, **given) if given else request


class Jobs:
    """Job operations of one AsyncIonQ client (`client.jobs`)."""

    def __init__(self, http: RequestPath, *, listing_lag: float = d.NOT_FOUND_GRACE) -> None:
        self._http = http
        self._listing_lag = listing_lag
        self._ops = JobOperations(http)
        self._polls: Poller | None = None
        self._tokens: TokenIndex | None = None
        self._closed = False

    @property
    def _token_index(self) -> TokenIndex:
        """Finds idempotent clones by their client token (shared by every call)."""
        if self._tokens is None:
            self._tokens = TokenIndex(self._ops, listing_lag=self._listing_lag)
        return self._tokens

    @property
    def _poller(self) -> Poller:
        """The client's shared poller (created on first use, inside the event loop)."""
        if self._polls is None:
            if self._closed:
                raise RuntimeError("the client is closed; create a new AsyncIonQ")
            self._polls = Poller(
                self._ops,
                retry=self._http.retry,
                budget=self._http.budget,
                pause=self._http.limiter.pause,
                not_found_grace=self._listing_lag,
            )
        return self._polls

    async def _close(self) -> None:
        """Stop the poller and await its background work (called by `client.close()`)."""
        self._closed = True
        if self._polls is not None:
            await self._polls.close()

    def _engines(self) -> Engines:
        return Engines(
            self._ops,
            self._poller,
            self._token_index,
            self._http.retry,
            self._http.budget,
            cancel=self.cancel_many,
        )

    async def create(
        self,
        payload: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
    ) -> JobCreated:
        """Submit a new job: any JobCreationPayload type (see `JOB_TYPES`), as a mapping."""
        return await self._http.send(api.CREATE_JOB(payload), retry)

    async def clone(
        self,
        job_id: str,
        request: CloneRequest | None = None,
        *,
        idempotent: bool = False,
        retry: RetryPolicy | None = None,
        **fields: Unpack[CloneFields],
    ) -> JobCreated:
        """Create a new job from `job_id`'s circuit; every field left unset is inherited.

        The CloneRequest fields may also be given as keywords (`shots=500`). With
        `idempotent`, the clone carries a client token in its metadata (merged into the
        source job's metadata, fetched first, unless you set metadata), and a lost answer
        is resolved by finding that token instead of cloning twice.
        """
        check_job_id(job_id)
        body = dump_request(_clone_request(request, fields))
        if not idempotent:
            return await self._http.send(api.CLONE_JOB(job_id, body), retry)
        token = new_token()
        return await clone_idempotent(
            self._ops,
            job_id,
            await tokened(self._ops, job_id, body, token, known=None, retry=retry),
            token=token,
            index=self._token_index,
            retry=retry or self._http.retry,
            budget=self._http.budget,
        )

    async def move(
        self,
        job_id: str,
        request: CloneRequest | None = None,
        *,
        retry: RetryPolicy | None = None,
        **fields: Unpack[CloneFields],
    ) -> JobCreated:
        """Clone `job_id` and cancel it in one request (409 if it can no longer be canceled)."""
        check_job_id(job_id)
        body = dump_request(_clone_request(request, fields))
        return await self._http.send(api.MOVE_JOB(job_id, body), retry)

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job:
        """Read one job."""
        return await self._http.send(api.GET_JOB(job_id), retry)

    def list(
        self,
        *,
        status: JobStatus | str | None = None,
        limit: int | None = None,
        ids: Iterable[str] | None = None,
        target: str | Iterable[str] | None = None,
        session_id: str | None = None,
        parent_job_id: str | None = None,
        submitter_id: str | None = None,
        cursor: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> JobListing:
        """Every job matching the filters, newest first: `async for` follows `next` across pages.

        `await` it instead for one JobPage, whose `next` passed back as `cursor` resumes
        the listing there. `limit` is the page size, not a cap on the total.
        """
        params = list_params(status, limit, ids, target, session_id, parent_job_id, submitter_id)
        return JobListing(self._ops, params, cursor=cursor, retry=retry)

    async def cancel(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobStatusChange:
        """Cancel a job that has not finished; the API's `{id, status}` answer."""
        return await self._http.send(api.CANCEL_JOB(job_id), retry)

    async def cancel_many(
        self, job_ids: Iterable[str], *, retry: RetryPolicy | None = None
    ) -> JobsStatusChange:
        """Cancel several jobs in one request (no ids: no request, an answer with no ids)."""
        return await self._change_many(api.CANCEL_JOBS, "canceled", job_ids, retry)

    async def delete(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobStatusChange:
        """Delete a job; the API's `{id, status}` answer."""
        return await self._http.send(api.DELETE_JOB(job_id), retry)

    async def delete_many(
        self, job_ids: Iterable[str], *, retry: RetryPolicy | None = None
    ) -> JobsStatusChange:
        """Delete several jobs in one request (no ids: no request, an answer with no ids)."""
        return await self._change_many(api.DELETE_JOBS, "deleted", job_ids, retry)

    async def _change_many(
        self,
        op: api.Operation[[Sequence[str]], JobsStatusChange],
        status: str,
        job_ids: Iterable[str],
        retry: RetryPolicy | None,
    ) -> JobsStatusChange:
        ids = _ids(job_ids)
        if not ids:
            return JobsStatusChange(ids=(), status=status)
        return await self._http.send(op(ids), retry)

    async def estimate(
        self,
        backend: str,
        *,
        qubits: int,
        shots: int | None = None,
        one_qubit_gates: int = 0,
        two_qubit_gates: int = 0,
        error_mitigation: bool | None = None,
        type: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> CostEstimate:
        """The predicted cost, execution time and queue time of a job of this size."""
        params = estimate_params(
            backend, type, qubits, shots, one_qubit_gates, two_qubit_gates, error_mitigation
        )
        return await self._ops.estimate(params, retry=retry)

    async def results(self, job_id: str, *, retry: RetryPolicy | None = None) -> Results:
        """A completed job's Results: probabilities, counts, shots; per child circuit too."""
        check_job_id(job_id)
        return await ResultReader(self._http, self._ops).results(job_id, retry)

    async def artifact(
        self, job_id: str, artifact_id: str, *, retry: RetryPolicy | None = None
    ) -> Any:
        """One artifact of a job (an `id` from its `results` map), decoded from JSON."""
        return await self._http.send(api.GET_JOB_ARTIFACT(job_id, artifact_id), retry)

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost:
        """A job's estimated and actual cost."""
        return await self._ops.cost(job_id, retry=retry)

    async def probabilities(
        self,
        job_id: str,
        *,
        sharpen: bool | None = None,
        retry: RetryPolicy | None = None,
    ) -> dict[str, float]:
        """A completed job's probabilities as `{decimal state: probability}` (qubit 0 = bit 0).

        It follows whichever the job offers: a probabilities artifact (v1 or v2 format) or
        the legacy `results.probabilities.url`.
        """
        job = await self.get(job_id, retry=retry)
        extra = [] if sharpen is None else [("sharpen", "true" if sharpen else "false")]
        fmt, request = probabilities_source(self._http.base_url, job_id, job.results, extra)
        probabilities, _ = read_probabilities(await self._http.send(request, retry), fmt)
        return {str(state): p for state, p in probabilities.items()}

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = True,
        on_status: OnStatus | None = None,
        cancel_on_timeout: bool = False,
    ) -> Job:
        """Await `job_id` until it is completed, failed or canceled; return the final Job.

        With `raise_on_failure`, `failed` raises JobFailedError and `canceled` raises
        JobCanceledError. `timeout` (seconds for the whole wait) raises WaitTimeoutError
        with the last job seen. `on_status(job)` is called on every status change. With
        `cancel_on_timeout`, a wait that times out or is cancelled also cancels the job.
        """
        check_job_id(job_id)
        _check_wait(timeout, poll, on_status)
        return await wait(
            self._poller,
            job_id,
            self._cancel_quietly,
            timeout=timeout,
            poll=poll,
            raise_on_failure=raise_on_failure,
            on_status=on_status,
            cancel_on_timeout=cancel_on_timeout,
        )

    def wait_many(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = False,
        on_status: OnStatus | None = None,
    ) -> AsyncGenerator[Job, None]:
        """Yield each job once, as it reaches a terminal state (completion order).

        `timeout` bounds the whole iteration; past it WaitTimeoutError names the first
        job still unfinished. Leaving the loop early stops watching the rest once the
        iterator is closed (`async with contextlib.aclosing(...)` makes that immediate).
        """
        ids = _ids(job_ids, unique=True)
        _check_wait(timeout, poll, on_status)
        return wait_many(
            self._poller,
            ids,
            timeout=timeout,
            poll=poll,
            raise_on_failure=raise_on_failure,
            on_status=on_status,
        )

    async def estimate_rerun(
        self,
        source_ids: Iterable[str],
        request: CloneRequest | None = None,
        *,
        retry: RetryPolicy | None = None,
        **fields: Unpack[CloneFields],
    ) -> RerunEstimate:
        """What re-running `source_ids` with `request` would cost, per source and in total."""
        body = dump_request(_clone_request(request, fields))
        return await estimate_rerun(self._ops, source_ids, body, retry=retry)

    def rerun(
        self,
        source_ids: Iterable[str],
        request: CloneRequest | None = None,
        **options: Unpack[RerunKwargs],
    ) -> RerunStream:
        """Clone every source job with `request`; a stream of each RerunOutcome as it finishes.

        Every distinct source id is accounted once; options are RerunOptions. Use it as
        `async with`: leaving the block stops the batch (see RerunStream).
        """
        body, opts = _rerun_args(request, options)
        return rerun(self._engines(), source_ids, body, opts)

    async def rerun_all(
        self,
        source_ids: Iterable[str],
        request: CloneRequest | None = None,
        **options: Unpack[RerunKwargs],
    ) -> RerunReport:
        """Like `rerun`, to the end: a RerunReport with every outcome in input order."""
        body, opts = _rerun_args(request, options)
        return await rerun_all(self._engines(), source_ids, body, opts)

    async def _cancel_quietly(self, job_id: str) -> None:
        try:
            await self.cancel(job_id)
        except IonQError as exc:
            logger.warning("could not cancel job %s after its wait ended: %s", job_id, exc)


def _check_wait(timeout: Any, poll: Any, on_status: Any) -> None:
    """A wait's options checked before it starts (the poller would read them later, or never)."""
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if poll is not None and not isinstance(poll, PollPolicy):
        raise TypeError(f"poll must be a PollPolicy or None, not {type(poll).__name__}")
    if on_status is not None and not callable(on_status):
        raise TypeError(f"on_status must be callable or None, not {type(on_status).__name__}")


def _rerun_args(
    request: CloneRequest | None, options: Mapping[str, Any]
) -> tuple[dict[str, Any], RerunOptions]:
    if request is not None and not isinstance(request, CloneRequest):
        raise TypeError(f"request must be a CloneRequest, not {type(request).__name__}")
    unknown = sorted(set(options) - {f.name for f in attrs.fields(RerunOptions)})
    if unknown:
        raise TypeError(f"unknown rerun option(s): {', '.join(unknown)}")
    return (dump_request(request) if request is not None else {}), RerunOptions(**options)
