"""The connectors file ``growthnav sandbox up`` writes: the sandbox brand's exports and systems.

Kept apart from reading connectors files, so that commands which never touch the sandbox do
not import it (and its data generator).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from growthnav.sandbox import CRM, EXPECTED_FIELD_MAPS, LOYALTY, ONLINE, POS, DemoBusiness
from growthnav.sandbox.snowflake import TABLES, upper_snake

#: Keys of a sandbox system's params that are credentials (saved to the secret store).
_CREDENTIAL_KEYS = frozenset(
    {"password", "api_key", "access_token", "client_secret", "refresh_token", "session_id"}
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
