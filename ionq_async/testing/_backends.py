"""Backends (statuses, queue times) and their paged characterizations."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from aiohttp import web

from ._http import BadRequest, NotFound, json_response, query_int

BackendStatus = Literal["available", "unavailable", "retired"]
QIS_GATES = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "cnot", "swap"]
CHARACTERIZATION_DAYS = 30
"""Daily characterizations kept per QPU backend, newest dated ``LAST_UPDATED``."""
LAST_UPDATED = dt.datetime(2026, 6, 16, tzinfo=dt.UTC)
MAX_LIMIT = 10
DEFAULT_QPU = "qpu"
"""The backend name IonQ's clients send for "the default QPU" (qiskit-ionq's bare ``ionq_qpu``)."""


@dataclass
class BackendInfo:
    """One backend as GET /backends shows it; edit through ``FakeIonQ.set_backend``."""

    backend: str
    qubits: int
    status: BackendStatus = "available"
    average_queue_time: int = 0
    degraded: bool = False
    location: str | None = None
    kw: float | None = None
    characterizations: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The Backend schema body."""
        body: dict[str, Any] = {
            "backend": self.backend,
            "status": self.status,
            "qubits": self.qubits,
            "average_queue_time": self.average_queue_time,
            "last_updated": LAST_UPDATED.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "degraded": self.degraded,
            "supported_gates": [*QIS_GATES, "xx", "yy", "zz", "not"],
            "supported_native_gates": ["gpi", "gpi2", "ms", "zz"],
        }
        if self.backend.startswith("qpu."):
            body["supported_error_mitigations"] = ["debiasing"]
        if self.characterizations:
            body["characterization_id"] = self.characterizations[0]["id"]
        if self.location is not None:
            body["location"] = self.location
        if self.kw is not None:
            body["kw"] = self.kw
        return body


def default_backends(seed: int) -> dict[str, BackendInfo]:
    """The emulator's catalogue: the simulator and two QPUs, each with characterizations."""
    rng = random.Random(seed + 2)
    rows = [
        BackendInfo("simulator", 29),
        BackendInfo(
            "qpu.forte-1",
            36,
            average_queue_time=1181215,
            location="College Park, MD, USA",
            kw=4902.81,
        ),
        BackendInfo(
            "qpu.forte-enterprise-1", 36, average_queue_time=2400000, location="Seattle, WA, USA"
        ),
    ]
    for info in rows:
        if info.backend.startswith("qpu."):
            info.characterizations = _characterizations(info, rng)
    return {info.backend: info for info in rows}


def accepted_backends(backends: Mapping[str, BackendInfo]) -> dict[str, str]:
    """Every name a request may give for a backend, mapped to the catalogue's name.

    ``JobBackends`` is a free string whose options the spec lists in prose; besides the catalogue
    names the emulator takes ``"qpu"`` for the default QPU, the first ``qpu.*`` backend listed.
    """
    names = {name: name for name in backends}
    default = next((name for name in backends if name.startswith("qpu.")), None)
    if default is not None:
        names.setdefault(DEFAULT_QPU, default)
    return names


def with_changes(info: BackendInfo, **changes: Any) -> BackendInfo:
    """A copy of ``info`` with ``changes`` applied (unknown fields raise TypeError)."""
    return replace(info, **changes)


def _characterizations(info: BackendInfo, rng: random.Random) -> list[dict[str, Any]]:
    n = info.qubits
    pairs = [[a, b] for a in range(n) for b in range(a + 1, n)]
    out = []
    for day in range(CHARACTERIZATION_DAYS):
        date = LAST_UPDATED - dt.timedelta(days=day)
        out.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "backend": info.backend,
                "date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "qubits": n,
                "connectivity": pairs,
                "fidelity": {
                    "spam": {"median": round(0.995 + rng.random() * 0.004, 4)},
                    "1q": {"median": round(0.9997 + rng.random() * 0.0002, 5)},
                    "2q": {"median": round(0.993 + rng.random() * 0.004, 4)},
                },
                "timing": {
                    "t1": 100_000_000,
                    "t2": 1_000_000,
                    "1q": 130,
                    "2q": 970,
                    "readout": 150,
                    "reset": 20,
                },
            }
        )
    return out


def _parse_date(request: web.Request, key: str) -> dt.datetime | None:
    raw = request.query.get(key)
    if raw is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f'"{key}" must be an ISO-8601 date', [key], "query") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class BackendServer(Protocol):
    """What the backend routes use of the emulator: its catalogue."""

    @property
    def backends(self) -> Mapping[str, BackendInfo]: ...


class BackendRoutes:
    """Handlers of /backends, /backends/{backend} and the characterizations under it."""

    def __init__(self, fake: BackendServer) -> None:
        self.fake = fake

    def _backend(self, request: web.Request) -> BackendInfo:
        name = request.match_info["backend"]
        info = self.fake.backends.get(name)
        if info is None:
            raise NotFound(f"Backend {name} does not exist.")
        return info

    async def list(self, request: web.Request) -> web.Response:
        """GET /backends (no auth)."""
        return json_response([b.to_json() for b in self.fake.backends.values()])

    async def get(self, request: web.Request) -> web.Response:
        """GET /backends/{backend} (no auth)."""
        return json_response(self._backend(request).to_json())

    async def characterizations(self, request: web.Request) -> web.Response:
        """GET /backends/{backend}/characterizations: newest first, ``start <= date < end``."""
        info = self._backend(request)
        start, end = _parse_date(request, "start"), _parse_date(request, "end")
        limit = query_int(request, "limit", MAX_LIMIT, 1, MAX_LIMIT)
        page = query_int(request, "page", 1, 1)
        kept = [
            c
            for c in info.characterizations
            if (start is None or _date(c) >= start) and (end is None or _date(c) < end)
        ]
        chunk = kept[(page - 1) * limit : page * limit] if page * limit - limit < len(kept) else []
        return json_response({"characterizations": chunk, "pages": math.ceil(len(kept) / limit)})

    async def characterization(self, request: web.Request) -> web.Response:
        """GET /backends/{backend}/characterizations/{UUID}."""
        info = self._backend(request)
        wanted = request.match_info["uuid"]
        for c in info.characterizations:
            if c["id"] == wanted:
                return json_response(c)
        raise NotFound(f"Characterization {wanted} of {info.backend} does not exist.")


def _date(c: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(c["date"]).replace("Z", "+00:00"))
