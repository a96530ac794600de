"""Creating jobs through the API: session admission and multi-circuit children."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ._sessions import SessionBook
from ._store import COMPLETED, MULTI, Fate, Job


class SpawnServer(Protocol):
    """What creating a job uses of the emulator."""

    @property
    def now(self) -> Callable[[], float]: ...

    @property
    def durations(self) -> tuple[float, float, float]: ...

    @property
    def sessions(self) -> SessionBook: ...

    def insert(self, job: Job) -> Job: ...

    def decide_fate(self, job: Job) -> Fate: ...


def spawn(fake: SpawnServer, fields: dict[str, Any], *, explicit_session: bool) -> Job:
    """Admit and insert one API job (and its children); raises BadRequest when refused.

    A ``session_id`` given in the request must name a session that takes the job. One inherited
    by a clone is held to the same rules when the emulator knows that session (ids seeded with
    ``add_job`` that name no session pass unchecked).
    """
    now = fake.now()
    job = Job(id="", seq=0, created=now, durations=fake.durations, fate=COMPLETED, **fields)
    sid = job.session_id
    book = fake.sessions
    checked = sid is not None and (explicit_session or sid in book.by_id)
    cost = 0.0 if job.dry_run else job.cost()
    if checked:
        refusal = book.refusal(str(sid), job.backend, cost, now)
        if refusal is not None:
            raise refusal
    fake.insert(job)
    job.fate = fake.decide_fate(job)
    if job.type == MULTI:
        job.child_ids = [_child(fake, job, i, c).id for i, c in enumerate(job.input["circuits"])]
    if checked:
        book.admit(str(sid), job.id, cost, now)
    return job


def _child(fake: SpawnServer, parent: Job, index: int, circuit: dict[str, Any]) -> Job:
    inp: dict[str, Any] = {
        "gateset": circuit.get("gateset", parent.input["gateset"]),
        "circuit": circuit["circuit"],
    }
    qubits = circuit.get("qubits", parent.input.get("qubits"))
    if qubits is not None:
        inp["qubits"] = qubits
    child = Job(
        id="",
        seq=0,
        created=parent.created,
        durations=parent.durations,
        fate=parent.fate,
        type="ionq.circuit.v1",
        backend=parent.backend,
        input=inp,
        name=circuit.get("name", f"{parent.name or 'circuit'}[{index}]"),
        metadata=parent.metadata,
        shots=parent.shots,
        session_id=parent.session_id,
        parent_job_id=parent.id,
        settings=parent.settings,
        dry_run=parent.dry_run,
        noise=parent.noise,
        registers=circuit.get("registers"),
    )
    fake.insert(child)
    return child
