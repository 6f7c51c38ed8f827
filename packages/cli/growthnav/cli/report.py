"""A self-contained HTML report of a customer's data: inline SVG charts, no scripts, no network."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from growthnav.cli.home import Home

if TYPE_CHECKING:
    from growthnav.cli.demo import DemoSummary

PALETTE = ("#2f6fed", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#5f3dc4")
_W, _H, _PAD = 640, 240, 40


def _esc(value: Any) -> str:
    return html.escape(str(value))


def line_chart(title: str, series: dict[str, list[tuple[str, float]]]) -> str:
    """Lines over shared x labels (one per series), as SVG."""
    labels = sorted({x for points in series.values() for x, _ in points})
    top = max((y for points in series.values() for _, y in points), default=0.0) or 1.0
    step = (_W - 2 * _PAD) / max(len(labels) - 1, 1)
    parts = [f'<svg viewBox="0 0 {_W} {_H + 30}" role="img" aria-label="{_esc(title)}">']
    parts.append(f'<text x="{_PAD}" y="16" class="t">{_esc(title)}</text>')
    for i, label in enumerate(labels):
        if i % max(len(labels) // 6, 1) == 0:
            x = _PAD + i * step
            parts.append(f'<text x="{x:.0f}" y="{_H + 20}" class="a">{_esc(label)}</text>')
    parts.append(f'<text x="2" y="{_PAD}" class="a">{top:,.0f}</text>')
    for n, (name, points) in enumerate(sorted(series.items())):
        values = dict(points)
        coords = " ".join(
            f"{_PAD + i * step:.1f},{_H - (values.get(x, 0.0) / top) * (_H - _PAD):.1f}"
            for i, x in enumerate(labels)
        )
        color = PALETTE[n % len(PALETTE)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        parts.append(
            f'<text x="{_W - 150}" y="{30 + 14 * n}" fill="{color}" class="a">{_esc(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, bars: list[tuple[str, float]], *, fmt: str = "{:,.0f}") -> str:
    """Horizontal bars, as SVG."""
    height = 24 + 18 * len(bars)
    top = max((v for _, v in bars), default=0.0) or 1.0
    parts = [f'<svg viewBox="0 0 {_W} {height}" role="img" aria-label="{_esc(title)}">']
    parts.append(f'<text x="0" y="14" class="t">{_esc(title)}</text>')
    for i, (label, value) in enumerate(bars):
        y = 22 + 18 * i
        width = (value / top) * (_W - 330)
        parts.append(f'<text x="0" y="{y + 12}" class="a">{_esc(label)[:40]}</text>')
        parts.append(f'<rect x="250" y="{y}" width="{width:.1f}" height="14" fill="{PALETTE[0]}"/>')
        parts.append(
            f'<text x="{255 + width:.0f}" y="{y + 12}" class="a">{_esc(fmt.format(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(summary: DemoSummary, home: Home, customer_id: str) -> Path:
    """Write ``$GROWTHNAV_HOME/reports/<customer>.html``; returns its path."""
    warehouse = home.duckdb_warehouse()
    conversions = warehouse.table_name(customer_id, "conversions")
    with warehouse.connection() as connection:
        monthly = connection.execute(
            f"SELECT source, strftime(date_trunc('month', timestamp), '%Y-%m'), count(*), "
            f"sum(value)::DOUBLE FROM {conversions} GROUP BY ALL ORDER BY 2"
        ).fetchall()
        memberships = connection.execute(
            "SELECT global_customer_id, list(DISTINCT source_system ORDER BY source_system) "
            f"FROM {warehouse.table_name(customer_id, 'identity_graph')} GROUP BY 1"
        ).fetchall()
        probabilities = [
            r[0]
            for r in connection.execute(
                f"SELECT match_probability FROM {warehouse.table_name(customer_id, 'identities')} "
                "WHERE records > 1"
            ).fetchall()
        ]
    counts: dict[str, list[tuple[str, float]]] = defaultdict(list)
    revenue: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for source, month, count, total in monthly:
        counts[source].append((month, float(count)))
        revenue[source].append((month, float(total or 0)))
    names = {c.connector_id: c.name for c in summary.connectors}
    systems = sorted(names)
    overlap: list[list[Any]] = [[names.get(a, a)] + [0] * len(systems) for a in systems]
    for _, members in memberships:
        for a in members:
            for b in members:
                if a in systems and b in systems:
                    overlap[systems.index(a)][systems.index(b) + 1] += 1
    bins = [0] * 10
    for p in probabilities:
        bins[min(int(p * 10), 9)] += 1
    mapping = [
        (f"{c.name}: {column} → {c.field_map.get(column, '?')}", confidence)
        for c in summary.connectors
        for column, confidence in c.confidences.items()
        if column in c.field_map
    ]
    identity = summary.identity
    body = [
        f"<h1>{_esc(customer_id)}: customer data report</h1>",
        f"<p>{summary.source_records:,} source records from {len(summary.connectors)} exports; "
        f"{identity.people if identity else 0:,} people found, "
        f"{identity.multi_system_people if identity else 0:,} of them in more than one system. "
        f"Identity precision {summary.precision:.3f}, recall {summary.recall:.3f} "
        "against the generator's truth.</p>",
        line_chart("Conversions per month by source", counts),
        line_chart("Revenue per month by source", revenue),
        "<h2>Customers shared between systems</h2>",
        _table(["system"] + [names.get(s, s) for s in systems], overlap),
        bar_chart(
            "Match probability of multi-record people",
            [(f"{i / 10:.1f}–{(i + 1) / 10:.1f}", float(n)) for i, n in enumerate(bins)],
        ),
        bar_chart("Mapping confidence per column", mapping, fmt="{:.2f}"),
    ]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>GrowthNav report</title>"
        "<style>body{font-family:sans-serif;max-width:720px;margin:2em auto}"
        "svg{width:100%;margin:1em 0}.t{font-size:14px;font-weight:bold}.a{font-size:10px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:4px}"
        "</style></head><body>" + "".join(body) + "</body></html>"
    )
    path = home.path / "reports" / f"{customer_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
