"""The native engine's state machines in the review: each one's schedule and its states as a Mermaid
flowchart (one node per state, an edge per Next, Choice rule, Default and Catch), in the same small subset
of the syntax as the pipeline diagrams."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ..assembly import StackArtifact
from . import markdown as md
from .intrinsics import text
from .mermaid import _Ids, escape

_SHAPES = {"Task": ("[", "]"), "Choice": ("{", "}"), "Wait": ("([", "])"), "Pass": ("(", ")"),
           "Succeed": ("[(", ")]"), "Fail": ("[(", ")]")}


def _edges(name: str, state: Mapping[str, Any]) -> Iterator[tuple[str, str, str, bool]]:
    """(from, label, to, solid) for each way out of a state."""
    if "Next" in state:
        yield name, "next", state["Next"], True
    for index, choice in enumerate(state.get("Choices", []) or []):
        yield name, f"rule {index + 1}", choice["Next"], True
    if "Default" in state:
        yield name, "otherwise", state["Default"], True
    for catch in state.get("Catch", []) or []:
        yield name, "error", catch["Next"], False


def flowchart(definition: Mapping[str, Any]) -> str:
    ids = _Ids()
    states: Mapping[str, Mapping[str, Any]] = definition.get("States") or {}
    lines = ["flowchart LR"]
    for name, state in states.items():
        opening, closing = _SHAPES.get(str(state.get("Type")), ("[", "]"))
        detail = str(state.get("Resource", "")).rsplit(":::", 1)[-1] if state.get("Type") == "Task" else str(state.get("Type"))
        lines.append(f'    {ids(name)}{opening}"{escape(name)}<br/>{escape(detail)}"{closing}')
    for name, state in states.items():
        for source, label, target, solid in _edges(name, state):
            lines.append(f"    {ids(source)} {'-->' if solid else '-.->'}|\"{escape(label)}\"| {ids(target)}")
    return "\n".join(lines)


def section(stack: StackArtifact, level: int) -> str:
    machines = stack.resources_of_type("AWS::StepFunctions::StateMachine")
    if not machines:
        return ""
    schedules = {text(s["Properties"]["Target"]["Arn"]): text(s["Properties"]["ScheduleExpression"])
                 for s in stack.resources_of_type("AWS::Scheduler::Schedule").values()}
    buses = {f"${{{logical}}}": text(bus["Properties"].get("Name", logical)) for logical, bus in stack.resources_of_type("AWS::Events::EventBus").items()}
    rules = {text(target["Arn"]): _event(rule["Properties"], buses) for rule in stack.resources_of_type("AWS::Events::Rule").values()
             for target in rule["Properties"].get("Targets", [])}
    parts = [md.heading(level, "State machines (native engine)"), ""]
    for logical, machine in machines.items():
        props = machine["Properties"]
        name = text(props.get("StateMachineName", logical))
        schedule = schedules.get(f"${{{logical}}}")
        definition = json.loads(text(props["DefinitionString"]))
        started = f"started by EventBridge Scheduler, {md.code(schedule)}" if schedule else "started by hand"
        if event := rules.get(f"${{{logical}}}"):
            started = f"started by an EventBridge rule on {event}"
        parts += [md.heading(level + 1, md.text(name)), "", f"{md.text(str(definition.get('Comment', '')))}; {started}.", ""]
        parts += ["```mermaid", flowchart(definition), "```", ""]
    return "\n".join(parts)


def _event(rule: Mapping[str, Any], buses: Mapping[str, str]) -> str:
    """The bus (by name where it is one of the stack's, ``buses``) and the events a rule matches, in words."""
    pattern = rule.get("EventPattern") or {}
    matched = [md.code(value) for key in ("source", "detail-type") for value in pattern.get(key, [])]
    matched += [f"{key} {md.code(str(value))}" for key, values in (pattern.get("detail") or {}).items() for value in values]
    bus = text(rule.get("EventBusName", "default"))
    bus = buses.get(bus, bus)
    return f"the bus {md.code(bus)}, for events {', '.join(matched)}"
