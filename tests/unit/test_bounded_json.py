"""The shared bounded JSON parser: size, nesting depth (outside strings), finite numbers, never a RecursionError."""
from __future__ import annotations

import json

import pytest

from switchboard.http.request_body import MAX_DEPTH, nesting_depth, parse_json
from switchboard.domain.errors import InvalidJson, PayloadTooLarge


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_the_depth_limit_is_inclusive() -> None:
    assert parse_json(nested(MAX_DEPTH).encode(), max_bytes=1000) is not None
    with pytest.raises(InvalidJson, match=f"more than {MAX_DEPTH} levels deep"):
        parse_json(nested(MAX_DEPTH + 1).encode(), max_bytes=1000)


@pytest.mark.parametrize(
    "text, depth",
    [
        ("{}", 1),
        ('{"a": [1, {"b": []}], "c": {}}', 4),
        ('{"a": "[[[[[[[[{{{{"}', 1),  # brackets in strings do not count
        ('{"a": "\\"[[[[", "b": [[]]}', 3),  # nor after an escaped quote
        ('{"a": "\\\\", "b": [[]]}', 3),  # an escaped backslash ends before the closing quote
        ("[" * 500, 500),  # never closed: still as deep as json.loads would go
        ('"just a string"', 0),
        ("42", 0),
    ],
)
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


@pytest.mark.parametrize("raw", [b"[" * 200_000, nested(100_000).encode(), b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
def test_no_input_reaches_json_loads_recursion(raw: bytes) -> None:
    with pytest.raises(InvalidJson, match="levels deep"):
        parse_json(raw, max_bytes=len(raw))


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
def test_numbers_must_be_finite(number: str) -> None:
    with pytest.raises(InvalidJson, match="out of range"):
        parse_json(f'{{"ttl": {number}}}'.encode(), max_bytes=100)


def test_size_then_content() -> None:
    with pytest.raises(PayloadTooLarge, match="limit is 10 bytes"):
        parse_json(b'{"a": "0123456789"}', max_bytes=10, what="webhook body")
    with pytest.raises(InvalidJson, match="The webhook body is empty"):
        parse_json(b"  ", max_bytes=10, what="webhook body")
    with pytest.raises(InvalidJson, match="not valid UTF-8"):
        parse_json(b"\xff", max_bytes=10)
    with pytest.raises(InvalidJson, match="NaN is not valid JSON"):
        parse_json(b"[NaN]", max_bytes=10)


def test_ordinary_bodies_parse_as_json_loads_does() -> None:
    body = {"to": "447700900000", "text": "héllo [{", "n": [1, 2.5, -3e2, True, None], "o": {"p": {"q": []}}}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert parse_json(raw, max_bytes=len(raw)) == body
