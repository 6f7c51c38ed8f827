"""``growthnav demo`` on a temporary home, checked against the generator's truth."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from growthnav.cli.app import app
from growthnav.cli.demo import DEMO_CONNECTORS
from growthnav.sandbox import generate_business
from typer.testing import CliRunner

PEOPLE, SEED = 600, 7


@pytest.fixture(scope="module")
def demo_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    home = tmp_path_factory.mktemp("home")
    runner = CliRunner()
    env = {"GROWTHNAV_HOME": str(home), "COLUMNS": "160"}
    args = ["demo", "--people", str(PEOPLE), "--seed", str(SEED), "--json"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, args, env=env)
    assert second.exit_code == 0, second.output
    return json.loads(first.stdout), json.loads(second.stdout), home


def test_summary_matches_the_truth(demo_runs: tuple[dict[str, Any], dict[str, Any], Path]) -> None:
    summary, _, _ = demo_runs
    business = generate_business(PEOPLE, SEED)
    truth = business.truth.to_pylist()
    assert summary["source_records"] == business.source_records == summary["records_fetched"]
    names = {name: system for system, (name, _) in DEMO_CONNECTORS.items()}
    bad: dict[str, Counter[str]] = defaultdict(Counter)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for row in truth:
        if row["bad_reason"]:
            bad[row["system"]][row["bad_reason"]] += 1
        else:
            revenue[row["system"]] += Decimal(row["value"])
    for connector in summary["connectors"]:
        system = names[connector["name"]]
        assert connector["discovered"] is True
        agree, expected = connector["mapping_agrees_with_truth"].split("/")
        assert agree == expected, connector["field_map"]
        assert connector["rejected"] == dict(bad[system])
        rows = business.tables[system].num_rows
        assert connector["loaded"] + sum(connector["rejected"].values()) == rows
    by_id = {c["connector_id"]: names[c["name"]] for c in summary["connectors"]}
    for row in summary["by_source"]:
        assert Decimal(row["revenue"]) == revenue[by_id[row["connector_id"]]]
    total_bad = Counter[str]()
    for counts in bad.values():
        total_bad.update(counts)
    assert summary["rejects"] == dict(total_bad)
    assert summary["identity_precision"] >= 0.95
    assert summary["identity_recall"] >= 0.9
    identity = summary["identity"]
    assert identity["multi_system_people"] > 0
    assert identity["largest_cluster"] <= 20
    assert len(summary["top_customers"]) == 10
    values = [Decimal(c["lifetime_value"]) for c in summary["top_customers"]]
    assert values == sorted(values, reverse=True)


def test_rerun_finds_nothing_new_and_keeps_ids(
    demo_runs: tuple[dict[str, Any], dict[str, Any], Path],
) -> None:
    first, second, _ = demo_runs
    assert first["nothing_new"] is False
    assert second["nothing_new"] is True
    assert second["records_fetched"] == 0
    assert all(not c["discovered"] for c in second["connectors"])
    assert second["identity"]["new_ids"] == 0
    assert second["identity"]["people"] == first["identity"]["people"]
    assert second["top_customers"] == first["top_customers"]


def test_report_is_self_contained(demo_runs: tuple[dict[str, Any], dict[str, Any], Path]) -> None:
    summary, _, home = demo_runs
    report = Path(summary["report"])
    assert report.parent == home / "reports"
    page = report.read_text()
    assert page.count("<svg") == 4
    assert "<script" not in page
    assert "http" not in page
    for title in (
        "Conversions per month",
        "Revenue per month",
        "Match probability",
        "Mapping confidence",
    ):
        assert title in page


def test_demo_refuses_a_tiny_brand(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--people", "3"], env={"GROWTHNAV_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "too few" in result.output


def test_demo_prints_a_readable_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--people", "250", "--no-report"],
        env={"GROWTHNAV_HOME": str(tmp_path), "COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    for text in ("Toast POS order export", "People found", "precision", "Top customers", "Done in"):
        assert text in result.stdout
    assert "Report:" not in result.stdout
