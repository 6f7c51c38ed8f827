"""Write the demo business's records as the files its systems would export."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from growthnav.sandbox.business import CRM, LOYALTY, ONLINE, POS, DemoBusiness

#: System -> export file name (the suffix says the format).
EXPORT_FILES = {
    POS: "toast_order_details.csv",
    LOYALTY: "thanx_purchases.parquet",
    ONLINE: "olo_orders.jsonl",
    CRM: "hubspot_catering_deals.csv",
}


def write_exports(business: DemoBusiness, directory: Path) -> dict[str, Path]:
    """Write one export per system into ``directory``; returns system -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for system, name in EXPORT_FILES.items():
        path = directory / name
        table = business.tables[system]
        if name.endswith(".csv"):
            pacsv.write_csv(table, path)
        elif name.endswith(".parquet"):
            pq.write_table(table, path)
        else:
            with path.open("w", encoding="utf-8") as out:
                for row in table.to_pylist():
                    out.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")
        paths[system] = path
    return paths
