"""Schemathesis over the whole official v0.4 spec against a running FakeIonQ (spec results shape).

Every operation gets a bounded number of generated requests, sent with the emulator's key, and
every built-in check runs on the answers: no 5xx, bodies valid against their schemas, documented
content types. Statuses the spec leaves out for an operation but IonQ uses (400, 401, 404, 409)
are accepted. Path parameters are sometimes swapped for ids the emulator knows (seeded jobs of
every type, sessions, characterizations, its organization) so real bodies get checked too.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from _spec import read_spec, spec_missing

from ionq_async.testing import FakeIonQ

API_KEY = "schemathesis-key"
ALLOWED_UNDOCUMENTED = frozenset({400, 401, 404, 409})
CONFIG = """
[generation]
max-examples = 12
mode = "positive"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "404", "409"]

[checks.status_code_conformance]
enabled = false
"""
T = TypeVar("T")
BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]


class Emulator:
    """A FakeIonQ serving from its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.fake = FakeIonQ(
            api_key=API_KEY, durations=(0.0, 0.0, 0.0), results_shape="descriptors"
        )
        self.pools: dict[str, list[str]] = {}

    def on_loop(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(30)
        self.pools = self.on_loop(self._seed)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _seed(self) -> dict[str, list[str]]:
        fake = self.fake
        session = fake.add_session("qpu.forte-1", job_count_limit=100)
        jobs = [
            fake.add_job(circuit=BELL, status="completed"),
            fake.add_job(status="failed", failure_code="TooManyGates"),
            fake.add_job(status="started", durations=(60.0, 60.0, 60.0)),
            fake.add_job(status="completed", dry_run=True),
            fake.add_job(type="ionq.qasm3.v1", input={"data": "OPENQASM 3;"}, status="completed"),
        ]
        common = {"backend": "simulator", "shots": 100}
        payloads: list[dict[str, Any]] = [
            {
                **common,
                "type": "ionq.multi-circuit.v1",
                "input": {"gateset": "qis", "circuits": [{"circuit": BELL}, {"circuit": BELL[:1]}]},
            },
            {
                **common,
                "type": "quantum-function",
                "input": {"type": "generic", "data": {"x": 1}},
            },
            {
                **common,
                "type": "qctrl.qaoa.v1",
                "input": {
                    "problem_type": "maxcut",
                    "problem": {
                        "nodes": [{"id": 0}, {"id": 1}],
                        "adjacency": [[{"id": 1}], [{"id": 0}]],
                    },
                },
                "external_settings": {"api_credentials": "k"},
            },
            {
                "backend": "qpu.forte-1",
                "session_id": session.id,
                "type": "ionq.circuit.v1",
                "input": {"gateset": "native", "circuit": [{"gate": "ms", "targets": [0, 1]}]},
            },
        ]
        made = [fake.create_from_payload(p) for p in payloads]
        children = made[0].child_ids or []
        return {
            "job": [j.id for j in jobs + made] + children,
            "session": [session.id],
            "characterization": [
                c["id"] for b in fake.backends.values() for c in b.characterizations[:2]
            ],
            "organization": [fake.organization_id],
            "artifact": [
                "ionq.result.probabilities.json.v2",
                "ionq.result.histogram.json.v2",
                "ionq.result.shots.json.v1",
                "ionq.result.probabilities-aggregate.json.v1",
            ],
        }


def _pick(pool: list[str], drawn: Any) -> Any:
    """A known id for three draws in four (chosen from the drawn value), else the drawn value."""
    h = zlib.crc32(repr(drawn).encode())
    return pool[h % len(pool)] if h % 4 else drawn


_PARAM_POOLS = {
    "UUID": "job",
    "session_id": "session",
    "organization_id": "organization",
    "artifactId": "artifact",
}


def _use_known_ids(case: Any, emulator: Emulator) -> None:
    params = case.path_parameters or {}
    for name, pool in _PARAM_POOLS.items():
        if name in params:
            if name == "UUID" and "characterizations" in case.operation.path:
                pool = "characterization"
            params[name] = _pick(emulator.pools[pool], params[name])


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


RAW = read_spec()

if RAW is None:

    def test_schemathesis_needs_the_spec() -> None:
        spec_missing()

else:
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    def status_is_documented_or_ionq_uses_it(ctx: Any, response: Any, case: Any) -> None:
        """The status is one the spec lists for the operation, or 400/401/404/409."""
        documented = case.operation.responses.status_codes
        if "default" in documented or response.status_code in ALLOWED_UNDOCUMENTED:
            return
        codes = {int(c) for c in documented if c.isdigit()}
        assert response.status_code in codes, (
            f"{case.operation.label}: {response.status_code} not in {sorted(codes)}"
        )

    schema = schemathesis.openapi.from_dict(RAW, config=SchemathesisConfig.from_str(CONFIG))

    @schema.parametrize()
    def test_spec_conformance(case: Any, emulator: Emulator) -> None:
        _use_known_ids(case, emulator)
        response = case.call(
            base_url=emulator.fake.base_url, headers={"Authorization": f"apiKey {API_KEY}"}
        )
        assert response.status_code < 500, response.text[:500]
        case.validate_response(
            response,
            headers={"Authorization": f"apiKey {API_KEY}"},
            additional_checks=[status_is_documented_or_ionq_uses_it],
        )
