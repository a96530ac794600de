"""GET /jobs/estimate in either of IonQ's documented response shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from aiohttp import web

from ._backends import BackendInfo, accepted_backends
from ._http import BadRequest, query_bool, query_int
from ._ratecard import RATE_CARD_ID, RATES, UNIT, execution_time_ms, job_cost, rate_card_entry
from ._sessions import ORGANIZATION_ID
from ._store import PROJECT_ID, iso
from ._validate import JOB_TYPES

EstimateShape = Literal["rate_card", "rate_information"]
ESTIMATE_SHAPES: tuple[EstimateShape, ...] = ("rate_card", "rate_information")
"""``rate_card``: the September 2026 spec's shape; ``rate_information``: the April 2026 one."""


class EstimateServer(Protocol):
    """What GET /jobs/estimate uses of the emulator."""

    @property
    def backends(self) -> Mapping[str, BackendInfo]: ...

    @property
    def estimate_shape(self) -> EstimateShape: ...

    @property
    def now(self) -> Callable[[], float]: ...


def estimate(fake: EstimateServer, request: web.Request) -> dict[str, Any]:
    """The estimate of the query's job on the rate card, shaped per ``fake.estimate_shape``."""
    names = {k: v for k, v in accepted_backends(fake.backends).items() if v in RATES}
    backend = names.get(request.query.get("backend", ""))
    if backend is None:
        raise BadRequest(f'"backend" must be one of {", ".join(names)}', ["backend"], "query")
    kind = request.query.get("type", "ionq.circuit.v1")
    if kind not in JOB_TYPES:
        raise BadRequest(f'"type" must be one of {", ".join(JOB_TYPES)}', ["type"], "query")
    width = fake.backends[backend].qubits
    qubits = query_int(request, "qubits", min(25, width), 1, width)
    shots = query_int(request, "shots", 1000, 1, 1_000_000)
    one_q = query_int(request, "1q_gates", 0, 0)
    two_q = query_int(request, "2q_gates", 0, 0)
    em = bool(query_bool(request, "error_mitigation"))
    total = job_cost(backend, shots, one_q, two_q, error_mitigation=em)
    run_ms = min(execution_time_ms(backend, shots, one_q, two_q), 2**31 - 1)
    queue_ms = int(fake.backends[backend].average_queue_time)
    context = {
        "backend": backend,
        "type": kind,
        "qubits": qubits,
        "shots": shots,
        "1q_gates": one_q,
        "2q_gates": two_q,
        "error_mitigation": em,
    }
    now = iso(fake.now())
    if fake.estimate_shape == "rate_information":
        entry = rate_card_entry(backend)
        return {
            "input_values": context,
            "estimated_at": now,
            "cost_unit": UNIT,
            "rate_information": {
                "job_cost_minimum": entry["job_cost_minimum"],
                "cost_1q_gate": entry["cost_1q_gate"],
                "cost_2q_gate": entry["cost_2q_gate"],
                "organization": ORGANIZATION_ID,
            },
            "estimated_cost": total,
            "estimated_execution_time": run_ms,
            "current_predicted_queue_time": queue_ms,
        }
    return {
        "estimate_context": {**context, "organization": ORGANIZATION_ID, "project": PROJECT_ID},
        "estimated_at": now,
        "estimated_unit": UNIT,
        "rate_card": {"id": RATE_CARD_ID, "rates": [rate_card_entry(backend)]},
        "estimated_total_cost": total,
        "estimated_execution_time": run_ms,
        "current_predicted_queue_time": queue_ms,
    }
