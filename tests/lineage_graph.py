"""Reading Dagster's asset graph from the page: the nodes and edges the UI draws, not its API.

The graph is SVG: each node (asset or group box) is a foreignObject whose HTML shows its name, and
each edge a path with an arrow marker. Node boxes and edge path data share the graph's coordinates,
so an edge's ends name the assets it joins.
"""

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

SOURCES = ("square", "shopify")
SOURCE_ASSETS = ("locations", "catalog", "inventory", "orders")
UNIFIED_TABLE_OF = {
    "locations": "stores",
    "catalog": "products",
    "inventory": "inventory_snapshots",
    "orders": "transactions",
}
EXPECTED_NODES = {
    *(f"{source}/{name}" for source in SOURCES for name in SOURCE_ASSETS),
    *UNIFIED_TABLE_OF.values(),
}

# Every node the graph draws: SVG foreignObjects; group boxes carry the class "group". Their
# geometry is in the graph's own coordinates, like the edges' path data. A node is in view when
# it lies INSET px inside the graph's viewport, whose top the graph's search bar covers.
GRAPH_JS = """(INSET) => {
  const view = document.querySelector('[data-svg-viewport]').getBoundingClientRect();
  const inView = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.left >= view.left + INSET && r.top >= view.top + INSET &&
      r.right <= view.right - INSET && r.bottom <= view.bottom - INSET;
  };
  const label = (f) => (f.firstElementChild ? f.firstElementChild.innerText : '');
  return {
    nodes: [...document.querySelectorAll('svg foreignObject')].map((f) => ({
      x: +f.getAttribute('x'), y: +f.getAttribute('y'),
      w: +f.getAttribute('width'), h: +f.getAttribute('height'),
      group: (f.getAttribute('class') || '').split(' ').includes('group'),
      name: label(f).trim().split('\\n')[0].trim(),
      inView: inView(f),
    })),
    edges: [...document.querySelectorAll('svg path[marker-end]')].map((p) => p.getAttribute('d')),
  };
}"""
VIEW_INSET_PX = 64
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
EDGE_SLACK = 12.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    group: bool
    name: str
    in_view: bool

    def holds(self, other: "Box") -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )


def read_graph(page: Page) -> tuple[list[Box], list[Box], list[str]]:
    """(group boxes, asset boxes, edge paths) as the page draws them now."""
    drawn: dict[str, Any] = page.evaluate(GRAPH_JS, VIEW_INSET_PX)
    boxes = [
        Box(n["x"], n["y"], n["w"], n["h"], n["group"], n["name"], n["inView"])
        for n in drawn["nodes"]
        if n["name"]
    ]
    return [b for b in boxes if b.group], [b for b in boxes if not b.group], drawn["edges"]


def shows(name: str, label: str) -> bool:
    """The label is the name, or the name cut in the middle with an ellipsis."""
    head, cut, tail = label.partition("…")
    return label == name or bool(cut and name.startswith(head) and name.endswith(tail))


def asset_key(groups: list[Box], asset: Box) -> str:
    """`square/orders` for a node in the square group; unified tables have no prefix."""
    (group,) = [g for g in groups if g.holds(asset)]
    if group.name == "warehouse":
        names = UNIFIED_TABLE_OF.values()
    else:
        names = tuple(f"{group.name}/{n}" for n in SOURCE_ASSETS)
    (key,) = [k for k in names if shows(k.rsplit("/", 1)[-1], asset.name)] or [asset.name]
    return key


def edge_ends(path: str, assets: dict[str, Box]) -> tuple[str, str] | None:
    """The assets an edge leaves (at its right side) and enters (at its left side)."""
    numbers = [float(n) for n in NUMBER.findall(path)]
    (x1, y1), (x2, y2) = numbers[:2], numbers[-2:]
    start = [
        k for k, b in assets.items() if abs(b.x + b.w - x1) <= EDGE_SLACK and b.y <= y1 <= b.y + b.h
    ]
    end = [k for k, b in assets.items() if abs(b.x - x2) <= EDGE_SLACK and b.y <= y2 <= b.y + b.h]
    return (start[0], end[0]) if len(start) == len(end) == 1 else None
