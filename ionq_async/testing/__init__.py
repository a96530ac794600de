"""Offline IonQ v0.4 emulator for tests, demos and benchmarks."""

from ._app import RequestRecord
from ._faults import ROUTES, Fault, FaultPlan
from ._serve import serve
from ._server import FakeIonQ
from ._sim import simulate
from ._store import FAILURE_CODES, Fate, Job

__all__ = [
    "FAILURE_CODES",
    "ROUTES",
    "FakeIonQ",
    "Fate",
    "Fault",
    "FaultPlan",
    "Job",
    "RequestRecord",
    "serve",
    "simulate",
]
