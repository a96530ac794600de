"""Offline IonQ v0.4 emulator for tests, demos and benchmarks.

``FakeIonQ`` options that model how the live service differs from a plain store:

- ``cost_factor`` (float >= 0, default 1.0): a completed job is billed its rate-card estimate
  times this factor, rounded to cents. The billed figure is the ``cost`` of GET /jobs/{id}/cost
  and every amount of GET /organizations/{id}/usage; estimates (``estimated_cost``, GET
  /jobs/estimate, session cost limits) stay at the rate card, so a factor above 1 shows IonQ
  billing more than it estimated.
- ``list_lag`` (seconds >= 0, default 0): job listings (GET /jobs with any filter, ``ids``
  lookups included, and GET /sessions/{id}/jobs) show a job only ``list_lag`` seconds after the
  emulator stored it, like an eventually consistent index; GET /jobs/{id} sees it at once. Time
  is the emulator's clock (``clock=``, else ``time.time``); a seeded job counts from the moment
  ``add_job`` stored it.
- Faults on ending a session: POST /sessions/{id}/end is the ``FaultPlan`` route
  ``"end_session"`` (every route name is in ``ROUTES``). A fault that answers before the handler
  (``Fault.http``, ``html``, ``reset``, ``hang``) leaves the session open; ``commit_then_fail``
  and ``truncated`` end it, then drop the connection, answer their status or cut the body.

A job, clone, session or estimate may name its backend ``"qpu"``, as IonQ's qiskit-ionq does for
its bare ``ionq_qpu``: the emulator reads it as the default QPU, the first ``qpu.*`` backend of
its catalogue (``qpu.forte-1``), and the job shows that backend.

``python -m ionq_async.testing --help`` lists the standalone server's options.
"""

from ._app import RequestRecord
from ._artifacts import CIRCUIT_FORMATS, RESULTS_SHAPES, ResultsShape
from ._backends import BackendInfo
from ._estimate import ESTIMATE_SHAPES, EstimateShape
from ._faults import ROUTES, Fault, FaultPlan
from ._ratecard import RATES, Rate, execution_time_ms, job_cost
from ._serve import serve
from ._server import FakeIonQ
from ._sessions import SESSION_CODES, Session
from ._sim import simulate
from ._store import FAILURE_CODES, Fate, Job

__all__ = [
    "CIRCUIT_FORMATS",
    "ESTIMATE_SHAPES",
    "FAILURE_CODES",
    "RATES",
    "RESULTS_SHAPES",
    "ROUTES",
    "SESSION_CODES",
    "BackendInfo",
    "EstimateShape",
    "FakeIonQ",
    "Fate",
    "Fault",
    "FaultPlan",
    "Job",
    "Rate",
    "RequestRecord",
    "ResultsShape",
    "Session",
    "execution_time_ms",
    "job_cost",
    "serve",
    "simulate",
]
