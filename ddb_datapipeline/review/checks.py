"""Policy checks on the synthesized templates (checkov, cfn-guard with the AWS Control Tower rules) and
the acknowledgments that explain each finding the project keeps.

``make review`` runs the two tools on the stack templates of ``cdk.out`` (the same files cfn-lint and
the rest of the review read) and writes ``checks.md``. Every finding needs an entry in the
acknowledgment file (TOML, one ``[[acknowledgment]]`` per rule and resource pattern, with the reason a
reviewer would accept); a finding without one, or an entry that no longer matches anything, fails
``make review``, so the file cannot drift from the templates in either direction.

The tools run as separate processes on the files, not inside the CDK synth: cfn-guard is the binary
``@cdklabs/cdk-validator-cfnguard`` bundles (with its Control Tower rule files), and checkov lives in
its own virtual environment because its pins conflict with the project's (see the Makefile).
"""
from __future__ import annotations

import fnmatch
import json
import platform
import re
import subprocess
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import markdown as md

CHECKS = "checks.md"
CFN_GUARD = "cfn-guard"
CHECKOV = "checkov"
TOOLS = (CFN_GUARD, CHECKOV)
ACK_FIELDS = ("tool", "rule", "resource", "reason")
ACK_OPTIONAL = ("stack",)
# cfn-guard's exit codes for "ran, some rules failed" (source read: the package's lib/utils.js
# accepts 0, 5 and 19 as a completed run).
GUARD_RAN = (0, 5, 19)
# Where the package keeps the binary per platform (source read: lib/plugin.js getPlatform/getArchitecture).
_GUARD_PLATFORM = {"Linux": "ubuntu", "Darwin": "macos"}
_GUARD_ARCH = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
_CT_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]")


class ChecksError(ValueError):
    """A tool or the acknowledgment file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Finding:
    """One rule failed on one resource of one stack."""

    tool: str
    rule: str  # CT.S3.PR.11 (cfn-guard, the Control Tower control id) or CKV_AWS_21 (checkov)
    stack: str
    resource: str  # the logical id in the stack's template
    message: str


@dataclass(frozen=True)
class ToolRun:
    """What one tool did on all the templates: evaluations are (rule, template) pairs for cfn-guard and
    (check, resource) pairs for checkov, as each tool counts them."""

    tool: str
    version: str
    rules: int
    passed: int
    failed: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Acknowledgment:
    """Why the project keeps a finding: ``resource`` and ``stack`` are shell-style patterns
    (``*AccessLogs*``) on the logical id and the stack name."""

    tool: str
    rule: str
    resource: str
    reason: str
    stack: str = "*"

    def matches(self, finding: Finding) -> bool:
        return (self.tool == finding.tool and self.rule == finding.rule
                and fnmatch.fnmatchcase(finding.resource, self.resource)
                and fnmatch.fnmatchcase(finding.stack, self.stack))


@dataclass(frozen=True)
class Outcome:
    acknowledged: tuple[tuple[Finding, Acknowledgment], ...]
    unacknowledged: tuple[Finding, ...]
    stale: tuple[Acknowledgment, ...]  # entries of a tool that ran and matched no finding

    @property
    def failed(self) -> bool:
        return bool(self.unacknowledged or self.stale)


def load_acknowledgments(path: Path) -> tuple[Acknowledgment, ...]:
    """Reads the acknowledgment file; a malformed entry is a one-line error naming it and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ChecksError(f"{path}: cannot read the acknowledgment file: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ChecksError(f"{path}: not valid TOML: {error}") from None
    unknown_top = sorted(set(data) - {"acknowledgment"})
    if unknown_top:
        raise ChecksError(f"{path}: unknown table {unknown_top[0]!r}; allowed: [[acknowledgment]]")
    entries = data.get("acknowledgment", [])
    found = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: acknowledgment {number}"
        for name in sorted(set(entry) - set(ACK_FIELDS) - set(ACK_OPTIONAL)):
            raise ChecksError(f"{where}: unknown field {name!r}; allowed: {', '.join(ACK_FIELDS + ACK_OPTIONAL)}")
        for name in ACK_FIELDS + ACK_OPTIONAL:
            value = entry.get(name, "*" if name in ACK_OPTIONAL else None)
            if not isinstance(value, str) or not value.strip():
                raise ChecksError(f"{where}: {name} = {value!r}; allowed: a non-empty string")
        if entry["tool"] not in TOOLS:
            raise ChecksError(f"{where}: tool = {entry['tool']!r}; allowed: {', '.join(TOOLS)}")
        found.append(Acknowledgment(**entry))
    return tuple(found)


def match(runs: Sequence[ToolRun], acknowledgments: Iterable[Acknowledgment]) -> Outcome:
    """Pairs each finding with the first entry that explains it; entries of tools that did not run are
    neither used nor stale."""
    acks = tuple(acknowledgments)
    acknowledged, unacknowledged, used = [], [], set()
    for finding in (f for run in runs for f in run.findings):
        ack = next((a for a in acks if a.matches(finding)), None)
        if ack is None:
            unacknowledged.append(finding)
        else:
            acknowledged.append((finding, ack))
            used.add(ack)
    ran = {run.tool for run in runs}
    stale = tuple(a for a in acks if a.tool in ran and a not in used)
    return Outcome(tuple(acknowledged), tuple(unacknowledged), stale)


# --- cfn-guard ------------------------------------------------------------------------------------

def guard_binary(package: Path) -> Path:
    """The cfn-guard binary the package bundles for this machine."""
    system, machine = platform.system(), platform.machine()
    if system not in _GUARD_PLATFORM or machine not in _GUARD_ARCH:
        raise ChecksError(f"cfn-guard: platform {system}/{machine} is not bundled; allowed: Linux or macOS on x86_64 or arm64")
    return package / "bin" / _GUARD_PLATFORM[system] / _GUARD_ARCH[machine] / "cfn-guard"


def guard_rules(package: Path) -> Path:
    return package / "rules" / "control-tower" / "cfn-guard"


def _walk(node: Any, controls: set[str], resources: set[str]) -> None:
    """Collects the Control Tower ids (from the rules' custom messages) and the logical ids (from the
    paths the failing checks traversed) of one not-compliant rule of cfn-guard's structured output."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "custom_message" and isinstance(value, str):
                controls.update(_CT_ID.findall(value))
            elif key == "path" and isinstance(value, str) and value.startswith("/Resources/"):
                resources.add(value.split("/")[2])
            else:
                _walk(value, controls, resources)
    elif isinstance(node, list):
        for item in node:
            _walk(item, controls, resources)


def parse_guard(output: Any, stack_of: dict[str, str], version: str, rules: int) -> ToolRun:
    """``cfn-guard validate --structured --output-format json`` output -> a ToolRun; ``stack_of`` maps
    each ``--data`` path as given to its stack name."""
    if not isinstance(output, list):
        raise ChecksError("cfn-guard: expected a JSON list of results, one per template")
    findings: set[Finding] = set()
    passed = failed = 0
    for result in output:
        stack = _stack_of(str(result.get("name", "")), stack_of)
        passed += len(result.get("compliant") or [])
        failed += len(result.get("not_compliant") or [])
        for entry in result.get("not_compliant") or []:
            rule = next(iter(entry.values())) if isinstance(entry, dict) and entry else {}
            controls: set[str] = set()
            resources: set[str] = set()
            _walk(entry, controls, resources)
            name = str(rule.get("name", "")) if isinstance(rule, dict) else ""
            rule_id = min(controls) if controls else name
            for resource in resources or {""}:
                findings.add(Finding(CFN_GUARD, rule_id, stack, resource, name))
    return ToolRun(CFN_GUARD, version, rules, passed, failed, tuple(sorted(findings, key=_order)))


def run_guard(package: Path, cdk_out: Path, templates: dict[str, str]) -> ToolRun:
    """Runs the bundled cfn-guard with every bundled Control Tower rule on ``templates`` (template file
    relative to ``cdk_out`` -> stack name)."""
    binary, rules_dir = guard_binary(package.resolve()), guard_rules(package.resolve())
    if not binary.is_file() or not rules_dir.is_dir():
        raise ChecksError(f"cfn-guard: {package} has no bundled binary or rules; run 'make setup' (npm ci)")
    version = _run([str(binary), "--version"], cdk_out, (0,)).strip().removeprefix("cfn-guard ").strip()
    command = [str(binary), "validate", "--rules", str(rules_dir), "--output-format", "json",
               "--show-summary", "none", "--structured"]
    for template in sorted(templates):
        command += ["--data", template]
    output = _json(_run(command, cdk_out, GUARD_RAN), CFN_GUARD)
    return parse_guard(output, templates, version, sum(1 for _ in rules_dir.rglob("*.guard")))


# --- checkov --------------------------------------------------------------------------------------

def parse_checkov(output: Any, stack_of: dict[str, str]) -> ToolRun:
    """``checkov -o json --framework cloudformation`` output -> a ToolRun; checkov names each file
    ``/<template file>`` relative to the directory it ran in."""
    reports = output if isinstance(output, list) else [output]
    findings, check_ids, passed, failed, version = set(), set(), 0, 0, ""
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            raise ChecksError("checkov: expected a JSON report with results (checkov -o json)")
        summary = report.get("summary", {})
        version = str(summary.get("checkov_version", version))
        passed += int(summary.get("passed", 0))
        failed += int(summary.get("failed", 0))
        for kind in ("passed_checks", "failed_checks"):
            for check in report["results"].get(kind, []):
                check_ids.add(check["check_id"])
        for check in report["results"].get("failed_checks", []):
            file_name = str(check.get("file_path", "")).lstrip("/")
            resource = str(check.get("resource", "")).rpartition(".")[2]
            findings.add(Finding(CHECKOV, check["check_id"], _stack_of(file_name, stack_of), resource,
                                 str(check.get("check_name", ""))))
    return ToolRun(CHECKOV, version, len(check_ids), passed, failed, tuple(sorted(findings, key=_order)))


def run_checkov(executable: Path, cdk_out: Path, templates: dict[str, str]) -> ToolRun:
    """Runs checkov's CloudFormation checks on ``templates``, offline (``--skip-download``: no policy or
    guideline download from Prisma Cloud)."""
    if not executable.is_file():
        raise ChecksError(f"checkov: {executable} does not exist; run 'make review' (it builds the checkov environment)")
    command = [str(executable.resolve()), "--framework", "cloudformation", "--output", "json", "--skip-download",
               "--quiet", "--compact"]
    for template in sorted(templates):
        command += ["--file", template]
    return parse_checkov(_json(_run(command, cdk_out, (0, 1)), CHECKOV), templates)


# --- shared ---------------------------------------------------------------------------------------

def _stack_of(name: str, stack_of: dict[str, str]) -> str:
    """The stack of a file a tool names: cfn-guard prints each ``--data`` path made absolute, so the
    relative template file is matched as a suffix; an unknown file keeps its base name (never a path
    of this machine, so the report stays the same everywhere)."""
    for template, stack in stack_of.items():
        if name == template or name.endswith("/" + template):
            return stack
    return Path(name).name


def _order(finding: Finding) -> tuple[str, ...]:
    return (finding.tool, finding.stack, finding.rule, finding.resource, finding.message)


def _run(command: list[str], cwd: Path, ok: tuple[int, ...]) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as error:
        raise ChecksError(f"{Path(command[0]).name}: cannot run: {error.strerror or error}") from None
    if done.returncode not in ok:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ChecksError(f"{Path(command[0]).name}: exit {done.returncode}: {last}")
    return done.stdout


def _json(text: str, tool: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ChecksError(f"{tool}: output is not JSON: {error}") from None


def render(runs: Sequence[ToolRun], outcome: Outcome, acknowledgments_file: str, errors: Sequence[str] = ()) -> str:
    """``checks.md``: first what fails (a tool that did not run, findings without acknowledgment, stale
    entries), then per tool its version, counts, open findings and, folded, the acknowledged ones with
    their reasons."""
    parts = [md.heading(1, "Policy checks"), "",
             f"Generated by `make review`; every finding needs an entry in {md.code(acknowledgments_file)}.", ""]
    if errors:
        parts += [md.heading(2, "Did not run"), ""]
        parts += [f"- {md.WARNING} {md.text(error)}" for error in errors]
        parts.append("")
    if outcome.unacknowledged:
        parts += [md.heading(2, "Not acknowledged"), ""]
        parts += [f"- {md.WARNING} {md.text(f'{f.tool} {f.rule} on {f.stack}/{f.resource}: {f.message}')}" for f in outcome.unacknowledged]
        parts.append("")
    if outcome.stale:
        parts += [md.heading(2, "Stale acknowledgments"), ""]
        parts += [f"- {md.WARNING} {md.text(f'{a.tool} {a.rule} on {a.stack}/{a.resource} matches no finding')}" for a in outcome.stale]
        parts.append("")
    reasons = {finding: ack for finding, ack in outcome.acknowledged}
    for run in runs:
        parts += [md.heading(2, f"{run.tool} {run.version}"), ""]
        parts.append(f"{run.rules} rules; {run.passed} passed, {run.failed} failed ({len(run.findings)} findings by resource).")
        parts.append("")
        headers = ["Stack", "Rule", "Resource", "Check"]
        open_findings = [f for f in run.findings if f not in reasons]
        if open_findings:
            parts.append(md.table(headers + ["Reason"], (
                [md.text(f.stack), md.code(f.rule), md.code(f.resource), md.text(f.message), md.warn(True, "not acknowledged")]
                for f in open_findings)))
            parts.append("")
        kept = [f for f in run.findings if f in reasons]
        if kept:
            parts.append(md.details(f"{len(kept)} acknowledgment{'s' if len(kept) != 1 else ''}", md.table(headers + ["Reason"], (
                [md.text(f.stack), md.code(f.rule), md.code(f.resource), md.text(f.message), md.text(reasons[f].reason)]
                for f in kept))))
            parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def summary_line(runs: Sequence[ToolRun], outcome: Outcome) -> str:
    counts = ", ".join(f"{r.tool} {r.version}: {r.passed} passed, {r.failed} failed, {len(r.findings)} findings" for r in runs)
    return (f"{counts or 'no tool ran'}; {len(outcome.acknowledged)} acknowledged, {len(outcome.unacknowledged)} not acknowledged, "
            f"{len(outcome.stale)} stale acknowledgments")
