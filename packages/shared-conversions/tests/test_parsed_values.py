"""Values parsed once are looked up afterwards, in the order asked, up to a limit."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.conversions.parsed_values import ParsedValues


class Upper:
    """A parse that records what it was asked to parse."""

    def __init__(self) -> None:
        self.asked: list[list[Any]] = []

    def __call__(self, values: pa.Array[Any]) -> dict[str, pa.Array[Any]]:
        self.asked.append(values.to_pylist())
        lengths = pa.array([len(str(text)) for text in values.to_pylist()], pa.int64())
        return {"upper": pc.utf8_upper(values), "length": lengths}


def test_known_values_are_looked_up_and_new_ones_parsed_once_in_the_order_asked() -> None:
    parse, held = Upper(), ParsedValues()
    first = held.parse(pa.array(["a", "bb"]), parse)
    assert first["upper"].to_pylist() == ["A", "BB"]
    second = held.parse(pa.array(["ccc", "a", "dddd", "bb"]), parse)
    assert second["upper"].to_pylist() == ["CCC", "A", "DDDD", "BB"]
    assert second["length"].to_pylist() == [3, 1, 4, 2]
    third = held.parse(pa.array(["dddd", "ccc"]), parse)
    assert third["upper"].to_pylist() == ["DDDD", "CCC"]
    assert parse.asked == [["a", "bb"], ["ccc", "dddd"]]
    assert len(held) == 4


def test_past_the_limit_new_values_are_parsed_each_time_and_not_held() -> None:
    parse, held = Upper(), ParsedValues(limit=3)
    held.parse(pa.array(["a", "b"]), parse)
    assert held.parse(pa.array(["c", "d", "a"]), parse)["upper"].to_pylist() == ["C", "D", "A"]
    assert len(held) == 2  # two more would pass the limit
    assert held.parse(pa.array(["d"]), parse)["upper"].to_pylist() == ["D"]
    assert len(held) == 3  # one more fits
    assert held.parse(pa.array(["c", "d"]), parse)["upper"].to_pylist() == ["C", "D"]
    assert parse.asked == [["a", "b"], ["c", "d"], ["d"], ["c"]]
    assert len(held) == 3
    too_many = ParsedValues(limit=1)
    too_many.parse(pa.array(["x", "y"]), parse)
    assert len(too_many) == 0


def test_a_few_values_among_many_held_are_found_either_way() -> None:
    parse, held = Upper(), ParsedValues()
    many = [f"v{i}" for i in range(1000)]
    held.parse(pa.array(many), parse)
    # Fewer asked than half the held: the held values are looked up in the asked ones.
    asked = ["v999", "new", "v0", "v500", "other"]
    found = held.parse(pa.array(asked), parse)
    assert found["upper"].to_pylist() == [a.upper() for a in asked]
    assert found["length"].to_pylist() == [len(a) for a in asked]
    assert parse.asked[1:] == [["new", "other"]]
    assert held.parse(pa.array(["other", "v3"]), parse)["upper"].to_pylist() == ["OTHER", "V3"]
    assert len(parse.asked) == 2
    assert len(held) == 1002
