"""The connectors file: the settings of several connectors in one YAML file.

    customer_id: juniper-kitchen        # defaults for every entry
    timezone: America/New_York
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
``growthnav sandbox up`` writes one for the sandbox brand; ``growthnav connectors add
--from-file`` saves every entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from growthnav.connectors import ConnectorConfig, ConnectorType, SyncSchedule
from growthnav.sandbox import CRM, EXPECTED_FIELD_MAPS, LOYALTY, ONLINE, POS, DemoBusiness
from growthnav.sandbox.snowflake import TABLES, upper_snake

#: Keys of a sandbox system's params that are credentials (saved to the secret store).
_CREDENTIAL_KEYS = frozenset(
    {"password", "api_key", "access_token", "client_secret", "refresh_token", "session_id"}
)
#: Defaults an entry takes from the top of the file.
_SHARED_KEYS = ("customer_id", "timezone", "schedule")


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
    schedule = str(merged.get("schedule", "daily")).lower()
    try:
        sched = SyncSchedule(schedule)
    except ValueError:
        raise ValueError(f"--schedule {schedule!r} is not hourly, daily or weekly") from None
    return ConnectorConfig(
        connector_type=kind,
        customer_id=str(merged["customer_id"]),
        name=str(merged["name"]),
        connection_params=params,
        credentials=credentials,
        field_overrides=field_map,
        sync_schedule=sched,
        timezone=str(merged.get("timezone", "UTC")),
    )


def _split_credentials(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    connection = {k: v for k, v in params.items() if k not in _CREDENTIAL_KEYS}
    credentials = {k: v for k, v in params.items() if k in _CREDENTIAL_KEYS}
    return connection, credentials


def sandbox_connectors(
    business: DemoBusiness,
    exports: Mapping[str, Path],
    names: Mapping[str, tuple[str, str]],
    params: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Connector entries for the sandbox brand: its exports, then each running system.

    ``names`` gives each export's connector name and source kind; the exports come with the
    mapping an analyst would make, so they sync without discovery.
    """
    entries: list[dict[str, Any]] = [
        {
            "system": system,
            "type": "file",
            "name": names[system][0],
            "connection_params": {"path": str(path), "source": names[system][1]},
            "field_map": dict(EXPECTED_FIELD_MAPS[system]),
        }
        for system, path in exports.items()
    ]
    if "snowflake" in params:
        entries += _snowflake_entries(params["snowflake"], names)
    for system, name in (
        ("olo", "Olo order API"),
        ("hubspot", "HubSpot CRM"),
        ("zoho", "Zoho CRM"),
        ("salesforce", "Salesforce CRM"),
    ):
        if system not in params:
            continue
        connection, credentials = _split_credentials(params[system])
        for suffix, extra in _API_EXTRAS.get(system, [("", {})]):
            entry: dict[str, Any] = {
                **({"system": _TRUTH_SYSTEM[system]} if system in _TRUTH_SYSTEM else {}),
                "type": system,
                "name": name + suffix,
                "connection_params": {
                    **{k: str(v) for k, v in connection.items()},
                    **extra.get("connection_params", {}),
                },
                "credentials": credentials,
            }
            if "field_map" in extra:
                entry["field_map"] = extra["field_map"]
            entries.append(entry)
    return entries


#: The generator system whose truth keys an API's customer ids match (so the demo can measure
#: identity on its records); Zoho and Salesforce give the contacts ids of their own.
_TRUTH_SYSTEM = {"olo": ONLINE, "hubspot": CRM}

#: What the sandbox's API entries add to the emulator's params (name suffix, additions): the
#: brand's catering deals carry their contact's id, read as the customer; Salesforce gives
#: its opportunities and its leads.
_API_EXTRAS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "zoho": [("", {"connection_params": {"module": "Deals", "source": "crm"}})],
    "hubspot": [
        (
            "",
            {
                "connection_params": {
                    "object_type": "deals",
                    "source": "crm",
                    "properties": [
                        "dealname",
                        "amount",
                        "closedate",
                        "hs_lastmodifieddate",
                        "associated_contact_id",
                    ],
                },
                "field_map": {
                    "id": "transaction_id",
                    "closedate": "timestamp",
                    "amount": "value",
                    "associated_contact_id": "user_id",
                },
            },
        )
    ],
    "salesforce": [
        (" opportunities", {"connection_params": {"object_name": "Opportunity", "source": "crm"}}),
        (
            " leads",
            {
                "connection_params": {
                    "object_name": "Lead",
                    "source": "crm",
                    "conversion_type": "lead",
                }
            },
        ),
    ],
}


#: The Snowflake tables' record id and, where the column holds ISO text, their cursor.
_SNOWFLAKE_KEYS = {POS: ("ORDER_ID", None), LOYALTY: ("PURCHASE_ID", "PURCHASED_AT")}


def _snowflake_entries(
    params: Mapping[str, Any], names: Mapping[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """One connector per sandbox Snowflake table, mapped like its export (UPPER_SNAKE)."""
    entries = []
    for system, (schema, table) in TABLES.items():
        key, cursor = _SNOWFLAKE_KEYS[system]
        connection: dict[str, Any] = {
            "account": params["account"],
            "user": params["user"],
            "host": params["host"],
            "port": params["port"],
            "protocol": params["protocol"],
            "database": params["database"],
            "schema_name": schema,
            "table": table,
            "primary_key": key,
            "source": names[system][1],
        }
        if cursor:
            connection["cursor_field"] = cursor
        entries.append(
            {
                "system": system,
                "type": "snowflake",
                "name": f"{names[system][0]} (Snowflake {schema}.{table})",
                "connection_params": connection,
                "credentials": {"password": params["password"]},
                "field_map": {
                    upper_snake(column): target
                    for column, target in EXPECTED_FIELD_MAPS[system].items()
                },
            }
        )
    return entries


def write_connectors_file(
    path: Path, business: DemoBusiness, entries: list[dict[str, Any]], note: str
) -> Path:
    """Write ``entries`` with the brand's customer id and timezone as shared defaults."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "customer_id": business.customer_id,
        "timezone": business.timezone,
        "connectors": entries,
    }
    comment = "".join(f"# {line}\n" for line in note.splitlines())
    path.write_text(comment + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path
