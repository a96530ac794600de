"""Answers are read by orjson, what it refuses by `json.loads`: the same values either way."""

from __future__ import annotations

import gc
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ionq_async import ResponseValidationError, RetryPolicy
from ionq_async._core import http
from ionq_async._core.http import _decode
from ionq_async.testing import FakeIonQ, Fault

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 differ; -0.0 and 0.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@given(JSON_VALUES, st.booleans())
def test_any_json_reads_as_json_loads_reads_it(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert _same(_decode(body), json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"id": "x"}',  # a UTF-8 byte order mark
        '{"name": "caf\u00e9"}'.encode("utf-16"),
        '{"name": "caf\u00e9"}'.encode("utf-32-le"),
        b'{"cost": NaN}',
        b'{"cost": Infinity, "other": -Infinity}',
        b'{"big": 1E400}',
        b'{"name": "\\ud800"}',  # a lone surrogate, escaped
        b'{"a": 1, "a": 2}',
    ],
)
def test_what_orjson_refuses_is_read_by_json_loads(body: bytes) -> None:
    expected = json.loads(body)
    got = _decode(body)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("body", [b"{", b"<html>bad gateway</html>", b'{"a": }', b"\xff\xfe\x00"])
def test_invalid_json_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        _decode(body)


async def test_a_large_answer_is_read_with_the_collector_paused_then_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, bool]] = []

    def recording(body: bytes) -> Any:
        seen.append((len(body), gc.isenabled()))
        return _decode(body)

    monkeypatch.setattr(http, "_decode", recording)
    async with FakeIonQ() as fake:
        ids = [fake.add_job().id for _ in range(100)]
        async with fake.client() as client:
            assert len((await client.jobs.list(ids=ids, limit=100)).jobs) == 100
            await client.jobs.get(ids[0])
            assert gc.isenabled()
            gc.disable()  # the caller's choice stays the caller's
            try:
                await client.jobs.list(ids=ids, limit=100)
                assert not gc.isenabled()
            finally:
                gc.enable()
            fake.faults.add("list_jobs", Fault.truncated())  # half a page: not JSON
            with pytest.raises(ResponseValidationError):
                await client.jobs.list(ids=ids, limit=100, retry=RetryPolicy(max_attempts=1))
            assert gc.isenabled(), "restored after a large answer that is not JSON"
    page, one = seen[0], seen[1]
    assert page[0] >= http._PAUSE_FROM and not page[1], "a page is read paused"
    assert one[0] < http._PAUSE_FROM and one[1], "a small answer is read as is"
    assert seen[-1][0] >= http._PAUSE_FROM and not seen[-1][1], "the bad page was read paused"
