"""Drive every v0.4 operation of a FakeIonQ through IonQ's ionq-core and parse each answer.

Run by ``nox -s conformance`` (ionq-core in that session's venv only). Each answer is fetched with
ionq-core's generated endpoint function, which must parse it into the documented model; the raw
JSON is then parsed again with ``Model.from_dict`` and must round-trip with the same top-level
keys. Completed jobs are served in the spec's shape (artifact descriptors only). Any mismatch
raises, so the script exits non-zero.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any, get_args
from uuid import UUID

from ionq_core.api.backends import get_backend, get_backends
from ionq_core.api.characterizations import get_characterization, get_characterizations_for_backend
from ionq_core.api.default import (
    cancel_job,
    cancel_jobs,
    clone_job,
    create_job,
    create_session,
    delete_job,
    delete_jobs,
    end_session,
    estimate_job_cost,
    get_job,
    get_job_artifact,
    get_job_cost,
    get_job_probabilities,
    get_jobs,
    get_session,
    get_session_jobs,
    get_sessions,
    move_job,
)
from ionq_core.api.schemas import get_format_schema
from ionq_core.api.usage import get_usages
from ionq_core.api.whoami import get_whoami
from ionq_core.client import AuthenticatedClient
from ionq_core.models import (
    ArtifactDescriptor,
    Backend,
    Characterization,
    CircuitJobCreationPayload,
    CircuitJobResults,
    CloneJobPayload,
    CreateSessionRequest,
    FormatSchemaDocument,
    GetCharacterizationsForBackendResponse200,
    GetJobCostResponse,
    GetJobEstimateResponse,
    GetJobsResponse,
    GetResultsResponse,
    IonqResultHistogramJsonV1,
    IonqResultHistogramJsonV2,
    IonqResultProbabilitiesAggregateJsonV1,
    IonqResultProbabilitiesJsonV1,
    IonqResultProbabilitiesJsonV2,
    IonqResultShotsJsonV2,
    JobCanceledResponse,
    JobCreationResponse,
    JobDeletedResponse,
    JobsBulkOperationRequest,
    JobsCanceledResponse,
    JobsDeletedResponse,
    JSONMultiCircuitJob,
    MultiCircuitJob,
    MultiCircuitJobResults,
    QaoaJob,
    QctrlQaoaJobCreationPayload,
    QuantumFunctionJob,
    QuantumFunctionJobCreationPayload,
    Session,
    SessionsResponse,
    SingleCircuitJob,
    Usages,
    Whoami,
)
from ionq_core.models.formats import Formats

from ionq_async.testing import FakeIonQ

BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]
MS = {"gate": "ms", "targets": [0, 1]}
FORMATS = (
    "ionq.result.probabilities.json.v1",
    "ionq.result.probabilities.json.v2",
    "ionq.result.histogram.json.v1",
    "ionq.result.histogram.json.v2",
    "ionq.result.shots.json.v1",
    "ionq.result.shots.json.v2",
)
ARTIFACT_MODELS: dict[str, Any] = {
    FORMATS[0]: IonqResultProbabilitiesJsonV1,
    FORMATS[1]: IonqResultProbabilitiesJsonV2,
    FORMATS[2]: IonqResultHistogramJsonV1,
    FORMATS[3]: IonqResultHistogramJsonV2,
    FORMATS[5]: IonqResultShotsJsonV2,
    "ionq.result.probabilities-aggregate.json.v1": IonqResultProbabilitiesAggregateJsonV1,
}
PAYLOADS: dict[str, tuple[Any, dict[str, Any]]] = {
    "qis": (
        CircuitJobCreationPayload,
        {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100,
         "input": {"gateset": "qis", "qubits": 2, "circuit": BELL}},
    ),
    "native": (
        CircuitJobCreationPayload,
        {"type": "ionq.circuit.v1", "backend": "simulator",
         "input": {"gateset": "native", "qubits": 2, "circuit": [MS]}},
    ),
    "qasm3": (
        CircuitJobCreationPayload,
        {"type": "ionq.qasm3.v1", "backend": "simulator", "input": {"data": "OPENQASM 3.0;"}},
    ),
    "multi": (
        JSONMultiCircuitJob,
        {"type": "ionq.multi-circuit.v1", "backend": "simulator", "shots": 200,
         "input": {"gateset": "qis", "qubits": 2, "circuits": [
             {"name": "bell", "qubits": 2, "circuit": BELL, "registers": {"a": [0]}},
             {"name": "native", "gateset": "native", "qubits": 1,
              "circuit": [{"gate": "gpi2", "target": 0, "phase": 0.25}]},
         ]}},
    ),
    "function": (
        QuantumFunctionJobCreationPayload,
        {"type": "quantum-function", "backend": "simulator",
         "input": {"data": {"type": "hamiltonian-energy", "data": {
             "hamiltonian": [{"pauli_string": "ZI", "coefficient": 0.5},
                             {"pauli_string": "XX", "coefficient": 0.25}],
             "ansatz": {"data": "OPENQASM 3.0;"}}}}},
    ),
    "qaoa": (
        QctrlQaoaJobCreationPayload,
        {"type": "qctrl.qaoa.v1", "backend": "simulator",
         "external_settings": {"api_credentials": "qctrl-key"},
         "input": {"problem_type": "maxcut", "problem": {
             "directed": False, "multigraph": False, "graph": [],
             "nodes": [{"id": 0}, {"id": 1}, {"id": 2}],
             "adjacency": [[{"id": 1}, {"id": 2}], [{"id": 0}, {"id": 2}],
                           [{"id": 0}, {"id": 1}]]}}},
    ),
}  # fmt: skip
JOB_MODELS = {
    "qis": SingleCircuitJob,
    "native": SingleCircuitJob,
    "qasm3": SingleCircuitJob,
    "multi": MultiCircuitJob,
    "function": QuantumFunctionJob,
    "qaoa": QaoaJob,
}
seen: list[str] = []


def check(label: str, response: Any, model: Any, status: int = 200) -> Any:
    """ionq-core parsed ``response`` into ``model``; ``model.from_dict`` round-trips its keys."""
    raw = json.loads(response.content)
    if response.status_code != status:
        raise AssertionError(f"{label}: status {response.status_code}, body {raw}")
    items = raw if isinstance(raw, list) else [raw]
    parsed = response.parsed if isinstance(response.parsed, list) else [response.parsed]
    for item, via_client in zip(items, parsed, strict=True):
        if not isinstance(via_client, model):
            raise AssertionError(f"{label}: ionq-core parsed {type(via_client)}, not {model}")
        again = model.from_dict(item)
        if set(again.to_dict()) != set(item):
            raise AssertionError(f"{label}: keys {sorted(again.to_dict())} != {sorted(item)}")
    seen.append(label)
    return raw


def check_results(label: str, job: Any) -> None:
    """A completed circuit job's results parsed into descriptors (nothing left as a raw dict)."""
    results = job.results
    if not isinstance(results, CircuitJobResults | MultiCircuitJobResults) or not all(
        isinstance(d, ArtifactDescriptor) for d in results.additional_properties.values()
    ):
        raise AssertionError(f"{label}: results not parsed into descriptors: {results!r}")


async def exercise(fake: FakeIonQ, client: AuthenticatedClient) -> None:
    """Call every operation once or more and check each answer."""
    check("getWhoami", await get_whoami.asyncio_detailed(client=client), Whoami)
    check("getBackends", await get_backends.asyncio_detailed(client=client), Backend)
    forte = "qpu.forte-1"
    check("getBackend", await get_backend.asyncio_detailed(forte, client=client), Backend)
    page = check(
        "getCharacterizationsForBackend",
        await get_characterizations_for_backend.asyncio_detailed(
            forte, client=client, start="2026-06-01", limit=3
        ),
        GetCharacterizationsForBackendResponse200,
    )
    char_id = UUID(page["characterizations"][0]["id"])
    check(
        "getCharacterization",
        await get_characterization.asyncio_detailed(forte, char_id, client=client),
        Characterization,
    )
    session = check(
        "CreateSession",
        await create_session.asyncio_detailed(
            client=client,
            body=CreateSessionRequest.from_dict(
                {"backend": "simulator", "settings": {"job_count_limit": 50}}
            ),
        ),
        Session,
        201,
    )
    ids: dict[str, str] = {}
    for name, (model, body) in PAYLOADS.items():
        created = check(
            f"CreateJob[{name}]",
            await create_job.asyncio_detailed(
                client=client, body=model.from_dict({**body, "session_id": session["id"]})
            ),
            JobCreationResponse,
            201,
        )
        ids[name] = created["id"]
    for name, job_id in ids.items():
        resp = await get_job.asyncio_detailed(job_id, client=client)
        check(f"GetJob[{name}]", resp, JOB_MODELS[name])
        if name in ("qis", "native", "qasm3", "multi"):
            check_results(f"GetJob[{name}]", resp.parsed)
    multi = json.loads((await get_job.asyncio_detailed(ids["multi"], client=client)).content)
    for child in multi["child_job_ids"]:
        resp = await get_job.asyncio_detailed(child, client=client)
        check("GetJob[child]", resp, SingleCircuitJob)
        check_results("GetJob[child]", resp.parsed)
    check(
        "GetJobs",
        await get_jobs.asyncio_detailed(client=client, parent_job_id=ids["multi"], limit=1),
        GetJobsResponse,
    )
    check(
        "GetSessionJobs",
        await get_session_jobs.asyncio_detailed(session["id"], client=client, limit=2),
        GetJobsResponse,
    )
    check(
        "GetSessions",
        await get_sessions.asyncio_detailed(client=client, active=True),
        SessionsResponse,
    )
    check("GetSession", await get_session.asyncio_detailed(session["id"], client=client), Session)
    check(
        "GetJobCost",
        await get_job_cost.asyncio_detailed(ids["qis"], client=client),
        GetJobCostResponse,
    )
    check(
        "EstimateJobCost",
        await estimate_job_cost.asyncio_detailed(
            client=client, backend=forte, shots=1000, field_1q_gates=10, field_2q_gates=4
        ),
        GetJobEstimateResponse,
    )
    check(
        "GetJobProbabilities",
        await get_job_probabilities.asyncio_detailed(ids["qis"], client=client),
        GetResultsResponse,
    )
    for fmt, model in ARTIFACT_MODELS.items():
        job_id = ids["multi"] if "aggregate" in fmt else ids["qis"]
        resp = await get_job_artifact.asyncio_detailed(job_id, fmt, client=client)
        if resp.status_code != 200:
            raise AssertionError(f"GetJobArtifact[{fmt}]: {resp.status_code}")
        raw = json.loads(resp.content)
        if set(model.from_dict(raw).to_dict()) != set(raw):
            raise AssertionError(f"GetJobArtifact[{fmt}]: does not round-trip")
    shots = json.loads(
        (await get_job_artifact.asyncio_detailed(ids["qis"], FORMATS[4], client=client)).content
    )
    if not (
        isinstance(shots, list) and len(shots) == 100 and all(isinstance(s, str) for s in shots)
    ):
        raise AssertionError("GetJobArtifact[shots.json.v1]: not 100 decimal strings")
    seen.append("GetJobArtifact")
    for fmt in sorted(get_args(Formats)):
        check(
            f"GetFormatSchema[{fmt}]",
            await get_format_schema.asyncio_detailed(fmt, client=client),
            FormatSchemaDocument,
        )
    today = dt.datetime.fromtimestamp(fake.now(), dt.UTC).date()
    check(
        "get-usages",
        await get_usages.asyncio_detailed(
            fake.organization_id,
            client=client,
            start_date=today - dt.timedelta(days=7),
            end_date=today + dt.timedelta(days=1),
            group_by="project",
            modality="daily",
        ),
        Usages,
    )
    src = fake.add_job(circuit=BELL, durations=(60.0, 60.0, 60.0))
    other = fake.add_job(circuit=BELL, durations=(60.0, 60.0, 60.0))
    clone_body = CloneJobPayload.from_dict({"shots": 10})
    check(
        "CloneJob",
        await clone_job.asyncio_detailed(src.id, client=client, body=clone_body),
        JobCreationResponse,
        201,
    )
    check(
        "MoveJob",
        await move_job.asyncio_detailed(src.id, client=client, body=clone_body),
        JobCreationResponse,
        201,
    )
    check(
        "CancelJob", await cancel_job.asyncio_detailed(other.id, client=client), JobCanceledResponse
    )
    bulk = JobsBulkOperationRequest.from_dict({"ids": [other.id, src.id]})
    check(
        "CancelJobs",
        await cancel_jobs.asyncio_detailed(client=client, body=bulk),
        JobsCanceledResponse,
    )
    check(
        "DeleteJob", await delete_job.asyncio_detailed(other.id, client=client), JobDeletedResponse
    )
    check(
        "DeleteJobs",
        await delete_jobs.asyncio_detailed(client=client, body=bulk),
        JobsDeletedResponse,
    )
    check("EndSession", await end_session.asyncio_detailed(session["id"], client=client), Session)


async def main() -> int:
    """Start the emulator, exercise it, print what parsed."""
    async with FakeIonQ(
        durations=(0.0, 0.0, 0.0), results_shape="descriptors", result_formats=FORMATS
    ) as fake:
        client = AuthenticatedClient(
            base_url=fake.base_url,
            token=fake.api_key,
            prefix="apiKey",
            raise_on_unexpected_status=True,
        )
        async with client:
            await exercise(fake, client)
    operations = sorted({label.split("[")[0] for label in seen})
    print(f"ionq-core parsed {len(seen)} answers of {len(operations)} operations:")
    print(", ".join(operations))
    return 0 if len(operations) == 25 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
