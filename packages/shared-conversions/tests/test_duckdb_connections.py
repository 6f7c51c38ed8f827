"""The DuckDB connections the package opens, and row positions."""

from __future__ import annotations

from growthnav.conversions.duckdb_arrow import arrow_result, connect
from growthnav.conversions.positions import row_positions


def test_connections_draw_no_progress_bar() -> None:
    connection = connect()
    try:
        setting = arrow_result(connection, "SELECT current_setting('enable_progress_bar') AS b")
        assert setting.column("b")[0].as_py() is False
    finally:
        connection.close()


def test_row_positions_count_from_zero() -> None:
    assert row_positions(4).to_pylist() == [0, 1, 2, 3]
    assert len(row_positions(0)) == 0
    assert str(row_positions(1).type) == "int64"
