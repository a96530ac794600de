"""Request-body validation mirroring IonQ's 400 answers (``validation: {keys, source}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._sim import SIMULATED_GATES

NOISE_MODELS = frozenset(
    [
        "ideal",
        "harmony",
        "harmony-1",
        "harmony-2",
        "aria-1",
        "aria-2",
        "forte-1",
        "forte-enterprise-1",
    ]
)
QIS_GATES = SIMULATED_GATES | {"pauliexp"}
NATIVE_GATES = frozenset(["zz", "ms", "gpi", "gpi2", "nop"])
_CLONE_KEYS = frozenset(
    ["parent", "name", "metadata", "shots", "backend", "session_id", "settings", "dry_run", "noise"]
)
_CREATE_KEYS = (_CLONE_KEYS - {"parent"}) | {"type", "input"}
_SETTINGS: dict[str, dict[str, type]] = {
    "error_mitigation": {"symmetry_verification": bool, "debiasing": bool},
    "compilation": {"gate_basis": str, "precision": str, "opt": float},
}
_GATE_KEYS = frozenset(["gate", "target", "targets", "control", "controls", "rotation"])
INT32_MAX = 2**31 - 1


class BadRequest(Exception):
    """A 400 with IonQ's ``validation`` details."""

    def __init__(self, message: str, keys: list[str], source: str = "payload") -> None:
        super().__init__(message)
        self.message = message
        self.keys = keys
        self.source = source


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _type_ok(v: Any, t: type) -> bool:
    if t is float:
        return isinstance(v, int | float) and not isinstance(v, bool)
    return isinstance(v, t)


def _bad(key: str, why: str) -> BadRequest:
    return BadRequest(f'"{key}" {why}', [key])


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest('"value" must be of type object', ["value"])
    obj: dict[str, Any] = body
    return obj


def _unknown(body: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    extra = sorted(k for k in body if k not in allowed)
    if extra:
        keys = [prefix + k for k in extra]
        raise BadRequest(f'"{keys[0]}" is not allowed', keys)


def _common(body: Mapping[str, Any]) -> None:
    if "name" in body and not isinstance(body["name"], str):
        raise _bad("name", "must be a string")
    if "metadata" in body:
        md = body["metadata"]
        if not isinstance(md, dict) or not all(isinstance(v, str) for v in md.values()):
            raise _bad("metadata", "must be an object of string values")
    if "shots" in body:
        shots = body["shots"]
        if not _is_int(shots):
            raise _bad("shots", "must be an integer")
        if not 1 <= shots <= 1_000_000:
            raise _bad("shots", "must be between 1 and 1000000")
    for key in ("backend", "session_id", "parent"):
        if key in body and not isinstance(body[key], str):
            raise _bad(key, "must be a string")
    if "dry_run" in body and not isinstance(body["dry_run"], bool):
        raise _bad("dry_run", "must be a boolean")
    if "noise" in body:
        _noise(body["noise"])
    if "settings" in body:
        _settings(body["settings"])


def _noise(noise: Any) -> None:
    if not isinstance(noise, dict):
        raise _bad("noise", "must be an object")
    _unknown(noise, frozenset(["model", "seed"]), "noise.")
    if noise.get("model") not in NOISE_MODELS:
        raise _bad("noise.model", f"must be one of {', '.join(sorted(NOISE_MODELS))}")
    seed = noise.get("seed")
    if seed is not None and (not _is_int(seed) or not -(2**31) <= seed <= INT32_MAX):
        raise _bad("noise.seed", "must be a 32-bit integer")


def _settings(settings: Any) -> None:
    if not isinstance(settings, dict):
        raise _bad("settings", "must be an object")
    _unknown(settings, frozenset(_SETTINGS), "settings.")
    for section, fields in _SETTINGS.items():
        if section not in settings:
            continue
        sub = settings[section]
        if not isinstance(sub, dict):
            raise _bad(f"settings.{section}", "must be an object")
        _unknown(sub, frozenset(fields), f"settings.{section}.")
        for key, typ in fields.items():
            if key in sub and not _type_ok(sub[key], typ):
                raise _bad(f"settings.{section}.{key}", f"must be a {typ.__name__}")


def validate_clone(raw: Any) -> dict[str, Any]:
    """Validate a CloneJobPayload (also used by move)."""
    body = _object(raw)
    _unknown(body, _CLONE_KEYS)
    _common(body)
    return body


def _gate(gate: Any, i: int, names: frozenset[str]) -> None:
    where = f"input.circuit[{i}]"
    if not isinstance(gate, dict):
        raise _bad(where, "must be an object")
    _unknown(gate, _GATE_KEYS | {"phase", "phases", "angle"}, where + ".")
    if gate.get("gate") not in names:
        raise _bad(where + ".gate", "is not a supported gate")
    for key in ("target", "control"):
        if key in gate and not (_is_int(gate[key]) and gate[key] >= 0):
            raise _bad(f"{where}.{key}", "must be a non-negative integer")
    for key in ("targets", "controls"):
        if key in gate and not (
            isinstance(gate[key], list) and all(_is_int(q) and q >= 0 for q in gate[key])
        ):
            raise _bad(f"{where}.{key}", "must be a list of non-negative integers")
    if "target" not in gate and not gate.get("targets"):
        raise _bad(where + ".target", "is required")
    if "rotation" in gate and not _type_ok(gate["rotation"], float):
        raise _bad(where + ".rotation", "must be a number")


def validate_create(raw: Any) -> dict[str, Any]:
    """Validate a single-circuit JobCreationPayload (circuit or QASM3)."""
    body = _object(raw)
    for key in ("type", "backend", "input"):
        if key not in body:
            raise _bad(key, "is required")
    if body["type"] not in ("ionq.circuit.v1", "ionq.qasm3.v1"):
        raise _bad("type", "must be ionq.circuit.v1 or ionq.qasm3.v1 in the emulator")
    _unknown(body, _CREATE_KEYS)
    _common(body)
    inp = body["input"]
    if not isinstance(inp, dict):
        raise _bad("input", "must be an object")
    if body["type"] == "ionq.qasm3.v1":
        _unknown(inp, frozenset(["data"]), "input.")
        if not isinstance(inp.get("data"), str):
            raise _bad("input.data", "must be a string")
        return body
    _unknown(inp, frozenset(["gateset", "circuit", "qubits"]), "input.")
    if inp.get("gateset") not in ("qis", "native"):
        raise _bad("input.gateset", "must be one of qis, native")
    if "qubits" in inp and not (_is_int(inp["qubits"]) and inp["qubits"] >= 1):
        raise _bad("input.qubits", "must be an integer >= 1")
    circuit = inp.get("circuit")
    if not isinstance(circuit, list):
        raise _bad("input.circuit", "must be an array")
    names = QIS_GATES if inp["gateset"] == "qis" else NATIVE_GATES
    for i, gate in enumerate(circuit):
        _gate(gate, i, names)
    return body


def validate_ids(raw: Any) -> list[str]:
    """Validate a JobsBulkOperationRequest and return its ids."""
    body = _object(raw)
    _unknown(body, frozenset(["ids"]))
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad("ids", "must be an array of strings")
    return ids
