"""Result artifacts in every IonQ format, the ``results`` map of a job, and format schemas."""

from __future__ import annotations

import functools
import random
from typing import Any, Literal

ResultsShape = Literal["both", "descriptors", "legacy"]
RESULTS_SHAPES: tuple[ResultsShape, ...] = ("both", "descriptors", "legacy")
PROBS_V1 = "ionq.result.probabilities.json.v1"
PROBS_V2 = "ionq.result.probabilities.json.v2"
HIST_V1 = "ionq.result.histogram.json.v1"
HIST_V2 = "ionq.result.histogram.json.v2"
SHOTS_V1 = "ionq.result.shots.json.v1"
SHOTS_V2 = "ionq.result.shots.json.v2"
AGGREGATE = "ionq.result.probabilities-aggregate.json.v1"
NATIVE_V1 = "ionq.native.v1"
CIRCUIT_FORMATS = (PROBS_V1, PROBS_V2, HIST_V1, HIST_V2, SHOTS_V1, SHOTS_V2)
"""Result formats a completed circuit job can serve as artifacts."""
LEGACY_KIND = {
    PROBS_V1: "probabilities",
    PROBS_V2: "probabilities",
    HIST_V1: "histogram",
    HIST_V2: "histogram",
    SHOTS_V1: "shots",
    SHOTS_V2: "shots",
}
ALIASES = {"probabilities": PROBS_V1, "histogram": HIST_V1, "shots": SHOTS_V1}
"""Opaque artifact ids the emulator also answers (IonQ's ids need not be format names)."""
OUTPUT_ALL = "output_all"


def descriptor(fmt: str) -> dict[str, str]:
    """The ArtifactDescriptor of ``fmt`` (its id is the format name)."""
    return {"id": fmt, "format": fmt, "media_type": "application/json"}


def circuit_results(
    job_id: str, base: str, shape: ResultsShape, formats: tuple[str, ...]
) -> dict[str, Any]:
    """``results`` of a completed circuit job: descriptors, legacy ``{url}`` entries, or both."""
    out: dict[str, Any] = {}
    if shape != "descriptors":
        for kind in _legacy_kinds(formats):
            out[kind] = {"url": f"{base}/jobs/{job_id}/results/{kind}"}
    if shape != "legacy":
        for f in formats:
            out[f] = descriptor(f)
    return out


@functools.lru_cache(maxsize=64)
def _legacy_kinds(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The legacy ``{url}`` entries that ``formats`` call for, ``probabilities`` first."""
    return tuple(dict.fromkeys(["probabilities", *(LEGACY_KIND[f] for f in formats)]))


def multi_results(job_id: str, base: str, shape: ResultsShape) -> dict[str, Any]:
    """``results`` of a completed multi-circuit parent (the aggregate, keyed by child id)."""
    out: dict[str, Any] = {}
    if shape != "descriptors":
        out["probabilities"] = {"url": f"{base}/jobs/{job_id}/results/probabilities/aggregated"}
    if shape != "legacy":
        out[AGGREGATE] = descriptor(AGGREGATE)
    return out


def counts(probs: dict[int, float], shots: int) -> dict[int, int]:
    """Shot counts summing to ``shots`` (largest-remainder rounding of ``p * shots``)."""
    raw = {k: p * shots for k, p in probs.items() if p > 0}
    out = {k: int(v) for k, v in raw.items()}
    short = shots - sum(out.values())
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], k))[:short]:
        out[k] += 1
    return {k: v for k, v in sorted(out.items()) if v}


def shot_list(probs: dict[int, float], shots: int, seed: str) -> list[int]:
    """One outcome per shot, consistent with :func:`counts`, in a seeded order."""
    outcomes = [k for k, n in counts(probs, shots).items() for _ in range(n)]
    random.Random(seed).shuffle(outcomes)
    return outcomes


def _bits(state: int, width: int) -> str:
    return format(state, f"0{width}b")


def _registers(width: int, registers: dict[str, list[int]] | None) -> dict[str, list[int]]:
    regs = {OUTPUT_ALL: list(range(width))}
    regs.update(registers or {})
    return regs


def _project(state: int, qubits: list[int]) -> int:
    return sum(((state >> q) & 1) << i for i, q in enumerate(qubits))


def _marginal(values: dict[int, Any], qubits: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for state, v in values.items():
        key = _bits(_project(state, qubits), len(qubits))
        out[key] = out.get(key, 0) + v
    return dict(sorted(out.items()))


def _shot_registers(state: int, regs: dict[str, list[int]]) -> dict[str, list[int]]:
    return {r: [int(c) for c in _bits(_project(state, q), len(q))] for r, q in regs.items()}


def payload(
    fmt: str,
    probs: dict[int, float],
    *,
    width: int,
    shots: int,
    seed: str,
    registers: dict[str, list[int]] | None = None,
) -> Any:
    """The artifact of a circuit job in format ``fmt`` (KeyError for other formats).

    v1 keys are decimal little-endian states; v2 bitstrings are zero-padded with qubit 0 as the
    rightmost character, and a v2 shot's bit array lists the same characters left to right.
    """
    regs = _registers(width, registers)
    if fmt == PROBS_V1:
        return {str(k): v for k, v in probs.items()}
    if fmt == PROBS_V2:
        return {"probabilities": {"registers": {r: _marginal(probs, q) for r, q in regs.items()}}}
    if fmt == HIST_V1:
        return {str(k): v for k, v in counts(probs, shots).items()}
    if fmt == HIST_V2:
        hist = counts(probs, shots)
        return {"histogram": {"registers": {r: _marginal(hist, q) for r, q in regs.items()}}}
    if fmt == SHOTS_V1:
        return [str(s) for s in shot_list(probs, shots, seed)]
    if fmt == SHOTS_V2:
        rows = shot_list(probs, shots, seed)
        return {"shots": [{"registers": _shot_registers(s, regs)} for s in rows]}
    raise KeyError(fmt)


_NUMBER_MAP = {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}
_REGISTERS = {
    "type": "object",
    "required": ["registers"],
    "properties": {"registers": {"type": "object", "additionalProperties": _NUMBER_MAP}},
}
_FORMAT_BODIES: dict[str, dict[str, Any]] = {
    PROBS_V1: {
        "description": "Flat probability distribution keyed by decimal qubit state.",
        **_NUMBER_MAP,
    },
    PROBS_V2: {
        "description": "Register-nested probability distribution.",
        "type": "object",
        "required": ["probabilities"],
        "properties": {"probabilities": _REGISTERS},
    },
    HIST_V1: {"description": "Shot counts keyed by decimal qubit state.", **_NUMBER_MAP},
    HIST_V2: {
        "description": "Register-nested shot count histogram.",
        "type": "object",
        "required": ["histogram"],
        "properties": {"histogram": _REGISTERS},
    },
    SHOTS_V1: {
        "description": "One decimal qubit state string per shot.",
        "type": "array",
        "items": {"type": "string", "pattern": "^[0-9]+$"},
    },
    SHOTS_V2: {
        "description": "Per-shot bit arrays for every named register.",
        "type": "object",
        "required": ["shots"],
        "properties": {
            "shots": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["registers"],
                    "properties": {
                        "registers": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "array",
                                "items": {"type": "integer", "enum": [0, 1]},
                            },
                        }
                    },
                },
            }
        },
    },
    AGGREGATE: {
        "description": "Probability distribution of each child circuit, keyed by child job id.",
        "type": "object",
        "additionalProperties": _NUMBER_MAP,
    },
    NATIVE_V1: {
        "description": "Compiled circuit in IonQ native gates.",
        "type": "object",
        "required": ["qubits", "circuit"],
        "properties": {
            "qubits": {"type": "integer", "minimum": 1},
            "circuit": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["gate"],
                    "properties": {"gate": {"enum": ["zz", "ms", "gpi", "gpi2", "nop"]}},
                },
            },
        },
    },
}
FORMATS = tuple(_FORMAT_BODIES)


def format_schema(fmt: str) -> dict[str, Any]:
    """The JSON Schema document of ``fmt`` (KeyError for an unknown format)."""
    return {"$schema": "https://json-schema.org/draft-07/schema", "$id": fmt, **_FORMAT_BODIES[fmt]}
