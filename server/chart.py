"""The access chart: who and what can reach which AI, drawn as SVG.

People on the left, their devices and repositories in the middle, AI vendors on the
right; a line is a grant (person to vendor, coloured by scope level) or software, an MCP
server or a key (place to vendor). Every label is escaped; the SVG has no script.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from markupsafe import Markup, escape

from shadowmap.server.inventory import Inventory

logger = logging.getLogger(__name__)

# Layout, in SVG user units.
WIDTH = 1040
ROW = 34
TOP = 56
NODE_W = 240
NODE_H = 24
COLUMNS = (20, 400, 780)
# The most nodes a column shows; the rest are counted in a last "and N more" node.
MAX_NODES = 40
LEVEL_COLOURS = {"critical": "#b4232a", "high": "#d9480f", "medium": "#b7791f", "low": "#2f6fb3"}
PLACE_COLOURS = {"running": "#4f46e5", "mcp_servers": "#0f766e", "keys": "#9d174d"}
# Node fill and outline by kind; attributes, not CSS, so the SVG stands alone too.
NODE_COLOURS = {
    "person": ("#eef2ff", "#818cf8"),
    "place": ("#f0fdfa", "#5eead4"),
    "vendor-ok": ("#ecfdf3", "#34d399"),
    "vendor-shadow": ("#fef3f2", "#f97066"),
}


# The node for tenant-wide grants (admin consent, app-only): every user is behind them.
EVERYONE = 0


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    colour: str
    title: str


def render_svg(inventory: Inventory) -> Markup:
    people, places, vendors, edges = _graph(inventory)
    rows = max(len(people), len(places), len(vendors), 1)
    height = TOP + rows * ROW + 20
    positions: dict[str, tuple[int, int]] = {}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="Access chart" class="chart">',
        "<title>Who and what can reach which AI</title>",
    ]
    for column, (heading, nodes) in enumerate(
        (("People", people), ("Devices and repositories", places), ("AI vendors", vendors))
    ):
        x = COLUMNS[column]
        parts.append(
            f'<text x="{x}" y="30" font-size="13" font-weight="600" fill="#6b7385">'
            f"{escape(heading)}</text>"
        )
        for row, (key, label, css) in enumerate(nodes[:MAX_NODES]):
            y = TOP + row * ROW
            positions[key] = (x, y)
            parts.append(_node(x, y, label, css))
    parts[2:2] = [
        _edge(positions, e) for e in edges if e.source in positions and e.target in positions
    ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _graph(
    inventory: Inventory,
) -> tuple[
    list[tuple[str, str, str]], list[tuple[str, str, str]], list[tuple[str, str, str]], list[Edge]
]:
    vendors = [
        v for v in inventory.vendors.values() if v.grants or v.running or v.mcp_servers or v.keys
    ]
    edges: list[Edge] = []
    people_used: set[int] = set()
    places_used: dict[str, str] = {}
    for vendor in vendors:
        for grant in vendor.grants:
            if grant.status == "active" and (grant.person_id or grant.consent != "user"):
                people_used.add(grant.person_id or EVERYONE)
                edges.append(
                    Edge(
                        f"p{grant.person_id or EVERYONE}",
                        f"v{vendor.key}",
                        LEVEL_COLOURS[grant.reach.level.value],
                        f"{grant.app_name}: {', '.join(grant.scopes)}",
                    )
                )
        for role in ("running", "mcp_servers", "keys"):
            for sighting in getattr(vendor, role):
                key = f"{sighting.place_kind[0]}{sighting.place_id}"
                places_used[key] = sighting.place_name
                edges.append(Edge(key, f"v{vendor.key}", PLACE_COLOURS[role], sighting.title))
    for device_id, person_id in inventory.device_people.items():
        if f"d{device_id}" in places_used:
            people_used.add(person_id)
            edges.append(Edge(f"p{person_id}", f"d{device_id}", "#98a2b3", "uses this device"))
    names = {p: inventory.people[p].email for p in people_used if p != EVERYONE}
    names[EVERYONE] = "everyone (admin consent)"
    ordered = sorted(people_used, key=lambda p: (p == EVERYONE, names[p]))
    people = [(f"p{pid}", names[pid], "person") for pid in ordered]
    places = [(k, name, "place") for k, name in sorted(places_used.items(), key=lambda kv: kv[1])]
    nodes = [
        (f"v{v.key}", v.name, "vendor-ok" if v.sanctioned.sanctioned else "vendor-shadow")
        for v in vendors
    ]
    return people, places, nodes, edges


def _node(x: int, y: int, label: str, css: str) -> str:
    shown = label if len(label) <= 34 else label[:33] + "…"
    fill, stroke = NODE_COLOURS[css]
    return (
        f'<g class="node {css}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" '
        f'fill="{fill}" stroke="{stroke}"/><text x="{x + 10}" y="{y + 16}" font-size="13" '
        f'fill="#1c2230">{escape(shown)}</text><title>{escape(label)}</title></g>'
    )


def _edge(positions: dict[str, tuple[int, int]], edge: Edge) -> str:
    (x1, y1), (x2, y2) = positions[edge.source], positions[edge.target]
    start_x, start_y, end_y = x1 + NODE_W, y1 + NODE_H // 2, y2 + NODE_H // 2
    middle = (start_x + x2) // 2
    return (
        f'<path d="M{start_x},{start_y} C{middle},{start_y} {middle},{end_y} {x2},{end_y}" '
        f'fill="none" stroke="{edge.colour}" stroke-width="2" opacity="0.75">'
        f"<title>{escape(edge.title)}</title></path>"
    )
