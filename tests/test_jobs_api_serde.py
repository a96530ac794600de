"""Reading estimates in both documented shapes, and result payloads in every format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ionq_async import CircuitResult, EstimateRate, Money, ResponseValidationError
from ionq_async._core.loaders import load_estimate
from ionq_async._resources.result_formats import (
    derive_counts,
    read_aggregate,
    read_histogram,
    read_probabilities,
    read_shots,
)

# GetJobEstimateResponse of the September spec (the emulator's "rate_card" shape).
SEPTEMBER = {
    "estimate_context": {
        "backend": "qpu.forte-1",
        "type": "ionq.circuit.v1",
        "qubits": 25,
        "shots": 1000,
        "1q_gates": 0,
        "2q_gates": 0,
        "error_mitigation": False,
        "organization": "org",
        "project": None,
    },
    "estimated_at": "2026-09-01T12:00:00.000Z",
    "estimated_unit": "usd",
    "rate_card": {
        "id": "card-1",
        "rates": [
            {"sku": "forte.gates", "unit": "gates", "cost_1q_gate": 0.0003, "cost_2q_gate": 0.0025},
            {"sku": "forte.time", "unit": "compute_second", "unit_cost": 1.5},
        ],
    },
    "estimated_total_cost": 97.5,
    "estimated_execution_time": 96250,
    "estimated_quantum_compute_time_us": 1200,
    "current_predicted_queue_time": 397577,
}
# The April answer (the emulator's "rate_information" shape).
APRIL = {
    "input_values": {"backend": "qpu.forte-1", "qubits": 25},
    "estimated_at": "2026-04-01T12:00:00Z",
    "cost_unit": "credit",
    "rate_information": {
        "job_cost_minimum": 97.5,
        "cost_1q_gate": 0.0003,
        "cost_2q_gate": 0.0025,
        "organization": "org",
    },
    "estimated_cost": 97.5,
    "estimated_execution_time": 96250,
    "current_predicted_queue_time": 397577,
}


def test_september_estimate() -> None:
    est = load_estimate(SEPTEMBER)
    assert est.total == Money(value=97.5, unit="usd")
    assert (est.execution_time_ms, est.queue_time_ms) == (96250, 397577)
    assert est.quantum_compute_time_us == 1200
    assert est.estimated_at == datetime(2026, 9, 1, 12, tzinfo=UTC)
    assert est.rate_card_id == "card-1" and est.context["organization"] == "org"
    assert est.rates == (
        EstimateRate(sku="forte.gates", unit="gates", cost_1q_gate=0.0003, cost_2q_gate=0.0025),
        EstimateRate(sku="forte.time", unit="compute_second", unit_cost=1.5),
    )


def test_april_estimate() -> None:
    est = load_estimate(APRIL)
    assert est.total == Money(value=97.5, unit="credit")
    assert (est.execution_time_ms, est.queue_time_ms) == (96250, 397577)
    assert est.quantum_compute_time_us is None and est.rate_card_id is None
    assert est.context == {"backend": "qpu.forte-1", "qubits": 25}
    assert est.rates == (
        EstimateRate(unit="gates", cost_1q_gate=0.0003, cost_2q_gate=0.0025, job_cost_minimum=97.5),
    )


def test_estimate_ignores_unknown_keys_and_missing_optional_ones() -> None:
    est = load_estimate({"estimated_total_cost": 3, "estimated_unit": "usd", "new": {"x": 1}})
    assert est.total == Money(value=3.0, unit="usd") and est.rates == () and est.context == {}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"estimated_unit": "usd"},
        {"estimated_total_cost": 1.0},
        {"estimated_total_cost": "lots", "estimated_unit": "usd"},
        {**SEPTEMBER, "estimated_execution_time": "soon"},
    ],
)
def test_estimate_without_a_readable_cost_is_refused(data: Any) -> None:
    with pytest.raises(ResponseValidationError, match="cost estimate"):
        load_estimate(data)


def test_probabilities_v1_and_v2() -> None:
    assert read_probabilities({"0": 0.5, "3": 0.5}, None) == ({0: 0.5, 3: 0.5}, None)
    v2 = {
        "probabilities": {"registers": {"m": {"1": 1.0}, "output_all": {"001": 0.25, "100": 0.75}}}
    }
    assert read_probabilities(v2, "ionq.result.probabilities.json.v2") == ({1: 0.25, 4: 0.75}, 3)


def test_histogram_v1_and_v2() -> None:
    assert read_histogram({"1": 3, "2": 7}, "ionq.result.histogram.json.v1") == ({1: 3, 2: 7}, None)
    v2 = {"histogram": {"registers": {"output_all": {"10": 4}}}}
    assert read_histogram(v2, None) == ({2: 4}, 2)


def test_shots_v1_and_v2_keep_qubit_0_rightmost() -> None:
    assert read_shots(["3", "0", "3"], "ionq.result.shots.json.v1") == ((3, 0, 3), None)
    v2 = {"shots": [{"registers": {"output_all": [0, 0, 1]}}, {"registers": {"c": [1, 0, 0]}}]}
    assert read_shots(v2, "ionq.result.shots.json.v2") == ((1, 4), 3)


def test_aggregate_is_keyed_by_child_id() -> None:
    assert read_aggregate({"a": {"0": 1.0}, "b": {"3": 0.5, "0": 0.5}}) == {
        "a": {0: 1.0},
        "b": {3: 0.5, 0: 0.5},
    }


@pytest.mark.parametrize(
    ("reader", "data"),
    [
        (read_probabilities, {"0": "x"}),
        (read_probabilities, {"probabilities": {"registers": {}}}),
        (read_histogram, ["1"]),
        (read_shots, {"shots": [{"registers": {"output_all": ["a"]}}]}),
        (read_aggregate, {"a": [1]}),
    ],
)
def test_malformed_payloads_are_validation_errors(reader: Any, data: Any) -> None:
    with pytest.raises(ResponseValidationError):
        reader(data) if reader is read_aggregate else reader(data, None)


def test_derived_counts_sum_to_the_shots() -> None:
    assert derive_counts({0: 0.5, 3: 0.5}, 101) == {0: 51, 3: 50}
    counts = derive_counts({0: 1 / 3, 1: 1 / 3, 2: 1 / 3}, 100)
    assert sum(counts.values()) == 100 and sorted(counts.values()) == [33, 33, 34]
    assert derive_counts({0: 1.0, 1: 0.0}, 5) == {0: 5}


def test_circuit_result_bitstrings_are_padded_to_its_qubits() -> None:
    result = CircuitResult(
        job_id="j",
        qubits=3,
        probabilities={1: 0.5, 6: 0.5},
        counts={1: 1, 6: 1},
        counts_source="probabilities",
        shots=2,
    )
    assert result.bitstrings == {"001": 0.5, "110": 0.5}
    assert result.bitstring_counts == {"001": 1, "110": 1} and result.counts_derived
    assert CircuitResult(job_id="j", qubits=1).bitstring_counts is None
