"""The cdk-nag result of one stack, from the cloud assembly's ``validation-report.json``.

cdk-nag 3 records open findings and every acknowledgment (with its reason) in that report rather
than in the templates; putting them next to the IAM matrix lets a reviewer judge each acknowledged
wildcard against the statement that holds it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..assembly import StackArtifact
from . import markdown as md


@dataclass(frozen=True)
class NagEntry:
    plugin: str
    rule: str
    construct: str  # construct path below the stack, e.g. Roles/EmrServicePolicy/Resource
    logical_id: str  # of the resource at that path, "" when the path is not a resource
    severity: str
    description: str
    reason: str  # the acknowledgment's reason; "" for an open finding


@dataclass(frozen=True)
class NagResult:
    available: bool  # False when the assembly has no validation report
    plugins: tuple[tuple[str, str], ...]  # (plugin name, conclusion)
    findings: tuple[NagEntry, ...]
    acknowledgments: tuple[NagEntry, ...]


def _entries(plugin: str, violations: Any, stack: StackArtifact, logical: dict[str, str], acknowledged: bool) -> list[NagEntry]:
    found = []
    prefix = stack.path + "/"
    for violation in violations if isinstance(violations, list) else []:
        for construct in violation.get("violatingConstructs", []):
            path = construct.get("constructPath", "")
            if not path.startswith(prefix):
                continue
            found.append(
                NagEntry(
                    plugin=plugin,
                    rule=violation.get("ruleName", "?"),
                    construct=path.removeprefix(prefix),
                    logical_id=logical.get(path, ""),
                    severity=violation.get("severity", ""),
                    description=violation.get("description", ""),
                    reason=violation.get("reason", "") if acknowledged else "",
                )
            )
    return found


def nag_result(report: dict[str, Any] | None, stack: StackArtifact) -> NagResult:
    if not isinstance(report, dict):
        return NagResult(False, (), (), ())
    logical = stack.construct_paths()
    plugins, findings, acknowledgments = [], [], []
    for plugin in report.get("pluginReports", []):
        name = plugin.get("pluginName", "?")
        plugins.append((name, plugin.get("conclusion", "?")))
        findings += _entries(name, plugin.get("violations"), stack, logical, acknowledged=False)
        acknowledgments += _entries(name, plugin.get("suppressedViolations"), stack, logical, acknowledged=True)

    def order(entry: NagEntry) -> tuple[str, str, str]:
        return entry.construct, entry.rule, entry.reason

    return NagResult(True, tuple(sorted(set(plugins))), tuple(sorted(set(findings), key=order)),
                     tuple(sorted(set(acknowledgments), key=order)))


def section(result: NagResult, level: int) -> str:
    parts = [md.heading(level, "cdk-nag"), ""]
    if not result.available:
        return "\n".join(parts + [md.warn(True, "The cloud assembly has no validation-report.json: cdk-nag did not run."), ""])
    conclusions = ", ".join(f"{md.text(name)}: {md.text(conclusion)}" for name, conclusion in result.plugins) or "no plugins"
    parts += [f"Plugins (whole app): {conclusions}. This stack: {len(result.findings)} open finding"
              f"{'s' if len(result.findings) != 1 else ''}, {len(result.acknowledgments)} acknowledgment"
              f"{'s' if len(result.acknowledgments) != 1 else ''}.", ""]
    parts += [md.heading(level + 1, "Findings"), ""]
    if result.findings:
        parts += [md.table(
            ["Rule", "Severity", "Construct", "Resource", "Finding"],
            ([md.warn(True, md.code(e.rule)), md.text(e.severity), md.code(e.construct),
              md.code(e.logical_id) if e.logical_id else "", md.text(e.description)] for e in result.findings),
        ), ""]
    else:
        parts += ["None.", ""]
    parts += [md.heading(level + 1, "Acknowledgments"), ""]
    if result.acknowledgments:
        count = len(result.acknowledgments)
        parts += [md.details(f"{count} acknowledgment{'s' if count != 1 else ''}", md.table(
            ["Rule", "Construct", "Resource", "Reason"],
            ([md.code(e.rule), md.code(e.construct), md.code(e.logical_id) if e.logical_id else "", md.text(e.reason)]
             for e in result.acknowledgments),
        )), ""]
    else:
        parts += ["None.", ""]
    return "\n".join(parts)
