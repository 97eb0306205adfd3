"""cfn-lint on each template, in-process, with the stack's own region.

cfn-lint checks the templates against the CloudFormation resource schemas (including
``AWS::DataPipeline::Pipeline``, which cdk-nag never looks at), so the report carries both views.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import markdown as md

DEFAULT_REGION = "us-east-1"  # what the cfn-lint CLI assumes when none is given


@dataclass(frozen=True)
class LintFinding:
    rule: str
    severity: str
    line: int
    path: str  # e.g. Resources/TableordersTableA85FABEE/Properties/BillingMode
    message: str


@dataclass(frozen=True)
class LintResult:
    version: str  # "" when cfn-lint is not installed
    region: str
    findings: tuple[LintFinding, ...]


@functools.lru_cache(maxsize=1)
def _rules() -> Any:
    """cfn-lint's rules, loaded once (about half a second): they are the same for every template and
    region, as cfn-lint's own CLI uses one set for all the files it is given."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=[DEFAULT_REGION])).rules


@functools.lru_cache(maxsize=32)
def lint_template(template_text: str, region: str | None) -> LintResult:
    """Lints one template; cached on its text, since the same text always gives the same findings."""
    shown_region = region or DEFAULT_REGION
    try:
        from cfnlint.decode.decode import decode_str
        from cfnlint.version import __version__
    except ImportError:  # a runtime-only install (requirements.txt): say so rather than fail
        return LintResult("", shown_region, ())
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import run_template_by_data

    template, errors = decode_str(template_text)
    matches = errors or (list(run_template_by_data(template, ConfigMixIn(regions=[shown_region]), _rules())) if template is not None else [])
    findings = {
        LintFinding(
            rule=m.rule.id,
            severity=str(getattr(m.rule, "severity", "")),
            line=int(m.linenumber or 0),
            path="/".join(str(part) for part in getattr(m, "path", None) or []),
            message=str(m.message),
        )
        for m in matches
    }
    return LintResult(__version__, shown_region, tuple(sorted(findings, key=lambda f: (f.line, f.rule, f.path, f.message))))


def section(result: LintResult, template_file: str, level: int) -> str:
    parts = [md.heading(level, "cfn-lint"), ""]
    if not result.version:
        return "\n".join(parts + [md.warn(True, "cfn-lint is not installed (pip install -r requirements-dev.txt): not run."), ""])
    intro = f"cfn-lint {md.text(result.version)} on {md.code(template_file)}, region {md.code(result.region)}"
    if not result.findings:
        return "\n".join(parts + [f"{intro}: no findings.", ""])
    parts += [f"{intro}: {md.warn(True, f'{len(result.findings)} findings')}.", ""]
    parts.append(md.table(
        ["Rule", "Severity", "Line", "Path", "Message"],
        ([md.code(f.rule), md.text(f.severity), str(f.line), md.code(f.path), md.text(f.message)] for f in result.findings),
    ))
    parts.append("")
    return "\n".join(parts)
