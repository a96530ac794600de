"""Decoding of IonQ result payloads (probabilities, histogram, shots; v1 and v2; aggregate)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..errors import ResponseValidationError

__all__ = [
    "KINDS",
    "derive_counts",
    "read_aggregate",
    "read_histogram",
    "read_probabilities",
    "read_shots",
    "tally",
]

KINDS: dict[str, tuple[str, ...]] = {
    "probabilities": ("ionq.result.probabilities.json.v1", "ionq.result.probabilities.json.v2"),
    "histogram": ("ionq.result.histogram.json.v1", "ionq.result.histogram.json.v2"),
    "shots": ("ionq.result.shots.json.v1", "ionq.result.shots.json.v2"),
}
"""Result kinds and their formats, preferred first."""
AGGREGATE = "ionq.result.probabilities-aggregate.json.v1"
OUTPUT_ALL = "output_all"

Width = int | None


def _register(data: Any, outer: str) -> Mapping[str, Any]:
    """The full-width register (`output_all`, else the first) of a v2 `{outer: {registers}}`."""
    payload = data.get(outer) if isinstance(data, dict) else None
    registers = payload.get("registers") if isinstance(payload, dict) else None
    if not isinstance(registers, dict) or not registers:
        raise ResponseValidationError(f"{outer} v2 payload has no registers")
    register = registers.get(OUTPUT_ALL) or next(iter(registers.values()))
    if not isinstance(register, dict):
        raise ResponseValidationError(f"{outer} v2 register is not an object")
    return register


def _by_state(data: Any, what: str, number: type[float] | type[int]) -> dict[int, Any]:
    if not isinstance(data, dict):
        raise ResponseValidationError(f"{what} are not a JSON object")
    try:
        return {int(k): number(v) for k, v in data.items()}
    except (TypeError, ValueError) as exc:
        raise ResponseValidationError(f"{what} are malformed: {exc}") from exc


def _by_bits(
    register: Mapping[str, Any], what: str, number: type[Any]
) -> tuple[dict[int, Any], Width]:
    try:
        values = {int(bits, 2): number(v) for bits, v in register.items()}
    except (TypeError, ValueError) as exc:
        raise ResponseValidationError(f"{what} are malformed: {exc}") from exc
    return values, max((len(bits) for bits in register), default=None)


def read_probabilities(data: Any, fmt: str | None) -> tuple[dict[int, float], Width]:
    """`{state: probability}` and the bit width (when the payload states one)."""
    if (fmt or "").endswith(".v2") or (isinstance(data, dict) and "probabilities" in data):
        return _by_bits(_register(data, "probabilities"), "probabilities", float)
    return _by_state(data, "probabilities", float), None


def read_histogram(data: Any, fmt: str | None) -> tuple[dict[int, int], Width]:
    """`{state: shot count}` and the bit width (when the payload states one)."""
    if (fmt or "").endswith(".v2") or (isinstance(data, dict) and "histogram" in data):
        return _by_bits(_register(data, "histogram"), "histogram", int)
    return _by_state(data, "histogram", int), None


def read_shots(data: Any, fmt: str | None) -> tuple[tuple[int, ...], Width]:
    """Each shot's state, in order, and the bit width (when the payload states one)."""
    try:
        if isinstance(data, list):
            return tuple(int(s) for s in data), None
        rows = data["shots"]
        bits = [row["registers"] for row in rows]
        registers = [r.get(OUTPUT_ALL) or next(iter(r.values())) for r in bits]
        states = tuple(int("".join(str(int(b)) for b in r), 2) for r in registers)
        return states, max((len(r) for r in registers), default=None)
    except (TypeError, ValueError, KeyError, AttributeError, StopIteration) as exc:
        raise ResponseValidationError(f"shots {fmt or ''} payload is malformed: {exc}") from exc


def read_aggregate(data: Any) -> dict[str, dict[int, float]]:
    """A multi-circuit job's `{child job id: {state: probability}}`."""
    if not isinstance(data, dict):
        raise ResponseValidationError("aggregate probabilities are not a JSON object")
    what = "aggregate probabilities"
    return {str(cid): _by_state(probs, what, float) for cid, probs in data.items()}


def derive_counts(probabilities: Mapping[int, float], shots: int) -> dict[int, int]:
    """Counts summing to `shots` from probability x shots (largest remainders rounded up)."""
    raw = {k: p * shots for k, p in probabilities.items() if p > 0}
    counts = {k: int(v) for k, v in raw.items()}
    short = shots - sum(counts.values())
    for k in sorted(raw, key=lambda k: (counts[k] - raw[k], k))[: max(short, 0)]:
        counts[k] += 1
    return {k: n for k, n in sorted(counts.items()) if n}


def tally(samples: tuple[int, ...]) -> dict[int, int]:
    """Counts of each state among `samples`."""
    return dict(sorted(Counter(samples).items()))
