"""A completed job's results: probabilities by state and bitstring, counts, per-circuit parts."""

from __future__ import annotations

from typing import Any, Literal

from attrs import field, frozen

__all__ = ["CircuitResult", "CountsSource", "Results", "bitstring"]

CountsSource = Literal["histogram", "shots", "probabilities"]


def bitstring(state: int, qubits: int) -> str:
    """`state` as bits zero-padded to `qubits`, qubit 0 the rightmost character."""
    return format(state, f"0{qubits}b")


@frozen(kw_only=True)
class CircuitResult:
    """The results of one circuit: probabilities, counts and (when offered) every shot.

    `probabilities` maps the integer state (qubit 0 = least significant bit) to its
    probability; `bitstrings` gives the same keyed by bitstring, zero-padded to `qubits`.
    `counts` (per state, summing to `shots`) come from a histogram or shots artifact when
    the job offers one; otherwise they are derived as probability x shots (rounded so that
    they sum to `shots`) and `counts_source` is "probabilities". `samples` lists each
    shot's state when the job offers its shots. `counts` is None when `shots` is unknown.
    """

    job_id: str
    qubits: int
    probabilities: dict[int, float] = field(factory=dict)
    shots: int | None = None
    counts: dict[int, int] | None = None
    counts_source: CountsSource | None = None
    samples: tuple[int, ...] | None = None
    name: str | None = None

    @property
    def bitstrings(self) -> dict[str, float]:
        """Probabilities keyed by bitstring (qubit 0 the rightmost character)."""
        return {bitstring(k, self.qubits): p for k, p in self.probabilities.items()}

    @property
    def bitstring_counts(self) -> dict[str, int] | None:
        """Counts keyed by bitstring, or None when there are no counts."""
        if self.counts is None:
            return None
        return {bitstring(k, self.qubits): n for k, n in self.counts.items()}

    @property
    def counts_derived(self) -> bool:
        """True when the counts were computed from probabilities, not measured shot counts."""
        return self.counts_source == "probabilities"


@frozen(kw_only=True)
class Results(CircuitResult):
    """`jobs.results()`: a completed job's results.

    A single-circuit job's results are its own (see CircuitResult). A multi-circuit job
    has `children`, one CircuitResult per child circuit in the job's order keyed by child
    job id, and `aggregate`, each child's probabilities keyed by child id (the parent's
    aggregate artifact when offered); its own `probabilities` are empty. `raw` is the
    job's `results` map as the API sent it (a function job's values live there).
    """

    children: dict[str, CircuitResult] = field(factory=dict)
    aggregate: dict[str, dict[int, float]] | None = None
    raw: dict[str, Any] | None = None

    @property
    def is_multi_circuit(self) -> bool:
        """True for a multi-circuit job (its results are in `children`)."""
        return bool(self.children)
