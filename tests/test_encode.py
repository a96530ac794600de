"""Request bodies are written by orjson where it agrees with `json.dumps`, else by `json.dumps`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ionq_async._core.http import _encode

_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_TEXT = st.text(st.characters(codec=None) | _SURROGATES)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 1)
    | st.integers(min_value=-(2**63) - 1, max_value=-(2**63) + 1)
    | st.floats()
    | _TEXT
)
_KEYS = _TEXT | st.integers() | st.floats() | st.booleans() | st.none()
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (NaN equals NaN; -0.0 and 0.0 differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def _outcome(encode: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", encode(value)
    except Exception as exc:
        return "error", (type(exc), str(exc))


def _assert_as_json_dumps(value: Any) -> bytes | None:
    """`_encode(value)` is `json.dumps`' bytes, or the same JSON document; or the same error."""
    expected = _outcome(lambda v: json.dumps(v).encode(), value)
    got = _outcome(_encode, value)
    assert got[0] == expected[0], (got, expected)
    if got[0] == "error":
        assert got == expected
        return None
    if got[1] != expected[1]:
        assert _same(json.loads(got[1]), json.loads(expected[1]))
    body: bytes = got[1]
    return body


@given(JSON_VALUES)
def test_any_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    _assert_as_json_dumps(value)


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Mode(enum.StrEnum):
    FAST = "fast"


class Name(str):
    pass


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"opt": math.nan}, b'{"opt": NaN}'),
        ({"opt": math.inf, "low": -math.inf}, b'{"opt": Infinity, "low": -Infinity}'),
        ([1.0, math.nan], b"[1.0, NaN]"),
        ({"shots": 2**64}, b'{"shots": 18446744073709551616}'),
        ({"shots": -(2**63) - 1}, b'{"shots": -9223372036854775809}'),
        (
            {1: "a", 2.5: "b", False: "c", None: "d"},
            b'{"1": "a", "2.5": "b", "false": "c", "null": "d"}',
        ),
        ({"name": "\ud800"}, b'{"name": "\\ud800"}'),
        ({"name": Name("x")}, b'{"name": "x"}'),
        (OrderedDict(b=1, a=2), b'{"b": 1, "a": 2}'),
        ({"ids": ("a", "b")}, b'{"ids": ["a", "b"]}'),
    ],
)
def test_what_orjson_writes_otherwise_is_written_by_json_dumps(value: Any, expected: bytes) -> None:
    assert _encode(value) == expected == json.dumps(value).encode()


@pytest.mark.parametrize(
    "value",
    [
        {"name": "caf\u00e9 \u2603 \U0001f600"},
        {"metadata": {"ionq_async_token": "0" * 32, "k": ""}, "shots": 2**64 - 1, "dry_run": True},
        {"opt": 1e16, "small": 5e-324, "neg": -0.0, "none": None},
        {"level": Level.HIGH, "mode": Mode.FAST},
        [],
    ],
)
def test_plain_values_keep_their_json_values(value: Any) -> None:
    body = _assert_as_json_dumps(value)
    assert body is not None
    assert _same(json.loads(body), json.loads(json.dumps(value)))


def _circular() -> dict[str, Any]:
    data: dict[str, Any] = {}
    data["self"] = data
    return data


@pytest.mark.parametrize(
    "value",
    [
        {"id": uuid.UUID(int=1)},
        {"color": Color.RED},
        {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {"day": dt.date(2026, 1, 1)},
        {"point": Point(1)},
        {"raw": b"bytes"},
        {("a", "b"): 1},
        _circular(),
    ],
)
def test_what_json_dumps_refuses_fails_with_its_error(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as expected:
        json.dumps(value)
    with pytest.raises(type(expected.value)) as got:
        _encode(value)
    assert str(got.value) == str(expected.value)
