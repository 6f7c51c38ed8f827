"""Every ``growthnav`` command: its success path and at least one bad-input path."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from growthnav.cli.app import app
from growthnav.cli.due import connector_lock, is_due
from growthnav.cli.home import Home
from growthnav.connectors import ConnectorConfig, ConnectorType, SyncSchedule
from growthnav.warehouse import DuckDBWarehouse
from typer.testing import CliRunner

#: ``--map`` flags for the three required targets of the test export.
REQUIRED_MAP = (
    "--map",
    "order_id=transaction_id",
    "--map",
    "closed_at=timestamp",
    "--map",
    "total=value",
)
CSV = (
    "order_id,closed_at,total,customer_id,email,phone,first_name\n"
    "1,2024-01-31 18:05,$12.50,g1,ana@example.com,(917) 933-6320,Ana\n"
    "2,2024-02-01 12:00,7.25,g2,bo@example.com,,Bo\n"
    "3,not a date,3.00,g1,ANA@example.com,,Ana\n"
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run(home: Path) -> Any:
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, input: str | None = None) -> Any:
        result = runner.invoke(
            app, list(args), env={"GROWTHNAV_HOME": str(home), "COLUMNS": "160"}, input=input
        )
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(CSV)
    return path


def _add(run: Any, export: Path, *extra: str) -> str:
    result = run(
        "connectors",
        "add",
        "--customer",
        "brand",
        "--type",
        "file",
        "--name",
        "POS orders",
        "--param",
        f"path={export}",
        "--param",
        "source=pos",
        *extra,
    )
    return str(result.output.split()[-1])


def test_types_lists_every_type_with_its_spec(run: Any) -> None:
    rows = json.loads(run("connectors", "types", "--json").stdout)
    file_type = next(r for r in rows if r["type"] == "file")
    assert file_type["available"] is True
    assert "path" in file_type["params"]
    assert {r["type"] for r in rows} >= {"snowflake", "salesforce", "hubspot", "file"}
    assert "file" in run("connectors", "types").output
    assert "No such option" in run("connectors", "types", "--bogus", code=2).output


def test_map_changes_the_field_map_and_remap_applies_it(run: Any, export: Path, home: Path) -> None:
    connector_id = _add(
        run, export, "--map", "order_id=transaction_id", "--map", "closed_at=timestamp"
    )
    run("connectors", "sync", connector_id, code=3)  # one bad timestamp in three
    assert "transaction_id" in run("connectors", "map", connector_id).output
    refused = run("connectors", "map", connector_id, "--map", "first_name=frist_name", code=2)
    assert "did you mean 'first_name'?" in refused.output
    assert (
        "not in the field map"
        in run("connectors", "map", connector_id, "--unmap", "x", code=2).output
    )
    run("connectors", "map", "missing", code=2)
    changed = json.loads(
        run(
            "connectors",
            "map",
            connector_id,
            "--map",
            "first_name=first_name",
            "--map",
            "total=",
            "--json",
        ).stdout
    )
    assert changed["changed"] is True
    assert changed["field_map"]["first_name"] == "first_name"
    shown = json.loads(run("connectors", "show", connector_id, "--json").stdout)
    assert shown["field_map"] == changed["field_map"]
    run("connectors", "remap", connector_id, "--json")
    rows = DuckDBWarehouse(home / "warehouse.duckdb").read_conversions("brand").to_pylist()
    assert {(r["transaction_id"], r["first_name"], r["value"]) for r in rows} == {
        ("1", "Ana", None),
        ("2", "Bo", None),
    }
    again = json.loads(run("connectors", "map", connector_id, "--unmap", "total", "--json").stdout)
    assert "total" not in again["field_map"]
    assert json.loads(run("connectors", "map", connector_id, "--json").stdout)["changed"] is False


def test_add_list_show_and_bad_input(run: Any, export: Path, tmp_path: Path) -> None:
    connector_id = _add(run, export, "--map", "order_id=transaction_id")
    assert connector_id == "file-pos-orders"
    listed = json.loads(run("connectors", "list", "--json").stdout)
    assert [c["connector_id"] for c in listed] == [connector_id]
    assert "POS orders" in run("connectors", "list").output
    assert json.loads(run("connectors", "list", "--customer", "other", "--json").stdout) == []
    assert (
        "cannot name a dataset"
        in run("connectors", "list", "--customer", "Bad Name", code=2).output
    )
    shown = json.loads(run("connectors", "show", connector_id, "--json").stdout)
    assert shown["field_map"] == {"order_id": "transaction_id"}
    text = run("connectors", "show", connector_id).output
    assert "connection_params" in text
    assert "field_map: order_id=transaction_id" in text
    # Bad input: one clear line, exit 2, nothing saved.
    bad = run("connectors", "add", "--customer", "brand", "--type", "nope", "--name", "x", code=2)
    assert "is not a connector type" in bad.output
    bad = run("connectors", "add", "--type", "file", "--name", "x", code=2)
    assert "--customer" in bad.output
    bad = run(
        "connectors",
        "add",
        "--customer",
        "brand",
        "--type",
        "file",
        "--name",
        "y",
        "--param",
        "nopath",
        code=2,
    )
    assert "KEY=VALUE" in bad.output
    bad = run("connectors", "add", "--customer", "brand", "--type", "file", "--name", "z", code=2)
    assert "path" in bad.output
    assert "Traceback" not in bad.output
    assert len(json.loads(run("connectors", "list", "--json").stdout)) == 1
    run("connectors", "show", "missing", code=2)


def test_add_from_yaml_moves_secrets_to_the_store(
    run: Any, export: Path, tmp_path: Path, home: Path
) -> None:
    spec = tmp_path / "connector.yaml"
    spec.write_text(
        f"customer_id: brand\ntype: file\nname: from yaml\nconnection_params:\n  path: {export}\n"
        "field_map:\n  order_id: transaction_id\n  closed_at: timestamp\n  total: value\n"
    )
    connector_id = _add_from(run, spec)
    shown = json.loads(run("connectors", "show", connector_id, "--json").stdout)
    assert shown["name"] == "from yaml"
    assert shown["field_map"]["total"] == "value"
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- a\n- b\n")
    assert "mapping" in run("connectors", "add", "--from-file", str(not_a_mapping), code=2).output


def test_batch_size_is_set_on_add_set_and_in_a_file_and_refused_when_not_a_count(
    run: Any, export: Path, tmp_path: Path
) -> None:
    connector_id = _add(run, export, "--batch-size", "250_000")
    assert json.loads(run("connectors", "show", connector_id, "--json").stdout)["batch_size"] == (
        250_000
    )
    changed = json.loads(
        run("connectors", "set", connector_id, "--batch-size", "50,000", "--json").stdout
    )
    assert (changed["changed"], changed["batch_size"]) == (["batch_size"], 50_000)
    for bad in ("0", "-5", "ten", "1.5"):
        refused = run("connectors", "set", connector_id, "--batch-size", bad, code=2).output
        assert f"--batch-size '{bad}' is not a number of records" in refused
        assert "Traceback" not in refused
    assert json.loads(run("connectors", "show", connector_id, "--json").stdout)["batch_size"] == (
        50_000
    )
    spec = tmp_path / "connectors.yaml"
    spec.write_text(
        f"customer_id: brand\nbatch_size: 100000\nconnectors:\n"
        f"  - {{type: file, name: big, connection_params: {{path: {export}}}}}\n"
        f"  - {{type: file, name: small, batch_size: 500, connection_params: {{path: {export}}}}}\n"
    )
    run("connectors", "add", "--from-file", str(spec))
    sizes = {
        c["name"]: c["batch_size"] for c in json.loads(run("connectors", "list", "--json").stdout)
    }
    assert sizes == {"POS orders": 50_000, "big": 100_000, "small": 500}
    spec.write_text("customer_id: brand\ntype: file\nname: odd\nbatch_size: 0\n")
    assert (
        "is not a number of records"
        in run("connectors", "add", "--from-file", str(spec), code=2).output
    )


def _add_from(run: Any, spec: Path) -> str:
    return str(run("connectors", "add", "--from-file", str(spec)).output.split()[-1])


def test_test_discover_sync_status_and_remove(run: Any, export: Path) -> None:
    connector_id = _add(run, export)
    assert "connection ok" in run("connectors", "test", connector_id).output
    run("connectors", "test", "missing", code=2)
    assert (
        "at least 1" in run("connectors", "discover", connector_id, "--sample", "0", code=2).output
    )
    run("connectors", "discover", "missing", code=2)
    run("connectors", "status", "missing", code=2)
    proposed = json.loads(run("connectors", "discover", connector_id, "--json").stdout)
    assert proposed["field_map"]["order_id"] == "transaction_id"
    assert proposed["validation"]["columns"]["closed_at"]["parse_rate"] == pytest.approx(
        2 / 3, abs=1e-3
    )
    assert proposed["applied"] is False
    table = run("connectors", "discover", connector_id, "--apply").output
    assert "mapping stored" in table
    assert "closed_at" in table
    # One reject in three is above the default 5% threshold: partial, exit 3.
    first = json.loads(run("connectors", "sync", connector_id, "--json", code=3).stdout)
    assert (first["fetched"], first["loaded"], first["rejected"]) == (3, 2, {"bad_timestamp": 1})
    again = run("connectors", "sync", connector_id).output
    assert "nothing new" in again
    full = json.loads(
        run(
            "connectors", "sync", connector_id, "--full", "--json", "--max-reject-rate", "0.5"
        ).output
    )
    assert (full["loaded"], full["unchanged"]) == (0, 2)
    assert "--since" in run("connectors", "sync", connector_id, "--since", "soon", code=2).output
    run("connectors", "sync", "missing", code=2)
    remapped = json.loads(run("connectors", "remap", connector_id, "--json").stdout)
    assert (remapped["mode"], remapped["fetched"], remapped["unchanged"]) == ("remap", 3, 2)
    remapped_text = run("connectors", "remap", connector_id).output
    assert "re-mapped" in remapped_text
    assert "1 rejected (bad_timestamp 1)" in remapped_text
    run("connectors", "remap", "missing", code=2)
    status = json.loads(run("connectors", "status", connector_id, "--json").stdout)
    assert status[0]["runs"][2]["unchanged"] == 2
    modes = [r["mode"] for r in status[0]["runs"]]
    assert modes == ["remap", "remap", "full", "incremental", "incremental"]
    assert connector_id in run("connectors", "status").output
    kept = run("connectors", "remove", connector_id, input="n\n")
    assert "kept" in kept.output
    unanswered = run("connectors", "remove", connector_id, input="", code=2)
    assert "pass --yes" in unanswered.output
    run("connectors", "remove", connector_id, "--yes")
    run("connectors", "remove", connector_id, "--yes", code=2)


def test_a_duckdb_memory_limit_that_is_not_a_size_is_refused_before_a_sync(
    run: Any, export: Path, home: Path
) -> None:
    connector_id = _add(run, export)
    run("connectors", "discover", connector_id, "--apply")
    env = {"GROWTHNAV_HOME": str(home), "COLUMNS": "160", "GROWTHNAV_DUCKDB_MEMORY_LIMIT": "lots"}
    result = CliRunner().invoke(app, ["connectors", "sync", connector_id], env=env)
    assert result.exit_code == 2, result.output
    assert "GROWTHNAV_DUCKDB_MEMORY_LIMIT='lots' is not a memory size" in result.output
    assert not (home / "warehouse.duckdb").exists()
    env["GROWTHNAV_DUCKDB_MEMORY_LIMIT"] = "512MB"
    synced = CliRunner().invoke(app, ["connectors", "sync", connector_id, "--json"], env=env)
    assert json.loads(synced.stdout)["loaded"] == 2


def test_identity_resolve_and_lookup(run: Any, export: Path) -> None:
    connector_id = _add(
        run,
        export,
        *REQUIRED_MAP,
        "--map",
        "customer_id=user_id",
        "--map",
        "email=email",
        "--map",
        "phone=phone",
        "--map",
        "first_name=first_name",
    )
    run("connectors", "sync", connector_id, "--max-reject-rate", "0.5")
    report = json.loads(run("identity", "resolve", "--customer", "brand", "--json").stdout)
    assert (report["records"], report["people"]) == (2, 2)
    assert "2 people" in run("identity", "resolve", "--customer", "brand", "--deterministic").output
    again = json.loads(run("identity", "resolve", "--customer", "brand", "--full", "--json").stdout)
    assert (again["people"], again["new_ids"]) == (2, 0)
    [person] = json.loads(
        run(
            "identity", "lookup", "--customer", "brand", "--email", "ANA@example.com", "--json"
        ).output
    )
    assert person["conversions"] == 1
    by_id = json.loads(
        run(
            "identity",
            "lookup",
            "--customer",
            "brand",
            "--id",
            person["global_customer_id"],
            "--json",
        ).output
    )
    assert by_id == [person]
    shown = run("identity", "lookup", "--customer", "brand", "--phone", "+19179336320").output
    assert person["global_customer_id"] in shown
    assert "1 conversion, lifetime value" in shown
    assert "{'" not in shown  # a line per person, not a Python dict
    run("identity", "lookup", "--customer", "brand", "--email", "x@example.com", code=1)
    assert "exactly one" in run("identity", "lookup", "--customer", "brand", code=2).output
    assert (
        "not a valid email"
        in run("identity", "lookup", "--customer", "brand", "--email", "nope", code=2).output
    )
    assert (
        "cannot name a dataset"
        in run("identity", "resolve", "--customer", "Bad Name", code=2).output
    )


def test_run_due_syncs_due_connectors_and_reports_failures(
    run: Any, export: Path, tmp_path: Path
) -> None:
    good = _add(
        run,
        export,
        *REQUIRED_MAP,
        "--schedule",
        "hourly",
    )
    missing = tmp_path / "gone.csv"
    missing.write_text(CSV)
    bad = str(
        run(
            "connectors",
            "add",
            "--customer",
            "brand",
            "--type",
            "file",
            "--name",
            "gone",
            "--param",
            f"path={missing}",
            *REQUIRED_MAP,
        ).output.split()[-1]
    )
    missing.unlink()
    outcomes = json.loads(run("run-due", "--json", code=3).stdout)
    status = {o["connector_id"]: o["status"] for o in outcomes}
    assert status == {good: "synced", bad: "failed"}
    # Just synced: the good one is not due again; the failed one is retried.
    retried = run("run-due", code=1).output
    assert bad in retried
    assert "failed" in retried
    assert good not in retried
    assert "{'" not in retried  # a table, not a Python dict
    outcomes = json.loads(run("run-due", "--json", code=1).stdout)
    assert [o["connector_id"] for o in outcomes] == [bad]
    run("connectors", "remove", bad, "--yes")
    assert "nothing due" in run("run-due").output
    assert (
        "--schedule"
        in run(
            "connectors",
            "add",
            "--customer",
            "b",
            "--type",
            "file",
            "--name",
            "n",
            "--param",
            f"path={export}",
            "--schedule",
            "often",
            code=2,
        ).output
    )


def test_schedules_and_the_lock(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2024, 1, 1, tzinfo=UTC)
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="b",
        name="n",
        sync_schedule=SyncSchedule.DAILY,
    )
    assert is_due(config, None, now)
    assert not is_due(config, now - timedelta(hours=23), now)
    assert is_due(config, now - timedelta(hours=24), now)
    config.sync_schedule = SyncSchedule.MANUAL
    assert not is_due(config, None, now)
    config.sync_schedule, config.is_active = SyncSchedule.HOURLY, False
    assert not is_due(config, None, now)
    home = Home(tmp_path, {})
    with connector_lock(home, "c") as first, connector_lock(home, "c") as second:
        assert (first, second) == (True, False)
    with connector_lock(home, "c") as again:
        assert again is True


def test_debug_shows_the_traceback(run: Any) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["--debug", "connectors", "show", "missing"], env={"GROWTHNAV_HOME": "/nonexistent/x"}
    )
    assert result.exit_code != 0
    assert result.exception is not None


def test_sandbox_up_prints_params_and_writes_them(run: Any, home: Path) -> None:
    import yaml

    result = run("sandbox", "up", "--people", "120", "--once")
    assert "olo" in result.output
    assert "base_url=http://127.0.0.1:" in result.output
    params = yaml.safe_load((home / "sandbox" / "connection-params.yaml").read_text())
    assert set(params) == {"snowflake", "olo", "hubspot", "zoho", "salesforce", "anthropic"}
    only = run("sandbox", "up", "--system", "anthropic", "--people", "120", "--once")
    assert "olo" not in only.output
    refused = run("sandbox", "up", "--system", "teradata", "--once", code=2)
    assert "no emulator for teradata" in refused.output


def test_sandbox_connectors_file_loads_and_its_exports_sync(run: Any, home: Path) -> None:
    import yaml
    from growthnav.sandbox import EXPECTED_FIELD_MAPS

    up = run("sandbox", "up", "--system", "anthropic", "--people", "150", "--once")
    path = home / "sandbox" / "connectors.yaml"
    assert "connectors file (4 connectors)" in up.output
    spec = yaml.safe_load(path.read_text())
    assert spec["customer_id"] == "juniper-kitchen"
    assert [e["type"] for e in spec["connectors"]] == ["file"] * 4
    assert [e["field_map"] for e in spec["connectors"]] == list(EXPECTED_FIELD_MAPS.values())

    # A broken entry is refused by name; the others are saved.
    spec["connectors"].append({"type": "snowflake", "name": "Lake", "connection_params": {}})
    path.write_text(yaml.safe_dump(spec))
    added = run("connectors", "add", "--from-file", str(path), code=2)
    assert added.output.count("saved connector") == 4
    assert "'Lake' (snowflake)" in added.output
    assert "connection_params.table is required" in added.output
    assert "not saved (1 of 5)" in added.output
    listed = json.loads(run("connectors", "list", "--json").stdout)
    assert len(listed) == 4
    outcomes = json.loads(run("run-due", "--json").stdout)
    assert {o["status"] for o in outcomes} == {"synced"}
    assert sum(o["fetched"] for o in outcomes) > 0
    # A second `sandbox up` keeps the exports as they were: nothing new to read.
    run("sandbox", "up", "--system", "anthropic", "--people", "150", "--once")
    again = json.loads(run("connectors", "sync", listed[0]["connector_id"], "--json").stdout)
    assert again["fetched"] == 0


def test_sandbox_api_entries_sync_while_the_sandbox_runs(run: Any, home: Path) -> None:
    import signal
    import subprocess
    import sys

    from growthnav.sandbox import (
        CRM,
        LOYALTY,
        POS,
        generate_business,
        olo_orders,
        salesforce_records,
    )

    env = {**os.environ, "GROWTHNAV_HOME": str(home)}
    command = [str(Path(sys.executable).parent / "growthnav"), "sandbox", "up"]
    systems = [f"--system={s}" for s in ("snowflake", "olo", "hubspot", "zoho", "salesforce")]
    up = subprocess.Popen(
        [*command, *systems, "--people", "150"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert up.stdout is not None
        for line in up.stdout:  # ready once it says where the connectors file is
            if "running; Ctrl-C stops" in line:
                break
        else:
            raise AssertionError(f"sandbox up exited with {up.wait()}")
        path = home / "sandbox" / "connectors.yaml"
        added = run("connectors", "add", "--from-file", str(path))
        assert added.output.count("saved connector") == 11
        outcomes = json.loads(run("run-due", "--json").stdout)
        assert {o["status"] for o in outcomes} == {"synced"}
        business = generate_business(150, 7)
        fetched = {o["connector_id"]: o["fetched"] for o in outcomes}
        snowflake = sorted(v for k, v in fetched.items() if "snowflake" in k)
        expected = sorted(business.tables[s].num_rows for s in (POS, LOYALTY))
        assert snowflake == expected
        [olo] = [v for k, v in fetched.items() if k.startswith("olo")]
        assert olo == len(olo_orders(business, 7))
        for system in ("hubspot", "zoho"):
            [deals] = [v for k, v in fetched.items() if k.startswith(system)]
            assert deals == business.tables[CRM].num_rows
        force = salesforce_records(business)
        live = {kind: sum(not r["IsDeleted"] for r in force[kind]) for kind in force}
        salesforce = sorted(v for k, v in fetched.items() if k.startswith("salesforce"))
        assert salesforce == sorted((live["Opportunity"], live["Lead"]))
        # The demo loads the same file: nothing new to load, every person resolved.
        demo = json.loads(
            run(
                "demo", "--connectors", str(path), "--people", "150", "--no-report", "--json"
            ).stdout
        )
        assert len(demo["connectors"]) == 11
        assert all(c["success"] for c in demo["connectors"])
        assert sum(c["loaded"] for c in demo["connectors"]) == 0
        assert demo["identity"]["people"] > 0
        assert demo["identity_precision"] > 0.9
        assert demo["identity_recall"] > 0.9
    finally:
        up.send_signal(signal.SIGINT)
        up.communicate(timeout=60)
    assert up.returncode == 0


def test_set_changes_params_and_credentials_and_keeps_the_connector(
    run: Any, export: Path, home: Path
) -> None:
    connector_id = _add(run, export)
    run("connectors", "discover", connector_id, "--apply")
    run("connectors", "sync", connector_id, "--max-reject-rate", "1")
    changed = run("connectors", "set", connector_id, "--param", "delimiter=,", "--unset", "source")
    assert "stored connection_params" in changed.output
    assert "--full" in changed.output  # the connector has synced: how to re-read
    view = json.loads(run("connectors", "show", connector_id, "--json").stdout)
    assert view["connection_params"] == {"path": str(export), "delimiter": ","}
    assert "nothing changed" in run("connectors", "set", connector_id, "--timezone", "UTC").output
    shown = json.loads(
        run("connectors", "set", connector_id, "--schedule", "hourly", "--json").stdout
    )
    assert (shown["changed"], shown["schedule"]) == (["sync_schedule"], "hourly")
    # Refused, naming the problem, and nothing stored.
    assert (
        "Mars/Olympus"
        in run("connectors", "set", connector_id, "--timezone", "Mars/Olympus", code=2).output
    )
    assert (
        "also the delimiter"
        in run("connectors", "set", connector_id, "--param", "quote=,", code=2).output
    )
    assert "not a param" in run("connectors", "set", connector_id, "--unset", "nope", code=2).output
    assert (
        "is not hourly"
        in run("connectors", "set", connector_id, "--schedule", "often", code=2).output
    )
    assert json.loads(run("connectors", "show", connector_id, "--json").stdout)["timezone"] == "UTC"
    assert (
        len(json.loads(run("connectors", "status", connector_id, "--json").stdout)[0]["runs"]) == 1
    )
    run("connectors", "set", "missing", "--timezone", "UTC", code=2)

    crm = run(
        "connectors",
        "add",
        "--customer",
        "brand",
        "--type",
        "zoho",
        "--name",
        "CRM",
        "--param",
        "client_id=1000.ABC",
        "--param",
        "data_centre=eu",
        "--secret",
        "client_secret=first-Secret-1",
        "--secret",
        "refresh_token=1000.first",
    ).output.split()[-1]
    # Only the refresh token is new: the client secret stays (the config still validates).
    out = run("connectors", "set", crm, "--secret", "refresh_token=1000.second-Secret-2").output
    assert "stored credentials" in out
    assert "second-Secret-2" not in out
    reference = json.loads(run("connectors", "show", crm, "--json").stdout)[
        "credentials_secret_path"
    ]
    name = reference.split(":", 1)[1]
    stored = json.loads((home / "secrets" / f"{name}.json").read_text())
    assert stored == {"client_secret": "first-Secret-1", "refresh_token": "1000.second-Secret-2"}


def test_a_file_read_with_the_wrong_delimiter_is_bad_input_fixed_with_set(
    run: Any, tmp_path: Path
) -> None:
    export = tmp_path / "orders.csv"
    export.write_text(CSV.replace(",", ";"))
    connector_id = _add(run, export)
    refused = run("connectors", "discover", connector_id, code=2).output
    assert "error: orders.csv reads as one column" in refused
    assert "set connection_params.delimiter to ';'" in refused
    run("connectors", "set", connector_id, "--param", "delimiter=;")
    proposed = json.loads(run("connectors", "discover", connector_id, "--json").stdout)
    assert proposed["field_map"]["order_id"] == "transaction_id"
