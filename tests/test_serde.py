"""CloneRequest -> JSON body: spec conformance, omission of unset fields, round trips, and
validation that rejects bad input before any request is sent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _spec import validator_for
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from ionq_async import (
    AsyncIonQ,
    CloneRequest,
    Compilation,
    ErrorMitigation,
    Noise,
    RetryPolicy,
    Settings,
)
from ionq_async._core.serde import dump_request, structure
from ionq_async._models.jobs import check_job_id

SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
OTHER = "0198097d-4000-7000-8000-000000000002"

FULL = CloneRequest(
    parent=OTHER,
    name="bell again",
    metadata={"run": "7"},
    shots=1_000_000,
    backend="qpu.aria-1",
    session_id="0198097d-5000-7000-8000-000000000003",
    settings=Settings(
        error_mitigation=ErrorMitigation(debiasing=True, symmetry_verification=False),
        compilation=Compilation(opt=0.5, precision="1E-3", gate_basis="MS"),
    ),
    dry_run=False,
    noise=Noise(model="aria-1", seed=-(2**31)),
)


def test_full_request_validates_against_clone_job_payload() -> None:
    body = dump_request(FULL)
    assert body == {
        "parent": OTHER,
        "name": "bell again",
        "metadata": {"run": "7"},
        "shots": 1_000_000,
        "backend": "qpu.aria-1",
        "session_id": "0198097d-5000-7000-8000-000000000003",
        "settings": {
            "error_mitigation": {"debiasing": True, "symmetry_verification": False},
            "compilation": {"opt": 0.5, "precision": "1E-3", "gate_basis": "MS"},
        },
        "dry_run": False,
        "noise": {"model": "aria-1", "seed": -(2**31)},
    }
    validator = validator_for("CloneJobPayload")
    errors = [e.message for e in validator.iter_errors(body)]
    assert errors == []


def test_spec_validator_is_not_vacuous() -> None:
    validator = validator_for("CloneJobPayload")
    assert not validator.is_valid({"shots": 0})
    assert not validator.is_valid({"metadata": {"a": 1}})
    assert not validator.is_valid({"noise": {"seed": 1}})  # model is required
    assert not validator.is_valid({"noise": {"model": "ideal", "extra": 1}})


def test_empty_request_is_empty_object() -> None:
    assert dump_request(CloneRequest()) == {}
    assert validator_for("CloneJobPayload").is_valid({})


def test_unset_nested_fields_are_omitted_not_null() -> None:
    req = CloneRequest(
        settings=Settings(error_mitigation=ErrorMitigation(), compilation=Compilation(opt=2)),
        noise=Noise(model="ideal"),
    )
    assert dump_request(req) == {
        "settings": {"compilation": {"opt": 2}},
        "noise": {"model": "ideal"},
    }


texts = st.text(min_size=1, max_size=20)
uuids = st.uuids().map(str)
requests = st.builds(
    CloneRequest,
    parent=st.none() | uuids,
    name=st.none() | texts,
    metadata=st.none() | st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4),
    shots=st.none() | st.integers(1, 1_000_000),
    backend=st.none() | st.sampled_from(["simulator", "qpu.aria-1", "qpu.forte-1"]),
    session_id=st.none() | uuids,
    settings=st.none()
    | st.builds(
        Settings,
        error_mitigation=st.none()
        | st.builds(
            ErrorMitigation,
            debiasing=st.none() | st.booleans(),
            symmetry_verification=st.none() | st.booleans(),
        ),
        compilation=st.none()
        | st.builds(
            Compilation,
            opt=st.none() | st.integers(0, 3) | st.floats(0, 10, allow_nan=False),
            precision=st.none() | texts,
            gate_basis=st.none() | texts,
        ),
    ),
    dry_run=st.none() | st.booleans(),
    noise=st.none()
    | st.builds(
        Noise,
        model=st.sampled_from(["ideal", "aria-1", "forte-1"]),
        seed=st.none() | st.integers(-(2**31), 2**31 - 1),
    ),
)


@given(requests)
def test_requests_round_trip(request: CloneRequest) -> None:
    body = dump_request(request)
    assert None not in _leaves(body)
    assert structure(body, CloneRequest) == _normalized(request)
    assert validator_for("CloneJobPayload").is_valid(body)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _normalized(request: CloneRequest) -> CloneRequest:
    """What the body carries: empty nested settings objects are dropped, like unset ones."""
    settings = request.settings
    if settings is not None:
        em = settings.error_mitigation
        if em is not None and em == ErrorMitigation():
            em = None
        comp = settings.compilation
        if comp is not None and comp == Compilation():
            comp = None
        settings = (
            None if em is None and comp is None else Settings(error_mitigation=em, compilation=comp)
        )
    return CloneRequest(
        parent=request.parent,
        name=request.name,
        metadata=request.metadata,
        shots=request.shots,
        backend=request.backend,
        session_id=request.session_id,
        settings=settings,
        dry_run=request.dry_run,
        noise=request.noise,
    )


BAD_REQUESTS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"shots": 0}, ValueError, "shots"),
    ({"shots": 1_000_001}, ValueError, "shots"),
    ({"shots": True}, TypeError, "shots"),
    ({"shots": 1.5}, TypeError, "shots"),
    ({"shots": "10"}, TypeError, "shots"),
    ({"metadata": {"a": 1}}, TypeError, "metadata"),
    ({"metadata": {1: "a"}}, TypeError, "metadata"),
    ({"metadata": ["a"]}, TypeError, "metadata"),
    ({"dry_run": "true"}, TypeError, "dry_run"),
    ({"dry_run": 1}, TypeError, "dry_run"),
    ({"name": 5}, TypeError, "name"),
    ({"backend": False}, TypeError, "backend"),
    ({"session_id": 3}, TypeError, "session_id"),
    ({"parent": "not-a-uuid"}, ValueError, "parent"),
    ({"settings": {"compilation": {}}}, TypeError, "settings"),
    ({"noise": {"model": "ideal"}}, TypeError, "noise"),
]

BAD_PARTS: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: Noise(model="aria-1", seed=2**31), ValueError, "noise.seed"),
    (lambda: Noise(model="aria-1", seed=-(2**31) - 1), ValueError, "noise.seed"),
    (lambda: Noise(model="aria-1", seed=True), TypeError, "noise.seed"),
    (lambda: Noise(model="aria-1", seed=1.0), TypeError, "noise.seed"),
    (lambda: Noise(model=""), TypeError, "noise.model"),
    (lambda: ErrorMitigation(debiasing="no"), TypeError, "debiasing"),
    (lambda: ErrorMitigation(symmetry_verification=0), TypeError, "symmetry_verification"),
    (lambda: Compilation(opt=True), TypeError, "opt"),
    (lambda: Compilation(opt="1"), TypeError, "opt"),
    (lambda: Compilation(precision=1e-3), TypeError, "precision"),
    (lambda: Compilation(gate_basis=1), TypeError, "gate_basis"),
]


@pytest.mark.parametrize(("fields", "error", "name"), BAD_REQUESTS)
def test_bad_clone_request_fields_raise_naming_the_field(
    fields: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        CloneRequest(**fields)


@pytest.mark.parametrize(("make", "error", "name"), BAD_PARTS)
def test_bad_nested_fields_raise_naming_the_field(
    make: Callable[[], object], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        make()


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "",
        SRC.upper().replace("-", ""),
        "{" + SRC + "}",
        "urn:uuid:" + SRC,
        "urn:" + SRC.replace("-", ""),
        "0198097d3888-72ad-8c3c-1f1d-0c9e8a77",  # 36 chars, hyphens misplaced
        SRC[:-1] + "_",
        " " + SRC[1:],
        SRC + "/../x",
    ],
)
def test_check_job_id_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="job_id"):
        check_job_id(value)


@pytest.mark.parametrize("value", [None, 1, b"0198097d-3888-72ad-8c3c-1f1d0c9e8a77"])
def test_check_job_id_rejects_non_strings(value: object) -> None:
    with pytest.raises(TypeError, match="my_id"):
        check_job_id(value, "my_id")


@pytest.mark.parametrize("value", [SRC, SRC.upper()])
def test_check_job_id_accepts_canonical(value: str) -> None:
    assert check_job_id(value) == value


_CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_NEAR_ID_CHARS = st.sampled_from("0123456789abcdefABCDEFgG-_ \n\u0660\uff10\u00e9/")


@given(
    st.lists(_NEAR_ID_CHARS, min_size=34, max_size=38).map("".join)
    | st.text()
    | st.uuids()
    .map(str)
    .flatmap(
        lambda u: st.integers(0, 35).flatmap(
            lambda i: _NEAR_ID_CHARS.map(lambda c: u[:i] + c + u[i + 1 :])
        )
    )
)
def test_check_job_id_accepts_exactly_the_canonical_form(value: str) -> None:
    """Every string in 8-4-4-4-12 form of ASCII hex digits, any case, and nothing else."""
    if _CANONICAL_UUID.fullmatch(value):
        assert check_job_id(value) == value
    else:
        with pytest.raises(ValueError, match="job_id must be a"):
            check_job_id(value)


# --- bad inputs through the client: nothing reaches a real local server -------------------


@pytest.fixture
async def counting_server() -> AsyncIterator[tuple[TestServer, list[str]]]:
    hits: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path_qs}")
        return web.json_response({"id": SRC, "status": "completed", "jobs": [], "next": None})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server, hits


@pytest.fixture
async def client(counting_server: tuple[TestServer, list[str]]) -> AsyncIterator[AsyncIonQ]:
    server, _ = counting_server
    base = str(server.make_url("/v0.4"))
    async with AsyncIonQ("k", base_url=base, rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


BAD = "not-a-uuid"


async def _drain(it: Any) -> None:
    async for _ in it:
        pass


CALLS: dict[str, Callable[[AsyncIonQ], Awaitable[object]]] = {
    "clone": lambda c: c.jobs.clone(BAD),
    "clone-parent": lambda c: c.jobs.clone(SRC, parent=BAD),
    "move": lambda c: c.jobs.move(BAD),
    "get": lambda c: c.jobs.get(BAD),
    "cancel": lambda c: c.jobs.cancel(BAD),
    "cancel_many": lambda c: c.jobs.cancel_many([SRC, BAD]),
    "delete": lambda c: c.jobs.delete(BAD),
    "delete_many": lambda c: c.jobs.delete_many([BAD]),
    "cost": lambda c: c.jobs.cost(BAD),
    "probabilities": lambda c: c.jobs.probabilities(BAD),
    "list-ids": lambda c: _drain(c.jobs.list(ids=[SRC, BAD])),
    "list-parent": lambda c: _drain(c.jobs.list(parent_job_id=BAD)),
}
NAMES = {"clone-parent": "parent", "list-ids": r"ids\[1\]", "list-parent": "parent_job_id"}
NAMES |= {"cancel_many": r"job_ids\[1\]", "delete_many": r"job_ids\[0\]"}


async def test_the_counting_server_counts(
    client: AsyncIonQ, counting_server: tuple[TestServer, list[str]]
) -> None:
    await client.jobs.get(SRC)
    assert counting_server[1] == [f"GET /v0.4/jobs/{SRC}"]


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_non_uuid_job_id_raises_before_any_request(
    client: AsyncIonQ, counting_server: tuple[TestServer, list[str]], call: str
) -> None:
    with pytest.raises(ValueError, match=NAMES.get(call, "job_id")):
        await CALLS[call](client)
    assert counting_server[1] == []


@pytest.mark.parametrize("method", ["cancel_many", "delete_many"])
async def test_bulk_ids_must_be_a_list_not_a_string(
    client: AsyncIonQ, counting_server: tuple[TestServer, list[str]], method: str
) -> None:
    with pytest.raises(TypeError, match="job_ids"):
        await getattr(client.jobs, method)(SRC)
    assert counting_server[1] == []


@pytest.mark.parametrize(("fields", "error", "name"), BAD_REQUESTS)
async def test_bad_clone_keywords_raise_before_any_request(
    client: AsyncIonQ,
    counting_server: tuple[TestServer, list[str]],
    fields: dict[str, Any],
    error: type[Exception],
    name: str,
) -> None:
    with pytest.raises(error, match=name):
        await client.jobs.clone(SRC, **fields)
    with pytest.raises(error, match=name):
        await client.jobs.move(SRC, CloneRequest(shots=5), **fields)
    assert counting_server[1] == []


def test_spec_converter_maps_nullable_and_leaves_property_names_alone() -> None:
    from _spec import openapi_to_jsonschema

    node = {
        "type": "object",
        "properties": {
            "format": {"type": "string"},
            "nullable": {"type": "boolean"},
            "x": {"allOf": [{"$ref": "#/a"}], "nullable": True},
            "s": {"type": "string", "enum": ["a"], "nullable": True},
        },
    }
    out = openapi_to_jsonschema(node)
    assert out["properties"]["format"] == {"type": "string"}
    assert out["properties"]["nullable"] == {"type": "boolean"}
    assert out["properties"]["x"] == {"anyOf": [{"allOf": [{"$ref": "#/a"}]}, {"type": "null"}]}
    assert out["properties"]["s"] == {"type": ["string", "null"], "enum": ["a", None]}
