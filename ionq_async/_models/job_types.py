"""The job types of the spec's JobCreationPayload, and a payload's check before it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["GATESETS", "JOB_TYPES", "check_create_payload"]

CIRCUIT = "ionq.circuit.v1"
QASM3 = "ionq.qasm3.v1"
MULTI_CIRCUIT = "ionq.multi-circuit.v1"
QUANTUM_FUNCTION = "quantum-function"
QAOA = "qctrl.qaoa.v1"
JOB_TYPES = (CIRCUIT, QASM3, MULTI_CIRCUIT, QUANTUM_FUNCTION, QAOA)
"""Every `type` of the spec's JobCreationPayload (single circuit, multi-circuit, functions)."""
GATESETS = ("qis", "native")


def check_create_payload(payload: object) -> dict[str, Any]:
    """A copy of a JobCreationPayload whose type, required fields and gateset are checked.

    Only what the spec states for every type is checked here; the circuit itself is left
    to the API.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a mapping, not {type(payload).__name__}")
    for key in ("type", "backend", "input"):
        if key not in payload:
            raise ValueError(f"payload is missing the required field {key!r}")
    kind = payload["type"]
    if kind not in JOB_TYPES:
        raise ValueError(f"payload type must be one of {JOB_TYPES}, got {kind!r}")
    if not isinstance(payload["backend"], str) or not payload["backend"]:
        raise ValueError(f"payload backend must be a non-empty string, got {payload['backend']!r}")
    if kind == QAOA and not isinstance(payload.get("external_settings"), Mapping):
        raise ValueError("a qctrl.qaoa.v1 payload needs 'external_settings' (api_credentials)")
    inp = payload["input"]
    if kind in (QUANTUM_FUNCTION, QAOA, MULTI_CIRCUIT) and not isinstance(inp, Mapping):
        raise ValueError(f"a {kind} payload needs 'input' as an object")
    if isinstance(inp, Mapping) and "gateset" in inp and inp["gateset"] not in GATESETS:
        raise ValueError(f"input.gateset must be one of {GATESETS}, got {inp['gateset']!r}")
    return dict(payload)
