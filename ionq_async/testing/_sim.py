"""Exact state-vector simulation of small QIS circuits for the emulator's results."""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping, Sequence
from typing import Any

MAX_SIM_QUBITS = 16
_R = 1 / math.sqrt(2)
_Matrix = tuple[complex, complex, complex, complex]

_FIXED: dict[str, _Matrix] = {
    "x": (0, 1, 1, 0),
    "not": (0, 1, 1, 0),
    "cnot": (0, 1, 1, 0),
    "y": (0, -1j, 1j, 0),
    "z": (1, 0, 0, -1),
    "h": (_R, _R, _R, -_R),
    "s": (1, 0, 0, 1j),
    "si": (1, 0, 0, -1j),
    "t": (1, 0, 0, cmath.exp(1j * math.pi / 4)),
    "ti": (1, 0, 0, cmath.exp(-1j * math.pi / 4)),
    "v": (0.5 + 0.5j, 0.5 - 0.5j, 0.5 - 0.5j, 0.5 + 0.5j),
    "vi": (0.5 - 0.5j, 0.5 + 0.5j, 0.5 + 0.5j, 0.5 - 0.5j),
}
SIMULATED_GATES = frozenset(_FIXED) | {"rx", "ry", "rz", "swap", "xx", "yy", "zz"}


class UnsupportedCircuit(ValueError):
    """Raised when a circuit cannot be simulated exactly."""


def _rotation(gate: str, theta: float) -> _Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    if gate == "rx":
        return (c, -1j * s, -1j * s, c)
    if gate == "ry":
        return (c, -s, s, c)
    return (cmath.exp(-1j * theta / 2), 0, 0, cmath.exp(1j * theta / 2))


def _apply(state: list[complex], m: _Matrix, target: int, cmask: int) -> None:
    bit = 1 << target
    a, b, c, d = m
    for i in range(len(state)):
        if i & bit or (i & cmask) != cmask:
            continue
        j = i | bit
        u, w = state[i], state[j]
        state[i] = a * u + b * w
        state[j] = c * u + d * w


def _apply_zz(state: list[complex], q0: int, q1: int, theta: float, cmask: int) -> None:
    same, diff = cmath.exp(-1j * theta / 2), cmath.exp(1j * theta / 2)
    for i in range(len(state)):
        if (i & cmask) == cmask:
            state[i] *= same if ((i >> q0) & 1) == ((i >> q1) & 1) else diff


def _qubits_of(gate: Mapping[str, Any], key: str, many: str) -> list[int]:
    if key in gate:
        return [int(gate[key])]
    return [int(q) for q in gate.get(many, [])]


def _apply_gate(state: list[complex], gate: Mapping[str, Any]) -> None:
    name = str(gate.get("gate"))
    targets = _qubits_of(gate, "target", "targets")
    cmask = 0
    for q in _qubits_of(gate, "control", "controls"):
        cmask |= 1 << q
    theta = float(gate.get("rotation", 0.0))
    if name in _FIXED or name in ("rx", "ry", "rz"):
        m = _FIXED[name] if name in _FIXED else _rotation(name, theta)
        for t in targets:
            _apply(state, m, t, cmask)
    elif name == "swap":
        a, b = targets[0], targets[1]
        x = _FIXED["x"]
        _apply(state, x, b, cmask | 1 << a)
        _apply(state, x, a, cmask | 1 << b)
        _apply(state, x, b, cmask | 1 << a)
    elif name in ("xx", "yy", "zz"):
        a, b = targets[0], targets[1]
        pre = {"xx": ["h"], "yy": ["si", "h"], "zz": []}[name]
        post = {"xx": ["h"], "yy": ["h", "s"], "zz": []}[name]
        for g in pre:
            _apply(state, _FIXED[g], a, cmask)
            _apply(state, _FIXED[g], b, cmask)
        _apply_zz(state, a, b, theta, cmask)
        for g in post:
            _apply(state, _FIXED[g], a, cmask)
            _apply(state, _FIXED[g], b, cmask)
    else:
        raise UnsupportedCircuit(f"gate {name!r} is not simulated")


def _apply_two(state: list[complex], m: list[list[complex]], a: int, b: int) -> None:
    """Apply a 4x4 matrix on qubits ``a`` (high bit of the local index) and ``b``."""
    ba, bb = 1 << a, 1 << b
    for i in range(len(state)):
        if i & ba or i & bb:
            continue
        idx = (i, i | bb, i | ba, i | ba | bb)
        amps = [state[j] for j in idx]
        for r, j in enumerate(idx):
            state[j] = sum(m[r][c] * amps[c] for c in range(4))


def _apply_native(state: list[complex], gate: Mapping[str, Any]) -> None:
    """IonQ native gates; phases and angles are in turns."""
    name = str(gate.get("gate"))
    targets = _qubits_of(gate, "target", "targets")
    tau = 2 * math.pi
    if name in ("gpi", "gpi2"):
        e = cmath.exp(1j * tau * float(gate.get("phase", 0.0)))
        m: _Matrix = (0, 1 / e, e, 0) if name == "gpi" else (_R, -1j * _R / e, -1j * _R * e, _R)
        for t in targets:
            _apply(state, m, t, 0)
    elif name == "ms":
        p0, p1 = ([float(p) for p in gate.get("phases", [0.0, 0.0])] + [0.0, 0.0])[:2]
        theta = math.pi * float(gate.get("angle", 0.25))
        c, s = math.cos(theta), -1j * math.sin(theta)
        plus, minus = cmath.exp(1j * tau * (p0 + p1)), cmath.exp(1j * tau * (p0 - p1))
        _apply_two(
            state,
            [
                [c, 0, 0, s / plus],
                [0, c, s / minus, 0],
                [0, s * minus, c, 0],
                [s * plus, 0, 0, c],
            ],
            targets[0],
            targets[1],
        )
    elif name == "zz":
        _apply_zz(state, targets[0], targets[1], tau * float(gate.get("angle", 0.0)), 0)
    elif name != "nop":
        raise UnsupportedCircuit(f"native gate {name!r} is not simulated")


def count_qubits(circuit: Sequence[Mapping[str, Any]], declared: int | None = None) -> int:
    """Number of qubits a circuit touches (at least ``declared``)."""
    top = -1
    for gate in circuit:
        for key, many in (("target", "targets"), ("control", "controls")):
            for q in _qubits_of(gate, key, many):
                top = max(top, q)
    return max(top + 1, declared or 0, 1)


def simulate(
    circuit: Sequence[Mapping[str, Any]], qubits: int | None = None, *, native: bool = False
) -> dict[int, float]:
    """Exact probabilities of a QIS (or ``native``) circuit, keyed by little-endian index."""
    n = count_qubits(circuit, qubits)
    if n > MAX_SIM_QUBITS:
        raise UnsupportedCircuit(f"{n} qubits exceed the {MAX_SIM_QUBITS}-qubit simulator")
    state: list[complex] = [0j] * (1 << n)
    state[0] = 1 + 0j
    for gate in circuit:
        (_apply_native if native else _apply_gate)(state, gate)
    probs: dict[int, float] = {}
    for i, amp in enumerate(state):
        p = round(amp.real * amp.real + amp.imag * amp.imag, 12)
        if p > 0:
            probs[i] = p
    return probs
