"""Drive IonQ's qiskit-ionq end to end against ``python -m ionq_async.testing``.

Run by ``nox -s conformance`` (qiskit and qiskit-ionq in that session's venv only). The emulator
runs as a subprocess with its default results shape (legacy ``{url}`` entries beside artifact
descriptors, as the live API sends), and qiskit-ionq is pointed at it with
``IonQProvider(token=..., url=...)`` and ``IONQ_API_URL`` (which qiskit-ionq reads to size its
backends). Each step checks qiskit's view against the emulator's own answer; any mismatch raises,
so the script exits non-zero.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from qiskit import QuantumCircuit
from qiskit.providers import JobStatus
from qiskit_ionq import IonQProvider
from qiskit_ionq.exceptions import IonQJobStateError

API_KEY = "qiskit-flow-key"
DURATIONS = "1,1,1"  # seconds submitted, ready, started: long enough to cancel a job in flight
WAIT = {"timeout": 60, "wait": 0.1}


class Failure(Exception):
    """A step saw something it should not have."""


def check(ok: bool, what: str) -> None:
    """Raise Failure with ``what`` unless ``ok`` (not ``assert``, which ``-O`` strips)."""
    if not ok:
        raise Failure(what)


@contextmanager
def emulator() -> Iterator[str]:
    """A standalone emulator subprocess; yields its base URL (``.../v0.4``)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ionq_async.testing",
            "--port",
            "0",
            "--api-key",
            API_KEY,
            "--durations",
            DURATIONS,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.search(r"(http://\S+/v0\.4)", first)
        check(found is not None, f"emulator did not print its URL: {first!r}")
        assert found is not None
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Emulator:
    """The emulator's own answers, read over plain HTTP to cross-check qiskit's view."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"apiKey {API_KEY}"

    def get(self, path: str) -> Any:
        resp = self.http.get(self.url + path, timeout=10)
        check(resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:200]}")
        return resp.json()

    def job(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get(f"/jobs/{job_id}")
        return body


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


def basis(bits: str) -> QuantumCircuit:
    """A circuit measuring the basis state ``bits`` (qubit 0 rightmost, as qiskit prints it)."""
    circuit = QuantumCircuit(2, 2, name=f"basis-{bits}")
    for qubit, bit in enumerate(reversed(bits)):
        if bit == "1":
            circuit.x(qubit)
    circuit.measure([0, 1], [0, 1])
    return circuit


def check_counts(counts: Mapping[str, int], shots: int, outcomes: set[str], what: str) -> None:
    check(sum(counts.values()) == shots, f"{what}: counts {counts} do not sum to {shots}")
    check(set(counts) <= outcomes, f"{what}: outcomes {set(counts)} outside {outcomes}")
    check(all(n > 0 for n in counts.values()), f"{what}: empty bins in {counts}")


def check_bell_split(counts: Mapping[str, int], shots: int, what: str) -> None:
    check_counts(counts, shots, {"00", "11"}, what)
    check(counts == {"00": shots // 2, "11": shots // 2}, f"{what}: not an even split: {counts}")


def run_flow(url: str) -> list[str]:
    """Every step; returns what each one showed."""
    emu = Emulator(url)
    provider = IonQProvider(token=API_KEY, url=url)
    done: list[str] = []

    names = sorted(b.name for b in provider.backends())
    check(names == ["ionq_qpu", "ionq_simulator"], f"provider backends: {names}")
    listed = {b["backend"]: b for b in emu.get("/backends")}
    check({"simulator", "qpu.forte-1"} <= set(listed), f"emulator backends: {sorted(listed)}")
    sim = provider.get_backend("ionq_simulator")
    check(sim.num_qubits == listed["simulator"]["qubits"], f"simulator width {sim.num_qubits}")
    forte = provider.get_backend("ionq_qpu.forte-1")
    check(forte.num_qubits == listed["qpu.forte-1"]["qubits"], f"forte width {forte.num_qubits}")
    calibration = forte.calibration()
    check(calibration is not None, "no calibration for qpu.forte-1")
    assert calibration is not None
    check(calibration.backend == "qpu.forte-1", f"calibration of {calibration.backend}")
    check(calibration.qubits == 36 and len(calibration.connectivity) == 36 * 35 // 2, "topology")
    check(forte.status() is True, "qpu.forte-1 is not reported available")
    done.append(f"backends: {names}; simulator {sim.num_qubits} qubits, forte {forte.num_qubits}")

    job = sim.run(bell(), shots=1000)
    bell_id = job.job_id()
    counts = job.result(**WAIT).get_counts()
    check(job.status() is JobStatus.DONE, f"bell status {job.status()}")
    check_counts(counts, 1000, {"00", "11"}, "bell on ionq_simulator")
    body = emu.job(bell_id)
    check((body["status"], body["backend"]) == ("completed", "simulator"), f"bell job {body}")
    check(body["noise"] == {"model": "ideal"}, f"bell noise {body['noise']}")
    done.append(f"bell on ionq_simulator {bell_id}: {dict(counts)}")

    circuits = [bell(), basis("01"), basis("11")]
    job = sim.run(circuits, shots=500)
    result = job.result(**WAIT)
    per_circuit = [result.get_counts(i) for i in range(3)]
    check_counts(per_circuit[0], 500, {"00", "11"}, "multi[0] bell")
    check(per_circuit[1] == {"01": 500}, f"multi[1]: {per_circuit[1]}")
    check(per_circuit[2] == {"11": 500}, f"multi[2]: {per_circuit[2]}")
    parent = emu.job(job.job_id())
    check(parent["type"] == "ionq.multi-circuit.v1", f"multi type {parent['type']}")
    check(len(parent["child_job_ids"]) == 3, f"children {parent['child_job_ids']}")
    detail = job.status(detailed=True)
    check(detail["total"] == detail["completed"] == 3, f"children status {detail}")
    done.append(f"3 circuits in job {job.job_id()}: {per_circuit}")

    noisy = provider.get_backend("ionq_simulator")
    noisy.set_options(noise_model="aria-1")
    job = noisy.run(bell(), shots=1000)
    counts = job.result(**WAIT).get_counts()
    check_bell_split(counts, 1000, "noisy bell")
    check(emu.job(job.job_id())["noise"] == {"model": "aria-1"}, "noise model not kept")
    done.append(f"noisy (aria-1) bell {job.job_id()}: {dict(counts)}")

    job = sim.run(bell(), shots=100)
    job.cancel()
    check(job.status() is JobStatus.CANCELLED, f"canceled job status {job.status()}")
    check(emu.job(job.job_id())["status"] == "canceled", "emulator did not cancel")
    expect_raise(lambda: job.result(**WAIT), IonQJobStateError, "result of a canceled job")
    done.append(f"canceled {job.job_id()}")

    again = sim.retrieve_job(bell_id)
    check(again.job_id() == bell_id, f"retrieved {again.job_id()}")
    check(again.status() is JobStatus.DONE, f"retrieved status {again.status()}")
    counts = again.result(**WAIT).get_counts()
    check_counts(counts, 1000, {"00", "11"}, "retrieved bell")
    done.append(f"retrieved {bell_id}: {dict(counts)}")

    for backend, name in [
        (forte, "ionq_qpu.forte-1"),
        (provider.get_backend("ionq_qpu"), "ionq_qpu"),
    ]:
        job = backend.run(bell(), shots=100)
        counts = job.result(**WAIT).get_counts()
        check_bell_split(counts, 100, f"bell on {name}")
        body = emu.job(job.job_id())
        check(body["backend"] == "qpu.forte-1", f"{name} ran on {body['backend']}")
        check("noise" not in body, f"{name} job shows noise {body.get('noise')}")
        cost = emu.get(f"/jobs/{job.job_id()}/cost")
        check(cost["cost"]["value"] == cost["estimated_cost"]["value"] > 0, f"{name} cost {cost}")
        done.append(f"bell on {name} {job.job_id()} ({body['backend']}): {dict(counts)}")
    return done


def expect_raise(action: Callable[[], object], error: type[Exception], what: str) -> None:
    try:
        action()
    except error:
        return
    raise Failure(f"{what} did not raise {error.__name__}")


def main() -> int:
    """Start the emulator, run every step, print what each showed."""
    started = time.monotonic()
    with emulator() as url:
        os.environ["IONQ_API_URL"] = url
        try:
            steps = run_flow(url)
        except Exception as exc:  # every failure, qiskit's or ours, fails the session
            print(f"qiskit-ionq flow FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    for line in steps:
        print(f"  ok  {line}")
    print(f"qiskit-ionq flow: {len(steps)} steps passed in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
