"""The connectors file: the settings of several connectors in one YAML file.

    customer_id: juniper-kitchen        # defaults for every entry
    timezone: America/New_York
    batch_size: 250000                  # records per batch (default 10,000)
    connectors:
      - type: file
        name: Toast POS order export
        connection_params: {path: exports/toast_order_details.csv, source: pos}
        field_map: {Order Id: transaction_id, Closed: timestamp, Total: value}
      - type: olo
        name: Olo online orders
        connection_params: {base_url: "http://127.0.0.1:8123", brand_id: juniper}
        credentials: {api_key: ...}      # moved to the secret store when saved

A file holding one connector's keys at the top level (no ``connectors`` list) is one entry.
An entry's ``system`` (written by the sandbox) names the generated system whose ground truth
covers its records; ``growthnav demo --connectors`` measures identity resolution with it, and
saving a connector ignores it.
``growthnav sandbox up`` writes one for the sandbox brand (``growthnav.cli.sandbox_connectors``);
``growthnav connectors add --from-file`` saves every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from growthnav.connectors import ConnectorConfig, ConnectorType, SyncSchedule

#: Defaults an entry takes from the top of the file.
_SHARED_KEYS = ("customer_id", "timezone", "schedule", "batch_size")


def read_connector_specs(path: Path) -> list[dict[str, Any]]:
    """The entries of a connectors file (or the one connector a plain file describes)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a mapping of connector settings")
    entries = loaded.get("connectors")
    if entries is None:
        return [loaded]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{path}: 'connectors' must be a list of connector settings")
    shared = {k: loaded[k] for k in _SHARED_KEYS if k in loaded}
    return [{**shared, **entry} for entry in entries]


def parse_schedule(value: str) -> SyncSchedule:
    """``--schedule``'s value; raise ``ValueError`` naming it when it is not one."""
    try:
        return SyncSchedule(value.lower())
    except ValueError:
        raise ValueError(f"--schedule {value!r} is not hourly, daily or weekly") from None


def parse_batch_size(value: object) -> int:
    """``--batch-size``'s value (or a file's ``batch_size``); raise ``ValueError`` naming it."""
    text = str(value).strip().replace("_", "").replace(",", "")
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"--batch-size {value!r} is not a number of records: give a whole number of at "
            "least 1, e.g. 250000 (records read, normalized and loaded at a time)"
        )
    return int(text)


def config_from_spec(
    spec: Mapping[str, Any],
    scalars: Mapping[str, str | None] | None = None,
    pairs: Mapping[str, Mapping[str, str]] | None = None,
) -> ConnectorConfig:
    """A connector config from a file entry; command-line values win over the file's.

    ``scalars`` are ``--customer``, ``--type``…; ``pairs`` the ``--param KEY=VALUE`` groups.
    Raises ``ValueError`` naming what is missing or wrong.
    """
    scalars = scalars or {}
    pairs = pairs or {}
    merged = {**spec, **{k: v for k, v in scalars.items() if v}}
    params = {**spec.get("connection_params", {}), **pairs.get("connection_params", {})}
    credentials = {**spec.get("credentials", {}), **pairs.get("credentials", {})}
    field_map = {**spec.get("field_map", {}), **pairs.get("field_map", {})}
    missing = [k for k in ("customer_id", "type", "name") if not merged.get(k)]
    if missing:
        flags = ", ".join("--" + k.replace("customer_id", "customer") for k in missing)
        raise ValueError(f"missing {flags}: a connector needs a customer, a type and a name")
    try:
        kind = ConnectorType(str(merged["type"]).lower())
    except ValueError:
        choices = ", ".join(t.value for t in ConnectorType)
        raise ValueError(f"--type {merged['type']!r} is not a connector type ({choices})") from None
    sched = parse_schedule(str(merged.get("schedule", "daily")))
    config = ConnectorConfig(
        connector_type=kind,
        customer_id=str(merged["customer_id"]),
        name=str(merged["name"]),
        connection_params=params,
        credentials=credentials,
        field_overrides=field_map,
        sync_schedule=sched,
        timezone=str(merged.get("timezone", "UTC")),
    )
    if merged.get("batch_size") is not None:
        config = replace(config, batch_size=parse_batch_size(merged["batch_size"]))
    return config
