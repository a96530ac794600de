"""Offline IonQ v0.4 emulator for tests, demos and benchmarks."""

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
