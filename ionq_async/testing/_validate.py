"""Request-body validation mirroring IonQ's 400 answers (``validation: {keys, source}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._http import INT32_MAX, BadRequest
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


def _gate(gate: Any, i: int, names: frozenset[str], prefix: str, width: int) -> None:
    where = f"{prefix}circuit[{i}]"
    if not isinstance(gate, dict):
        raise _bad(where, "must be an object")
    _unknown(gate, _GATE_KEYS | {"phase", "phases", "angle"}, where + ".")
    if gate.get("gate") not in names:
        raise _bad(where + ".gate", "is not a supported gate")
    for key in ("target", "control"):
        if key in gate and not (_is_int(gate[key]) and 0 <= gate[key] < width):
            raise _bad(f"{where}.{key}", f"must be a qubit index below {width}")
    for key in ("targets", "controls"):
        if key in gate and not (
            isinstance(gate[key], list) and all(_is_int(q) and 0 <= q < width for q in gate[key])
        ):
            raise _bad(f"{where}.{key}", f"must be a list of qubit indices below {width}")
    if "target" not in gate and not gate.get("targets"):
        raise _bad(where + ".target", "is required")
    for key in ("rotation", "phase", "angle"):
        if key in gate and not _type_ok(gate[key], float):
            raise _bad(f"{where}.{key}", "must be a number")
    if "phases" in gate and not (
        isinstance(gate["phases"], list) and all(_type_ok(p, float) for p in gate["phases"])
    ):
        raise _bad(where + ".phases", "must be a list of numbers")


CIRCUIT_TYPES = ("ionq.circuit.v1", "ionq.qasm3.v1")
MULTI = "ionq.multi-circuit.v1"
QUANTUM_FUNCTION = "quantum-function"
QAOA = "qctrl.qaoa.v1"
JOB_TYPES = (*CIRCUIT_TYPES, MULTI, QUANTUM_FUNCTION, QAOA)
MAX_CIRCUITS = 5000
MAX_GATES = 150_000
_FUNCTION_KEYS = (_CREATE_KEYS - {"noise"}) | {"external_settings"}


def validate_create(raw: Any, backends: Mapping[str, int]) -> dict[str, Any]:
    """Validate a JobCreationPayload of any type; ``backends`` maps names to qubit counts."""
    body = _object(raw)
    for key in ("type", "backend", "input"):
        if key not in body:
            raise _bad(key, "is required")
    kind = body["type"]
    if kind not in JOB_TYPES:
        raise _bad("type", f"must be one of {', '.join(JOB_TYPES)}")
    if kind in (QUANTUM_FUNCTION, QAOA):
        _function_job(body)
    else:
        _unknown(body, _CREATE_KEYS)
        _common(body)
    width = _backend(body, backends)
    inp = body["input"]
    if not isinstance(inp, dict):
        raise _bad("input", "must be an object")
    if kind == "ionq.qasm3.v1":
        _unknown(inp, frozenset(["data"]), "input.")
        if not isinstance(inp.get("data"), str):
            raise _bad("input.data", "must be a string")
    elif kind == "ionq.circuit.v1":
        _unknown(inp, frozenset(["gateset", "circuit", "qubits"]), "input.")
        gateset = _gateset(inp.get("gateset"), "input.gateset")
        _circuit(inp, "input.", gateset, width)
    elif kind == MULTI:
        _multi(inp, width)
    elif kind == QUANTUM_FUNCTION:
        _quantum_function_input(inp)
    else:
        _qaoa_input(inp, body, width)
    return body


def _backend(body: Mapping[str, Any], backends: Mapping[str, int]) -> int:
    backend = body["backend"]
    if not isinstance(backend, str) or backend not in backends:
        raise _bad("backend", f"must be one of {', '.join(backends)}")
    return backends[backend]


def _gateset(value: Any, key: str) -> str:
    if value not in ("qis", "native"):
        raise _bad(key, "must be one of qis, native")
    return str(value)


def _circuit(inp: Mapping[str, Any], where: str, gateset: str, width: int) -> int:
    qubits = inp.get("qubits")
    if qubits is not None and not (_is_int(qubits) and 1 <= qubits <= width):
        raise _bad(where + "qubits", f"must be an integer between 1 and {width}")
    circuit = inp.get("circuit")
    if not isinstance(circuit, list):
        raise _bad(where + "circuit", "must be an array")
    names = QIS_GATES if gateset == "qis" else NATIVE_GATES
    for i, gate in enumerate(circuit):
        _gate(gate, i, names, where, width)
    return len(circuit)


def _multi(inp: Mapping[str, Any], width: int) -> None:
    if "circuit" in inp:
        raise _bad("input.circuit", "is not allowed with input.circuits")
    _unknown(inp, frozenset(["gateset", "circuits", "qubits"]), "input.")
    gateset = _gateset(inp.get("gateset"), "input.gateset")
    qubits = inp.get("qubits")
    if qubits is not None and not (_is_int(qubits) and 1 <= qubits <= width):
        raise _bad("input.qubits", f"must be an integer between 1 and {width}")
    circuits = inp.get("circuits")
    if not isinstance(circuits, list) or not 1 <= len(circuits) <= MAX_CIRCUITS:
        raise _bad("input.circuits", f"must be an array of 1 to {MAX_CIRCUITS} circuits")
    total = 0
    for i, sub in enumerate(circuits):
        where = f"input.circuits[{i}]."
        if not isinstance(sub, dict):
            raise _bad(where[:-1], "must be an object")
        _unknown(sub, frozenset(["name", "circuit", "qubits", "registers", "gateset"]), where)
        if "name" in sub and not isinstance(sub["name"], str):
            raise _bad(where + "name", "must be a string")
        own = _gateset(sub.get("gateset", gateset), where + "gateset")
        total += _circuit(sub, where, own, width)
        _registers(sub.get("registers"), where + "registers", width)
    if total > MAX_GATES:
        raise _bad("input.circuits", f"must have at most {MAX_GATES} gates in total")


def _registers(regs: Any, where: str, width: int) -> None:
    if regs is None:
        return
    if not isinstance(regs, dict) or not all(
        isinstance(q, list) and q and all(_is_int(i) and 0 <= i < width for i in q)
        for q in regs.values()
    ):
        raise _bad(where, f"must map names to non-empty lists of qubit indices below {width}")


def _function_job(body: Mapping[str, Any]) -> None:
    _unknown(body, _FUNCTION_KEYS)
    _common({k: v for k, v in body.items() if k != "settings"})
    settings = body.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise _bad("settings", "must be an object")
        _unknown(settings, frozenset(["error_mitigation"]), "settings.")
        em = settings.get("error_mitigation", {})
        if not isinstance(em, dict):
            raise _bad("settings.error_mitigation", "must be an object")
        _unknown(em, frozenset(["debiasing"]), "settings.error_mitigation.")
        if "debiasing" in em and not isinstance(em["debiasing"], bool):
            raise _bad("settings.error_mitigation.debiasing", "must be a boolean")


def _params(inp: Mapping[str, Any]) -> None:
    params = inp.get("params")
    if params is not None and not (
        isinstance(params, list) and all(_type_ok(p, float) for p in params)
    ):
        raise _bad("input.params", "must be an array of numbers")


def _quantum_function_input(inp: Mapping[str, Any]) -> None:
    _params(inp)
    if "type" in inp:
        if not isinstance(inp["type"], str) or not isinstance(inp.get("data"), dict):
            raise _bad("input", "must be {type: string, data: object, params?}")
        return
    data = inp.get("data")
    if not isinstance(data, dict) or data.get("type") != "hamiltonian-energy":
        raise _bad("input.data.type", "must be hamiltonian-energy")
    inner = data.get("data")
    if not isinstance(inner, dict):
        raise _bad("input.data.data", "must be an object")
    terms = inner.get("hamiltonian")
    if not isinstance(terms, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("pauli_string"), str)
        and _type_ok(t.get("coefficient"), float)
        for t in terms
    ):
        raise _bad("input.data.data.hamiltonian", "must be [{pauli_string, coefficient}]")
    ansatz = inner.get("ansatz")
    if not isinstance(ansatz, dict) or not isinstance(ansatz.get("data"), str):
        raise _bad("input.data.data.ansatz", "must be {data: string}")


def _qaoa_input(inp: Mapping[str, Any], body: Mapping[str, Any], width: int) -> None:
    ext = body.get("external_settings")
    if not isinstance(ext, dict) or not isinstance(ext.get("api_credentials"), str):
        raise _bad("external_settings.api_credentials", "is required")
    if inp.get("problem_type") != "maxcut":
        raise _bad("input.problem_type", "must be maxcut")
    if not _adjacency_graph(inp.get("problem")):
        raise _bad("input.problem", "must be a NetworkX adjacency_graph (nodes, adjacency)")
    if not 1 <= len(inp["problem"]["nodes"]) <= width:
        raise _bad("input.problem.nodes", f"must have 1 to {width} nodes (one qubit each)")


def validate_ids(raw: Any) -> list[str]:
    """Validate a JobsBulkOperationRequest and return its ids."""
    body = _object(raw)
    _unknown(body, frozenset(["ids"]))
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad("ids", "must be an array of strings")
    return ids


def _adjacency_graph(problem: Any) -> bool:
    if not isinstance(problem, dict):
        return False
    nodes, adjacency = problem.get("nodes"), problem.get("adjacency")
    if not (isinstance(nodes, list) and isinstance(adjacency, list)):
        return False
    if len(nodes) != len(adjacency) or not all(isinstance(n, dict) and "id" in n for n in nodes):
        return False
    ids = {repr(n["id"]) for n in nodes}
    return len(ids) == len(nodes) and all(
        isinstance(row, list)
        and all(isinstance(nb, dict) and "id" in nb and repr(nb["id"]) in ids for nb in row)
        for row in adjacency
    )
