"""Plausible results of quantum-function and Q-CTRL QAOA jobs."""

from __future__ import annotations

import itertools
import random
from typing import Any

MAX_EXACT_NODES = 12


def quantum_function_results(input: dict[str, Any], seed: str) -> dict[str, float]:
    """``{value, variance}``: a Hamiltonian's energy in the all-zero state, else seeded noise.

    For ``hamiltonian-energy`` inputs every Pauli term made of ``I``/``Z`` only contributes its
    coefficient (its expectation in ``|0...0>``), other terms contribute 0; the variance is the
    sum of the squared coefficients of the other terms.
    """
    data = input.get("data")
    if isinstance(data, dict) and data.get("type") == "hamiltonian-energy":
        inner = data.get("data")
        terms = inner.get("hamiltonian", []) if isinstance(inner, dict) else []
        value = variance = 0.0
        for term in terms:
            coef = float(term["coefficient"])
            if set(str(term["pauli_string"]).upper()) <= {"I", "Z"}:
                value += coef
            else:
                variance += coef * coef
        return {"value": value, "variance": variance}
    rng = random.Random(seed)
    return {"value": round(rng.uniform(-1.0, 1.0), 6), "variance": round(rng.uniform(0, 0.1), 6)}


def graph_edges(problem: dict[str, Any]) -> tuple[list[Any], list[tuple[int, int]]]:
    """Nodes and undirected edges (node indices) of a NetworkX ``adjacency_graph`` object."""
    nodes = [n["id"] for n in problem["nodes"]]
    index = {repr(n): i for i, n in enumerate(nodes)}
    edges: set[tuple[int, int]] = set()
    for i, row in enumerate(problem["adjacency"]):
        for nb in row:
            j = index[repr(nb["id"])]
            if i != j:
                edges.add((min(i, j), max(i, j)))
    return nodes, sorted(edges)


def maxcut(n: int, edges: list[tuple[int, int]]) -> tuple[int, str]:
    """The best cut size and its bitstring (node 0 first); exact up to ``MAX_EXACT_NODES``."""
    if n == 0:
        return 0, ""
    if n <= MAX_EXACT_NODES:
        best, best_bits = -1, (0,) * n
        for bits in itertools.product((0, 1), repeat=n - 1):
            side = (0, *bits)
            cut = sum(1 for a, b in edges if side[a] != side[b])
            if cut > best:
                best, best_bits = cut, side
        return best, "".join(map(str, best_bits))
    side_list = [0] * n
    for v in range(n):
        same = sum(1 for a, b in edges if v in (a, b) and side_list[a] == side_list[b])
        other = sum(1 for a, b in edges if v in (a, b) and side_list[a] != side_list[b])
        if same > other:
            side_list[v] ^= 1
    cut = sum(1 for a, b in edges if side_list[a] != side_list[b])
    return cut, "".join(map(str, side_list))


def qaoa_results(input: dict[str, Any]) -> dict[str, Any]:
    """``{qaoa_results: ...}`` of a maxcut problem: the cut as a negative cost to minimize."""
    nodes, edges = graph_edges(input["problem"])
    cut, bits = maxcut(len(nodes), edges)
    return {
        "qaoa_results": {
            "optimal_cost": float(-cut),
            "optimal_bitstring": bits,
            "processing_status": "complete",
        }
    }
