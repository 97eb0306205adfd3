"""A pipeline definition as a Mermaid flowchart: one node per object, one edge per reference.

GitHub and most Markdown viewers render ```` ```mermaid ```` blocks, so a reviewer sees the shape of a
pipeline (schedule -> data node -> activity -> data node, the cluster it runs on, the alarm on
failure) instead of reading references field by field. Only a small subset of the syntax is emitted
(``flowchart LR``, quoted node labels, ``-->|field|`` and ``-.->|field|`` edges), which keeps it valid
whatever the object ids and lets the tests check it with a small parser.
"""
from __future__ import annotations

import re

from ..definition import rules as R
from ..definition.model import PipelineDefinition

# Edges point the way data and time flow: a referenced input, schedule or precondition comes before
# the object that references it; an output, cluster or alarm comes after.
UPSTREAM_FIELDS = frozenset({"input", "schedule", "precondition", "dependsOn", "parent"})
SOLID_FIELDS = frozenset({"input", "output", "schedule", "precondition", "dependsOn"})

_SHAPES = {  # (open, close) around the quoted label
    "Default": ("(", ")"),
    "Schedule": ("([", "])"),
    "data": ("[(", ")]"),
    "resource": ("{{", "}}"),
    "action": (">", "]"),
    "precondition": ("{", "}"),
    "other": ("[", "]"),
}


def _shape(object_type: str | None) -> tuple[str, str]:
    if object_type in ("Default", "Schedule"):
        return _SHAPES[object_type]
    if object_type in R.DATA_NODE_TYPES:
        return _SHAPES["data"]
    if object_type in R.RESOURCE_TYPES:
        return _SHAPES["resource"]
    if object_type in R.ACTION_TYPES:
        return _SHAPES["action"]
    if object_type in R.PRECONDITION_TYPES:
        return _SHAPES["precondition"]
    return _SHAPES["other"]


def escape(label: str) -> str:
    """Mermaid entity codes for the characters that would end or reinterpret a quoted label."""
    out = label.replace("#", "#35;")
    for char, entity in (('"', "#34;"), ("<", "#60;"), (">", "#62;"), ("`", "#96;")):
        out = out.replace(char, entity)
    return out.replace("\r", " ").replace("\n", " ")


def _edge_label(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_]+", key) else f'"{escape(key)}"'


class _Ids:
    """Object ids -> node ids made of [A-Za-z0-9_], prefixed so no id is a Mermaid keyword (``end``)."""

    def __init__(self) -> None:
        self.by_object: dict[str, str] = {}

    def __call__(self, object_id: str) -> str:
        if object_id not in self.by_object:
            base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", object_id)
            node, suffix = base, 2
            while node in self.by_object.values():
                node, suffix = f"{base}_{suffix}", suffix + 1
            self.by_object[object_id] = node
        return self.by_object[object_id]


def flowchart(definition: PipelineDefinition) -> str:
    """The Mermaid source (without the fence): nodes in definition order, then edges in field order.
    A reference to an object the definition lacks gets a node marked ``missing``."""
    ids = _Ids()
    lines = ["flowchart LR"]
    declared: set[str] = set()
    for obj in definition.objects:
        if obj.id in declared:
            continue  # a duplicated id: the validator reports it; one node is enough here
        declared.add(obj.id)
        opening, closing = _shape(obj.type)
        label = escape(obj.id) + "<br/>" + escape(obj.type or "no type")
        lines.append(f'    {ids(obj.id)}{opening}"{label}"{closing}')
    for obj in definition.objects:
        for ref in obj.refs():
            if ref.value not in declared:
                declared.add(ref.value)
                lines.append(f'    {ids(ref.value)}["{escape(ref.value)}<br/>missing"]')
    for obj in definition.objects:
        for ref in obj.refs():
            source, target = ids(obj.id), ids(ref.value)
            if ref.key in UPSTREAM_FIELDS:
                source, target = target, source
            arrow = "-->" if ref.key in SOLID_FIELDS else "-.->"
            lines.append(f"    {source} {arrow}|{_edge_label(ref.key)}| {target}")
    return "\n".join(lines)
