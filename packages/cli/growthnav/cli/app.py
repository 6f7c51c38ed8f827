"""``growthnav``: connectors, sync, identity and the demo, from a terminal.

Exit codes: 0 ok; 1 failed; 2 bad usage or bad input (the message names the problem and the
fix); 3 partial (some connectors failed, or rejects above ``--max-reject-rate``).
``--debug`` shows the traceback behind an error.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from growthnav.cli.connectors_file import (
    config_from_spec,
    parse_batch_size,
    parse_schedule,
    read_connector_specs,
)
from growthnav.cli.due import run_due
from growthnav.cli.home import Home
from growthnav.connectors import (
    ConfigurationError,
    ConnectorConfig,
    ConnectorType,
    SchemaError,
    SyncMode,
    SyncResult,
    get_registry,
    run_remap,
    run_sync,
)
from growthnav.connectors.arrow_memory import use_sync_allocator
from growthnav.connectors.discovery import SchemaDiscovery, source_signature
from growthnav.connectors.identity import IdentityStore, resolve_customer
from growthnav.connectors.secrets import secret_name, split_reference
from growthnav.conversions import FieldMap, FieldMapError, parse_timestamp
from growthnav.warehouse import check_customer_id
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

OK, FAILED, USAGE, PARTIAL = 0, 1, 2, 3

app = typer.Typer(
    help="GrowthNav Connectors: customer data from every system into one identity-resolved table.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
connectors_app = typer.Typer(help="Add, inspect, discover, sync and remove connectors.")
identity_app = typer.Typer(help="Resolve and look up customer identities.")
sandbox_app = typer.Typer(help="Loopback emulators of the systems GrowthNav reads.")
app.add_typer(connectors_app, name="connectors")
app.add_typer(identity_app, name="identity")
app.add_typer(sandbox_app, name="sandbox")

console = Console()
errors = Console(stderr=True)
_state = {"debug": False}

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BatchSizeOption = Annotated[
    str | None,
    typer.Option(
        help="Records read, normalized and loaded at a time (default 10,000): memory grows "
        "with it, and a large export syncs faster with more (e.g. 250,000)."
    ),
]
F = TypeVar("F", bound=Callable[..., Any])


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@contextmanager
def _errors() -> Iterator[None]:
    """Turn known failures into one clear line and an exit code (tracebacks with --debug)."""
    try:
        yield
    except typer.Exit:
        raise
    except (
        UsageError,
        ConfigurationError,
        SchemaError,
        FieldMapError,
        ValueError,
        FileNotFoundError,
    ) as exc:
        if _state["debug"]:
            raise
        errors.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(USAGE) from None
    except Exception as exc:
        if _state["debug"]:
            raise
        errors.print(
            f"[red]failed:[/red] {type(exc).__name__}: {exc} (run with --debug for details)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(FAILED) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def _home() -> Home:
    return Home.from_environment()


def _config(home: Home, connector_id: str) -> ConnectorConfig:
    config = home.storage.get(connector_id)
    if config is None:
        known = ", ".join(c.connector_id or "" for c in home.storage.list()) or "none saved yet"
        raise UsageError(
            f"no connector {connector_id!r} (known: {known}); see `growthnav connectors list`"
        )
    return config


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {item!r} is not KEY=VALUE (e.g. {option} path=export.csv)")
        out[key.strip()] = value
    return out


def _edited(
    settings: Mapping[str, Any], removed: list[str] | None, missing: str, option: str = "--unset"
) -> dict[str, Any]:
    """A copy of ``settings`` without the ``removed`` keys; refuses a key it does not hold."""
    out = dict(settings)
    for key in removed or []:
        if key not in out:
            held = ", ".join(out) or "none"
            raise UsageError(f"{option} {key!r}: {missing} (has: {held})")
        del out[key]
    return out


def _by_reason(counts: Mapping[str, int]) -> str:
    """`` (bad_value 2, bad_timestamp 1)``, or nothing when there are none."""
    return f" ({', '.join(f'{r} {n:,}' for r, n in counts.items())})" if counts else ""


def _config_view(config: ConnectorConfig) -> dict[str, Any]:
    return {
        "connector_id": config.connector_id,
        "customer_id": config.customer_id,
        "type": config.connector_type.value,
        "name": config.name,
        "connection_params": config.connection_params,
        "credentials_secret_path": config.credentials_secret_path,
        "field_map": config.field_overrides,
        "sync_mode": config.sync_mode.value,
        "schedule": config.sync_schedule.value,
        "timezone": config.timezone,
        "batch_size": config.batch_size,
        "active": config.is_active,
        "last_sync": config.last_sync.isoformat() if config.last_sync else None,
    }


# -- connectors ------------------------------------------------------------------------


def _spec_fields(cls: Any, group: str) -> list[str]:
    """A spec group's fields, optional ones marked with '?'."""
    if cls is None:
        return []
    return [f.name if f.required else f"{f.name}?" for f in cls.spec.fields() if f.group == group]


@connectors_app.command("types")
def types(as_json: JsonOption = False) -> None:
    """Every connector type: category, availability, required credentials and params."""
    registry = get_registry()
    rows: list[dict[str, Any]] = []
    for kind in ConnectorType:
        cls = registry.get(kind)
        rows.append(
            {
                "type": kind.value,
                "available": cls is not None,
                "category": cls.category.value if cls else None,
                "credentials": _spec_fields(cls, "credentials"),
                "params": _spec_fields(cls, "connection_params"),
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = Table("type", "available", "category", "credentials", "params")
    for r in rows:
        table.add_row(
            r["type"],
            "yes" if r["available"] else "not yet",
            r["category"] or "",
            ", ".join(r["credentials"]),
            ", ".join(r["params"]),
        )
    console.print(table)


@connectors_app.command("add")
def add(
    customer: Annotated[str | None, typer.Option(help="Tenant id, e.g. acme-burgers.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Connector type, e.g. file.")] = None,
    name: Annotated[str | None, typer.Option(help="A name people recognise.")] = None,
    param: Annotated[list[str] | None, typer.Option(help="Connection param KEY=VALUE.")] = None,
    secret: Annotated[
        list[str] | None, typer.Option(help="Credential KEY=VALUE (moved to the secret store).")
    ] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Field map COLUMN=TARGET.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="YAML/JSON with the same keys, or a connectors file (a 'connectors' list).",
        ),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone of naive timestamps.")] = None,
    schedule: Annotated[str | None, typer.Option(help="hourly, daily or weekly.")] = None,
    batch_size: BatchSizeOption = None,
) -> None:
    """Save connectors (each validated before anything is stored) and print their ids.

    With a connectors file, every entry is tried: those that validate are saved, the others
    are listed with the reason, and the exit code is 2 if any was refused.
    """
    with _errors():
        specs = read_connector_specs(from_file) if from_file is not None else [{}]
        scalars = {
            "customer_id": customer,
            "type": type_,
            "name": name,
            "timezone": timezone,
            "schedule": schedule,
            "batch_size": batch_size,
        }
        pairs = {
            "connection_params": _pairs(param or [], "--param"),
            "credentials": _pairs(secret or [], "--secret"),
            "field_map": _pairs(map_ or [], "--map"),
        }
        refused = []
        for spec in specs:
            try:
                config = config_from_spec(spec, scalars, pairs)
                get_registry().create(config).close()  # refused before anything is saved
            except (ConfigurationError, FieldMapError, ValueError) as exc:
                if len(specs) == 1:
                    raise
                refused.append(f"{spec.get('name')!r} ({spec.get('type')}): {exc}")
                continue
            console.print(f"saved connector [bold]{_home().storage.save(config)}[/bold]")
        if refused:
            errors.print(
                f"[red]not saved ({len(refused)} of {len(specs)}):[/red]\n  "
                + "\n  ".join(refused),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(USAGE)


@connectors_app.command("list")
def list_(
    customer: Annotated[str | None, typer.Option(help="Only this tenant's connectors.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Saved connectors."""
    with _errors():
        if customer is not None:
            check_customer_id(customer)
        configs = _home().storage.list(customer)
        if as_json:
            _print_json([_config_view(c) for c in configs])
            return
        table = Table("id", "customer", "type", "name", "schedule", "last sync")
        for c in configs:
            table.add_row(
                c.connector_id or "",
                c.customer_id,
                c.connector_type.value,
                c.name,
                c.sync_schedule.value,
                c.last_sync.isoformat(timespec="seconds") if c.last_sync else "never",
            )
        console.print(table)


@connectors_app.command("show")
def show(connector_id: str, as_json: JsonOption = False) -> None:
    """One connector's settings (secrets are references, never values)."""
    with _errors():
        view = _config_view(_config(_home(), connector_id))
        if as_json:
            _print_json(view)
            return
        for key, value in view.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
            console.print(f"[bold]{key}[/bold]: {'-' if value is None else value}", highlight=False)


@connectors_app.command("test")
def test(connector_id: str) -> None:
    """Check that the source accepts the connection."""
    with _errors():
        connector = get_registry().create(_config(_home(), connector_id))
        try:
            ok = connector.test_connection()
        finally:
            connector.close()
    if not ok:
        errors.print(f"[red]failed:[/red] {connector_id} refused the connection (see the log)")
        raise typer.Exit(FAILED)
    console.print(f"{connector_id}: connection ok")


@connectors_app.command("discover")
def discover(
    connector_id: str,
    apply: Annotated[bool, typer.Option(help="Store the proposed mapping.")] = False,
    sample: Annotated[int, typer.Option(help="Rows to sample.")] = 10_000,
    as_json: JsonOption = False,
) -> None:
    """Propose a field map from a sample (offline), with confidences and parse rates."""
    with _errors():
        home = _home()
        config = _config(home, connector_id)
        if sample < 1:
            raise UsageError(f"--sample {sample} must be at least 1 row")
        connector = get_registry().create(config)
        discovery = SchemaDiscovery(llm="off", memory=home.memory, timezone=config.timezone)
        with _rows_bar(f"discovering {config.name}") as progress:
            try:
                rows = connector.sample(sample)
            finally:
                connector.close()
            progress(rows.num_rows)
            result = discovery.analyze_sync(rows, context=config.name)
        if apply:
            config.field_overrides = dict(result["field_map"])
            home.storage.update(config)
            home.memory.remember(source_signature(result["profiles"]), config.field_overrides)
        validation = result["validation"]
        if as_json:
            _print_json(
                {
                    "connector_id": connector_id,
                    "mapper": result["mapper"],
                    "remembered": result["remembered"],
                    "field_map": result["field_map"],
                    "suggestions": [
                        {
                            "column": s.source_field,
                            "target": s.target_field,
                            "confidence": s.confidence,
                            "reason": s.reason,
                        }
                        for s in result["suggestions"]
                    ],
                    "validation": validation,
                    "applied": apply,
                    "warnings": result["warnings"],
                }
            )
            return
        table = Table("column", "target", "confidence", "parse rate", "reason")
        for s in result["suggestions"]:
            check = validation["columns"].get(s.source_field, {})
            rate = check.get("parse_rate")
            table.add_row(
                s.source_field,
                s.target_field or "-",
                f"{s.confidence:.2f}",
                f"{rate:.1%}" if rate is not None else "",
                s.reason,
            )
        console.print(table)
        for warning in result["warnings"]:
            console.print(f"note: {warning}")
        if validation["missing_required"]:
            console.print(
                f"[yellow]required fields not mapped:[/yellow] "
                f"{', '.join(validation['missing_required'])}; add them with "
                f"`growthnav connectors map {connector_id} --map COLUMN=TARGET`"
            )
        console.print("mapping stored" if apply else "not stored: re-run with --apply to keep it")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


@contextmanager
def _rows_bar(description: str) -> Iterator[Callable[[int], None]]:
    """A progress bar showing rows done and rows/s; yields the callback that updates it."""
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task(description, total=None, rate="")

        def update(rows: int) -> None:
            elapsed = time.perf_counter() - started
            rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else ""
            bar.update(task, completed=rows, rate=rate)

        yield update


def _sync_one(
    home: Home,
    config: ConnectorConfig,
    mode: SyncMode | None,
    since: Any,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    connector = get_registry().create(config)
    try:
        return run_sync(
            connector, home.storage, home.warehouse, mode=mode, since=since, progress=progress
        )
    finally:
        connector.close()


def _result_view(result: SyncResult) -> dict[str, Any]:
    return {
        "connector_id": result.connector_id,
        "success": result.success,
        "mode": result.sync_mode.value,
        "fetched": result.records_fetched,
        "loaded": result.records_loaded,
        "unchanged": result.records_unchanged,
        "rejected": result.records_rejected,
        "warnings": result.field_warnings,
        "cursor": result.cursor,
        "schema_drift": result.schema_drift,
        "seconds": round(result.duration_seconds or 0.0, 3),
        "error": result.error,
    }


def _reject_rate(result: SyncResult) -> float:
    return (
        sum(result.records_rejected.values()) / result.records_fetched
        if result.records_fetched
        else 0.0
    )


@connectors_app.command("sync")
def sync(
    connector_id: str,
    full: Annotated[bool, typer.Option(help="Re-read everything (still upserts).")] = False,
    since: Annotated[
        str | None, typer.Option(help="Start here instead of the saved cursor.")
    ] = None,
    max_reject_rate: Annotated[
        float, typer.Option(help="Exit 3 when rejects exceed this share of records.")
    ] = 0.05,
    as_json: JsonOption = False,
) -> None:
    """Sync one connector into the warehouse (load, then checkpoint, batch by batch)."""
    with _errors():
        home = _home()
        config = _config(home, connector_id)
        start = None
        if since is not None:
            parsed = parse_timestamp(since, config.timezone)
            if parsed.value is None:
                raise UsageError(f"--since {since!r}: {parsed.error}")
            start = parsed.value
        mode = SyncMode.FULL if full else None
        begun = time.perf_counter()
        with _rows_bar(f"syncing {config.name}") as progress:
            result = _sync_one(home, config, mode, start, progress)
        elapsed = time.perf_counter() - begun
    view = _result_view(result)
    if as_json:
        _print_json(view)
    elif result.success:
        rate = result.records_fetched / elapsed if elapsed else 0.0
        console.print(
            f"{connector_id}: {result.records_fetched:,} read, {result.records_loaded:,} loaded, "
            f"{result.records_unchanged:,} unchanged, "
            f"{sum(result.records_rejected.values()):,} rejected"
            f"{_by_reason(result.records_rejected)} in {elapsed:.1f} s ({rate:,.0f} rows/s)"
        )
        if result.records_fetched == 0:
            console.print("nothing new since the last sync")
    if not result.success:
        errors.print(f"[red]failed:[/red] {result.error}", highlight=False)
        raise typer.Exit(FAILED)
    if _reject_rate(result) > max_reject_rate:
        errors.print(
            f"partial: {_reject_rate(result):.1%} of records rejected "
            f"(above {max_reject_rate:.0%}); see `growthnav connectors status`"
        )
        raise typer.Exit(PARTIAL)


@connectors_app.command("set")
def set_settings(
    connector_id: str,
    param: Annotated[list[str] | None, typer.Option(help="Set connection param KEY=VALUE.")] = None,
    unset: Annotated[
        list[str] | None, typer.Option(help="Take connection param KEY out (its default).")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(help="Set credential KEY=VALUE (the others stay; kept in the secret store)."),
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone of naive timestamps.")] = None,
    schedule: Annotated[str | None, typer.Option(help="hourly, daily or weekly.")] = None,
    batch_size: BatchSizeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a saved connector's params, credentials, timezone, schedule or batch size.

    The connector keeps its id, sync state and history. The changed config is validated
    before it is stored.
    """
    with _errors():
        home = _home()
        config = _config(home, connector_id)
        params = _edited(config.connection_params, unset, f"not a param of {connector_id}")
        params.update(_pairs(param or [], "--param"))
        credentials = _pairs(secret or [], "--secret")
        if credentials and config.credentials_secret_path:
            credentials = {**_own_credentials(home, config), **credentials}
        changes: dict[str, Any] = {
            "connection_params": params,
            "timezone": timezone or config.timezone,
            "sync_schedule": parse_schedule(schedule) if schedule else config.sync_schedule,
            "batch_size": parse_batch_size(batch_size) if batch_size else config.batch_size,
        }
        changed = sorted(k for k, v in changes.items() if v != getattr(config, k))
        if credentials:
            changes["credentials"] = credentials
            changed.append("credentials")
        updated = dataclasses.replace(config, **changes)
        get_registry().create(updated).close()  # refused before anything is stored
        if changed:
            home.storage.update(updated)
    if as_json:
        _print_json({"connector_id": connector_id, "changed": changed, **_config_view(updated)})
        return
    if not changed:
        console.print("nothing changed")
        return
    console.print(f"stored {', '.join(changed)} for [bold]{connector_id}[/bold]")
    if "connection_params" in changed and home.storage.state(connector_id) is not None:
        console.print(
            f"the next sync reads with them; `growthnav connectors sync {connector_id} --full` "
            "re-reads what earlier syncs read"
        )


def _own_credentials(home: Home, config: ConnectorConfig) -> dict[str, str]:
    """The credentials stored for ``config`` by GrowthNav, to merge new ones into.

    Credentials kept elsewhere (an environment variable, a secret someone else manages) are
    not copied into GrowthNav's store: they are changed where they are.
    """
    reference = config.credentials_secret_path or ""
    scheme, name = split_reference(reference)
    own = secret_name(config.customer_id, config.connector_id or "")
    if scheme != home.storage.secrets.scheme or name != own:
        raise UsageError(
            f"{config.connector_id} reads its credentials from {reference}: change them there"
        )
    return home.storage.secrets.read(name)


@connectors_app.command("map")
def map_fields(
    connector_id: str,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Set COLUMN=TARGET (COLUMN= ignores the column)."),
    ] = None,
    unmap: Annotated[
        list[str] | None, typer.Option(help="Take COLUMN out of the field map.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show or change a connector's field map; `remap` then re-normalizes what is loaded."""
    with _errors():
        home = _home()
        config = _config(home, connector_id)
        field_map = _edited(config.field_overrides, unmap, "not in the field map", "--unmap")
        field_map.update(_pairs(map_ or [], "--map"))
        FieldMap.parse(field_map)  # refuses an unknown target or modifier, naming the column
        changed = field_map != config.field_overrides
        if changed:
            config.field_overrides = field_map
            home.storage.update(config)
    if as_json:
        _print_json({"connector_id": connector_id, "field_map": field_map, "changed": changed})
        return
    table = Table("column", "target")
    for column, target in field_map.items():
        table.add_row(column, target or "(ignored)")
    console.print(table)
    if changed:
        console.print(
            f"field map stored; `growthnav connectors remap {connector_id}` re-normalizes the "
            "records already loaded, the next sync uses it"
        )


@connectors_app.command("remap")
def remap(connector_id: str, as_json: JsonOption = False) -> None:
    """Re-normalize already-synced raw records with the current field map (no fetch)."""
    with _errors():
        home = _home()
        config = _config(home, connector_id)
        connector = get_registry().create(config)
        try:
            with _rows_bar(f"re-mapping {config.name}") as progress:
                result = run_remap(connector, home.storage, home.warehouse, progress)
        finally:
            connector.close()
    if as_json:
        _print_json(_result_view(result))
    elif result.success:
        console.print(
            f"{connector_id}: {result.records_fetched:,} raw records re-mapped, "
            f"{result.records_loaded:,} changed, {result.records_unchanged:,} unchanged, "
            f"{sum(result.records_rejected.values()):,} rejected"
            f"{_by_reason(result.records_rejected)}"
        )
    if not result.success:
        errors.print(f"[red]failed:[/red] {result.error}", highlight=False)
        raise typer.Exit(FAILED)


@connectors_app.command("status")
def status(
    connector_id: Annotated[str | None, typer.Argument()] = None,
    runs: Annotated[int, typer.Option(help="How many recent runs to show.")] = 5,
    as_json: JsonOption = False,
) -> None:
    """Recent sync runs: counts, rejects by reason, cursor, errors."""
    with _errors():
        home = _home()
        configs = [_config(home, connector_id)] if connector_id else home.storage.list()
        report: list[dict[str, Any]] = []
        for config in configs:
            cid = config.connector_id or ""
            state = home.storage.state(cid)
            report.append(
                {
                    "connector_id": cid,
                    "cursor": state.cursor if state else None,
                    "runs": [
                        {
                            "started_at": r.started_at.isoformat(),
                            "success": r.success,
                            "mode": r.mode.value,
                            "fetched": r.records_fetched,
                            "loaded": r.records_loaded,
                            "unchanged": r.records_unchanged,
                            "rejected": r.records_rejected,
                            "cursor_after": r.cursor_after,
                            "error": r.error,
                        }
                        for r in home.storage.runs(cid, limit=runs)
                    ],
                }
            )
        if as_json:
            _print_json(report)
            return
        table = Table(
            "connector", "started", "ok", "read", "loaded", "unchanged", "rejected", "cursor"
        )
        table.columns[0].overflow = "fold"
        for entry in report:
            runs_shown: list[dict[str, Any]] = entry["runs"] or [{}]
            for r in runs_shown:
                table.add_row(
                    entry["connector_id"],
                    str(r.get("started_at", "never"))[:19],
                    "" if not r else ("yes" if r["success"] else "NO"),
                    f"{r.get('fetched', 0):,}",
                    f"{r.get('loaded', 0):,}",
                    f"{r.get('unchanged', 0):,}",
                    ", ".join(f"{k} {v}" for k, v in (r.get("rejected") or {}).items()),
                    _short_cursor(r.get("cursor_after")),
                )
        console.print(table)


def _short_cursor(cursor: str | None) -> str:
    """A data cursor as is; a file manifest (JSON) summarized."""
    if not cursor:
        return ""
    if cursor.startswith("{"):
        files = json.loads(cursor).get("files", {})
        return f"{len(files)} file(s) read"
    return cursor


@connectors_app.command("remove")
def remove(
    connector_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a connector's config, state and history (its loaded conversions stay)."""
    with _errors():
        home = _home()
        _config(home, connector_id)
        try:
            confirmed = yes or typer.confirm(f"Remove connector {connector_id}?")
        except typer.Abort:  # no terminal to answer from (a script, a pipe)
            raise UsageError(
                f"kept {connector_id}: nobody answered the confirmation; "
                "pass --yes to remove it without asking"
            ) from None
        if not confirmed:
            console.print("kept")
            raise typer.Exit(OK)
        home.storage.delete(connector_id)
        console.print(f"removed {connector_id}")


# -- identity ---------------------------------------------------------------------------


@identity_app.command("resolve")
def identity_resolve(
    customer: Annotated[str, typer.Option(help="Tenant id.")],
    deterministic: Annotated[bool, typer.Option(help="Exact keys only (no model).")] = False,
    threshold: Annotated[float, typer.Option(help="Match probability to link at.")] = 0.9,
    full: Annotated[
        bool, typer.Option(help="Retrain the model and re-resolve everyone (not only new).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Resolve everyone across the customer's connectors; ids stay stable across runs."""
    with _errors():
        warehouse = _home().duckdb_warehouse()
        with _rows_bar("resolving identities") as progress:
            report = resolve_customer(
                warehouse,
                customer,
                deterministic=deterministic,
                match_threshold=threshold,
                progress=progress,
                full=full,
            )
    if as_json:
        _print_json(report.as_dict())
        return
    console.print(
        f"{report.records:,} customer records → {report.people:,} people "
        f"({report.multi_system_people:,} in more than one system); largest cluster "
        f"{report.largest_cluster}; {report.new_ids:,} new ids, {report.merges} merges, "
        f"{report.splits} splits; {report.conversions_linked:,} conversions carry an id"
    )


@identity_app.command("lookup")
def identity_lookup(
    customer: Annotated[str, typer.Option(help="Tenant id.")],
    email: Annotated[str | None, typer.Option(help="Find by email.")] = None,
    phone: Annotated[str | None, typer.Option(help="Find by phone.")] = None,
    id_: Annotated[str | None, typer.Option("--id", help="Find by global customer id.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Find a person by email, phone or global id."""
    with _errors():
        given = [v for v in (email, phone, id_) if v]
        if len(given) != 1:
            raise UsageError("give exactly one of --email, --phone or --id")
        store = IdentityStore(_home().duckdb_warehouse())
        store.ensure(customer)
        people = store.lookup(customer, email=email, phone=phone, global_id=id_)
    if as_json:
        _print_json(people)
        return
    if not people:
        console.print("no one found")
        raise typer.Exit(FAILED)
    for person in people:
        console.print(
            f"[bold]{person['global_customer_id']}[/bold]: {person['conversions']:,} "
            f"conversion{'' if person['conversions'] == 1 else 's'}, "
            f"lifetime value {person['lifetime_value']}, first seen {person['first_seen']}, "
            f"last seen {person['last_seen']}; systems {', '.join(person['systems'])}; "
            f"emails {', '.join(person['emails']) or '-'}; "
            f"phones {', '.join(person['phones']) or '-'}",
            highlight=False,
        )


# -- run-due and demo -------------------------------------------------------------------


@app.command("run-due")
def run_due_command(as_json: JsonOption = False) -> None:
    """Sync every active connector whose schedule is due (safe to run from cron)."""
    with _errors():
        home = _home()
        outcomes = run_due(home, lambda config: _sync_one(home, config, None, None))
    if as_json:
        _print_json(outcomes)
    elif outcomes:
        table = Table("connector", "status", "fetched", "loaded", "error")
        for outcome in outcomes:
            table.add_row(
                outcome["connector_id"],
                outcome["status"],
                f"{outcome['fetched']:,}" if "fetched" in outcome else "",
                f"{outcome['loaded']:,}" if "loaded" in outcome else "",
                outcome.get("error") or "",
            )
        console.print(table)
    else:
        console.print("nothing due")
    if any(o["status"] == "failed" for o in outcomes):
        raise typer.Exit(PARTIAL if any(o["status"] == "synced" for o in outcomes) else FAILED)


@app.command("demo")
def demo(
    people: Annotated[int, typer.Option(help="How many customers the brand has.")] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    report: Annotated[bool, typer.Option(help="Write the HTML report.")] = True,
    connectors: Annotated[
        Path | None,
        typer.Option(
            help="Sync these connectors instead of the exports (the file `sandbox up` writes; "
            "give it the same --people and --seed)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate a brand's exports and run the whole job on them, offline."""
    from growthnav.cli.demo import run_demo
    from growthnav.cli.summary import print_summary

    with _errors():
        if people < 10:
            raise UsageError(f"--people {people} is too few for a brand; use 10 or more")
        home = _home()
        started = time.perf_counter()
        with _progress() as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, message: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(message, total=total, rate="")
                bar.update(tasks[stage], description=message, completed=done, total=total)

            summary = run_demo(
                home,
                people=people,
                seed=seed,
                progress=progress,
                report=report,
                connectors=connectors,
            )
        seconds = time.perf_counter() - started
    if as_json:
        _print_json({**summary.as_dict(), "seconds": round(seconds, 2)})
    else:
        print_summary(console, summary, seconds)
    if any(not c.sync.success for c in summary.connectors):
        raise typer.Exit(PARTIAL)


@sandbox_app.command("up")
def sandbox_up(
    systems: Annotated[
        list[str] | None, typer.Option("--system", help="Emulator to start (default: all).")
    ] = None,
    people: Annotated[int, typer.Option(help="Customers of the generated brand.")] = 5000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    once: Annotated[bool, typer.Option(help="Start, print, write the file, then stop.")] = False,
) -> None:
    """Run the emulators in the foreground (Ctrl-C stops them) and print how to connect."""
    import threading

    from growthnav.cli.demo import DEMO_CONNECTORS, exports_once
    from growthnav.cli.sandbox_connectors import sandbox_connectors, write_connectors_file
    from growthnav.sandbox.sandbox import SYSTEMS, Sandbox

    with _errors():
        sandbox = Sandbox(systems or SYSTEMS, people=people, seed=seed)
        home = _home()
        with sandbox:
            table = Table("system", "connection params")
            for system, params in sandbox.params.items():
                table.add_row(system, "\n".join(f"{k}={v}" for k, v in params.items()))
            console.print(table)
            folder = home.path / "sandbox"
            path = folder / "connection-params.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                "# Sandbox emulators on loopback (test keys, not secrets); valid while running.\n"
                + yaml.safe_dump(sandbox.params, sort_keys=True),
                encoding="utf-8",
            )
            console.print(f"connection params written to {path}")
            business = sandbox.business
            exports = exports_once(business, folder / f"exports-{people}-{seed}")
            entries = sandbox_connectors(business, exports, DEMO_CONNECTORS, sandbox.params)
            connectors = write_connectors_file(
                folder / "connectors.yaml",
                business,
                entries,
                "Connectors for the sandbox brand: its file exports, and each emulator while\n"
                "`growthnav sandbox up` runs (test keys, not secrets). Load them with\n"
                f"  growthnav connectors add --from-file {folder / 'connectors.yaml'}",
            )
            console.print(
                f"connectors file ({len(entries)} connectors) written to {connectors}; load it "
                f"with `growthnav connectors add --from-file {connectors}`"
            )
            if once:
                return
            console.print("running; Ctrl-C stops the emulators")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                console.print("stopped")


def main() -> None:
    """Entry point of the ``growthnav`` script."""
    use_sync_allocator()
    app()
