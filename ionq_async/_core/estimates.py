"""`GET /jobs/estimate`: its query, checked before sending, and a lenient read of the answer."""

from __future__ import annotations

from typing import Any

from .._models.answers import CostEstimate
from .._models.job_types import JOB_TYPES
from ..errors import ResponseValidationError
from .serde import structure

__all__ = ["estimate_params", "load_estimate"]

_INT32_MAX = 2**31 - 1
_MAX_SHOTS = 1_000_000


def _count(name: str, value: object, low: int, high: int = _INT32_MAX) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}, got {value:,}")
    return str(value)


def estimate_params(
    backend: object,
    *,
    qubits: object,
    shots: object,
    one_qubit_gates: object,
    two_qubit_gates: object,
    error_mitigation: object,
    type: object,
) -> list[tuple[str, str]]:
    """The estimate's query (`backend`, `type`, `qubits`, `shots`, `1q_gates`, ...), validated."""
    if not isinstance(backend, str) or not backend:
        raise ValueError(f"backend must be a non-empty string, got {backend!r}")
    params = [("backend", backend)]
    if type is not None:
        if type not in JOB_TYPES:
            raise ValueError(f"type must be one of {JOB_TYPES}, got {type!r}")
        params.append(("type", str(type)))
    params.append(("qubits", _count("qubits", qubits, 1)))
    if shots is not None:
        params.append(("shots", _count("shots", shots, 1, _MAX_SHOTS)))
    params.append(("1q_gates", _count("one_qubit_gates", one_qubit_gates, 0)))
    params.append(("2q_gates", _count("two_qubit_gates", two_qubit_gates, 0)))
    if error_mitigation is not None:
        if not isinstance(error_mitigation, bool):
            raise TypeError(f"error_mitigation must be a bool, not {error_mitigation!r}")
        params.append(("error_mitigation", "true" if error_mitigation else "false"))
    return params


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[k] for k in keys if data.get(k) is not None), None)


def load_estimate(data: Any) -> CostEstimate:
    """A CostEstimate from the `rate_card` answer (the spec's) or the `rate_information` one."""
    if not isinstance(data, dict):
        raise ResponseValidationError("unexpected cost estimate in response: not an object")
    total = _first(data, "estimated_total_cost", "estimated_cost")
    if isinstance(total, dict):  # a {value, unit} object, as the job cost answer has it
        total = total.get("value")
    unit = _first(data, "estimated_unit", "cost_unit")
    card = data.get("rate_card")
    info = data.get("rate_information")
    rates: list[Any] = []
    if isinstance(card, dict) and isinstance(card.get("rates"), list):
        rates = [r for r in card["rates"] if isinstance(r, dict)]
    elif isinstance(info, dict):
        rates = [{"unit": "gates", **info}]
    context = _first(data, "estimate_context", "input_values")
    normalized = {
        "total": {"value": total, "unit": unit},
        "execution_time_ms": data.get("estimated_execution_time"),
        "queue_time_ms": data.get("current_predicted_queue_time"),
        "quantum_compute_time_us": data.get("estimated_quantum_compute_time_us"),
        "estimated_at": data.get("estimated_at"),
        "rate_card_id": card.get("id") if isinstance(card, dict) else None,
        "rates": rates,
        "context": context if isinstance(context, dict) else {},
    }
    if total is None or unit is None:
        raise ResponseValidationError("unexpected cost estimate in response: no cost or unit")
    return structure(normalized, CostEstimate, what="cost estimate")
