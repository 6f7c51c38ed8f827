"""The demo's summary, as a growth analyst would want to read it."""

from __future__ import annotations

from decimal import Decimal

from growthnav.cli.demo import DemoSummary
from rich.console import Console
from rich.table import Table


def _money(text: str | None) -> str:
    return f"${Decimal(text or 0):,.2f}"


def print_summary(console: Console, summary: DemoSummary, seconds: float) -> None:
    """Print what was loaded, rejected and resolved, and where the report is."""
    console.print(
        f"\n[bold]{summary.customer_id}[/bold]: {summary.people_generated:,} customers, "
        f"{summary.source_records:,} records, {len(summary.connectors)} connectors "
        f"(home: {summary.home})"
    )
    if summary.nothing_new:
        console.print("[green]Nothing new[/green]: every source was read before; no rows fetched.")
    syncs = Table("connector", "mapping (vs truth)", "read", "loaded", "unchanged", "rejected")
    for c in summary.connectors:
        syncs.add_row(
            c.name + (" (new, mapped by discovery)" if c.discovered else ""),
            f"{c.mapping_agrees}/{c.mapping_expected} columns"
            if c.mapping_expected
            else "as given",
            f"{c.sync.records_fetched:,}",
            f"{c.sync.records_loaded:,}",
            f"{c.sync.records_unchanged:,}",
            f"{sum(c.sync.records_rejected.values()):,}",
        )
    console.print(syncs)
    sources = Table("source", "conversions", "revenue", "people")
    for row in summary.by_source:
        sources.add_row(
            f"{row['source']} ({row['connector_id']})",
            f"{row['conversions']:,}",
            _money(row["revenue"]),
            f"{row['people']:,}",
        )
    console.print(sources)
    rejects = ", ".join(f"{reason} {count:,}" for reason, count in summary.rejects.items())
    console.print(
        f"Rejected records (kept in conversion_rejects with reasons): {rejects or 'none'}"
    )
    identity = summary.identity
    if identity is not None:
        spread = ", ".join(
            f"{count:,} in {systems} system{'s' if systems > 1 else ''}"
            for systems, count in identity.systems_per_person.items()
        )
        console.print(
            f"People found: {identity.people:,} from {identity.records:,} customer records "
            f"({spread}); largest cluster {identity.largest_cluster}."
        )
        console.print(
            f"Identity resolution against the generator's truth: precision "
            f"{summary.precision:.3f}, recall {summary.recall:.3f}, F1 {summary.f1:.3f}."
        )
    top = Table("#", "customer", "name", "lifetime value", "conversions", "systems")
    for rank, row in enumerate(summary.top_customers, 1):
        top.add_row(
            str(rank),
            row["global_customer_id"],
            row["name"] or "",
            _money(row["lifetime_value"]),
            str(row["conversions"]),
            ", ".join(row["systems"]),
        )
    console.print("Top customers by lifetime value:")
    console.print(top)
    if summary.report_path is not None:
        console.print(f"Report: {summary.report_path}")
    console.print(f"Done in {seconds:.1f} s.")
