"""A parser for the subset of Mermaid flowchart syntax the report emits, so the tests can check each
diagram without a JavaScript toolchain.

Accepted: a ``flowchart LR`` header; node declarations ``id<open>"label"<close>`` with the shapes
``[ ]``, ``( )``, ``([ ])``, ``[( )]``, ``{{ }}``, ``{ }`` and ``> ]``, where the label holds no raw
double quote; edges ``a -->|label| b`` or ``a -.->|label| b`` whose label is a bare word or a quoted
string, between declared node ids; ``%%`` comments and blank lines. Anything else is an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

NODE_ID = r"[A-Za-z0-9_]+"
LABEL = r'"[^"\n]*"'
SHAPES = [("([", "])"), ("[(", ")]"), ("{{", "}}"), ("[", "]"), ("(", ")"), ("{", "}"), (">", "]")]
RESERVED = {"end", "graph", "flowchart", "subgraph", "style", "class", "classDef", "click", "linkStyle", "direction"}
_NODE = [re.compile(rf"^(?P<id>{NODE_ID}){re.escape(o)}(?P<label>{LABEL}){re.escape(c)}$") for o, c in SHAPES]
_EDGE = re.compile(rf'^(?P<a>{NODE_ID}) (?P<arrow>-->|-\.->)\|(?P<label>[A-Za-z0-9_]+|"[^"|\n]*")\| (?P<b>{NODE_ID})$')


class MermaidError(ValueError):
    pass


@dataclass(frozen=True)
class Flowchart:
    direction: str
    nodes: dict[str, str]  # id -> label (without quotes)
    edges: list[tuple[str, str, str]]  # (from, label, to)


def parse(source: str) -> Flowchart:
    lines = [line.strip() for line in source.splitlines()]
    lines = [line for line in lines if line and not line.startswith("%%")]
    if not lines or lines[0] != "flowchart LR":
        raise MermaidError(f"expected the header 'flowchart LR', got {lines[:1]}")
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        edge = _EDGE.match(line)
        if edge:
            for end in (edge["a"], edge["b"]):
                if end not in nodes:
                    raise MermaidError(f"line {number}: edge to undeclared node {end!r}")
            edges.append((edge["a"], edge["label"].strip('"'), edge["b"]))
            continue
        for pattern in _NODE:
            node = pattern.match(line)
            if node:
                break
        else:
            raise MermaidError(f"line {number}: neither a node declaration nor an edge: {line!r}")
        node_id = node["id"]
        if node_id in nodes:
            raise MermaidError(f"line {number}: node {node_id!r} declared twice")
        if node_id.lower() in RESERVED:
            raise MermaidError(f"line {number}: node id {node_id!r} is a Mermaid keyword")
        nodes[node_id] = node["label"][1:-1]
    return Flowchart("LR", nodes, edges)


def blocks(markdown: str) -> list[str]:
    """The sources of every ```mermaid fenced block of a Markdown text."""
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.M | re.S)
